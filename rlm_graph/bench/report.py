"""A bench result as a table, a JSON file and (optionally) a plot."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

from rlm_graph.bench.options import BenchInputError
from rlm_graph.bench.results import BenchResult, BenchRow, BenchSettings, SampleResult

PLOT_EXTRA = "pip install 'rlm-graph[bench]' (or: pip install matplotlib)"
_COLUMNS = (
    ("task", "<"),
    ("length", ">"),
    ("method", "<"),
    ("n", ">"),
    ("accuracy", ">"),
    ("grounded", ">"),
    ("false gr", ">"),
    ("recall", ">"),
    ("text tok", ">"),
    ("in tok", ">"),
    ("read", ">"),
    ("out tok", ">"),
    ("calls", ">"),
    ("seconds", ">"),
    ("seen", ">"),
    ("errors", ">"),
)


def _cells(row: BenchRow) -> list[str]:
    return [
        row.task,
        row.length_label,
        row.method,
        str(row.samples),
        f"{row.accuracy:.2f}",
        f"{row.grounded:.2f}",
        "-" if row.false_grounded is None else f"{row.false_grounded:.2f}",
        "-" if row.recall is None else f"{row.recall:.2f}",
        f"{row.text_tokens:,.0f}",
        f"{row.input_tokens:,.0f}",
        "-" if row.read is None else f"{row.read:.1f}x",
        f"{row.output_tokens:,.0f}",
        f"{row.model_calls:.1f}",
        f"{row.seconds:.1f}",
        "-" if row.seen_fraction is None else f"{row.seen_fraction:.0%}",
        str(row.errors),
    ]


def format_table(result: BenchResult) -> str:
    """One line per task x length x method: accuracy, the share of answers grounded and of
    grounded answers that are wrong (``false gr``), recall, then means per sample (the text's
    tokens, input tokens and their multiple of the text, ``read``; output tokens, model calls,
    seconds), the share of the text read (direct / retrieve) and failed runs; totals at the
    end."""
    header = [name for name, _ in _COLUMNS]
    body = [_cells(row) for row in result.rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def render(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if align == "<" else cell.rjust(width)
            for cell, width, (_, align) in zip(cells, widths, _COLUMNS, strict=True)
        ).rstrip()

    lines = [render(header), render(["-" * w for w in widths])]
    previous: tuple[str, int] | None = None
    for row, cells in zip(result.rows, body, strict=True):
        if previous is not None and previous != (row.task, row.length):
            lines.append("")
        previous = (row.task, row.length)
        lines.append(render(cells))
    runs = len(result.samples)
    calls = sum(r.model_calls for r in result.samples)
    tokens_in = sum(r.input_tokens for r in result.samples)
    tokens_out = sum(r.output_tokens for r in result.samples)
    s = result.settings
    lines += [
        "",
        f"model {s.model} (window {s.window_tokens:,} tokens) | corpus {s.corpus} | seed {s.seed}",
        f"means per sample; total: {runs} runs, {calls:,} model calls, {tokens_in:,} tokens in, "
        f"{tokens_out:,} out, {result.seconds:,.1f}s"
        + ("" if result.complete else " (interrupted: partial results)"),
    ]
    return "\n".join(lines)


def default_out_path(now: dt.datetime | None = None) -> Path:
    """``rlm-bench-<timestamp>.json`` in the current folder (local time, to the second)."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    return Path(f"rlm-bench-{stamp}.json")


def check_out_path(path: str | os.PathLike[str]) -> Path:
    target = Path(path).expanduser()
    if target.is_dir():
        raise BenchInputError(f"--out {target} is a folder: give a file name")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise BenchInputError(f"--out folder does not exist: {parent}")
    return target


def save_json(result: BenchResult, path: str | os.PathLike[str]) -> Path:
    """Write the result atomically: a reader (or a crash) never sees half a file."""
    target = Path(path).expanduser()
    text = json.dumps(result.to_json(), indent=1, ensure_ascii=False)
    fd, tmp = tempfile.mkstemp(prefix=".rlm-bench-", suffix=".json", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


# Settings that change what a sample is or how it is answered: a resumed run must match them.
RESUME_KEYS = (
    "model",
    "sub_model",
    "window_tokens",
    "corpus",
    "seed",
    "needles",
    "max_depth",
    "max_calls",
    "sub_window",
    "judge_model",
)


def load_for_resume(path: Path, settings: BenchSettings) -> list[SampleResult]:
    """The samples an earlier run saved in ``path``, to keep and not run again; [] when the file
    does not exist yet. A file from other settings is refused, never mixed in."""
    if not path.exists():
        return []
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        earlier = [SampleResult.model_validate(r) for r in saved.get("results", [])]
    except (OSError, ValueError) as exc:
        raise BenchInputError(f"--resume: cannot read {path}: {exc}") from exc
    now = settings.model_dump()
    differ = [key for key in RESUME_KEYS if saved.get(key) != now.get(key)]
    if (
        saved.get("code_corpus")
        and settings.code_corpus
        and saved["code_corpus"] != settings.code_corpus
    ):
        differ.append("code_corpus")
    if differ:
        shown = ", ".join(f"{key} {saved.get(key)!r} there, {now.get(key)!r} now" for key in differ)
        raise BenchInputError(f"--resume: {path} holds a run with other settings ({shown})")
    return earlier


def check_plotting() -> None:
    """Refuse --plot before a long run when matplotlib is not installed."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise BenchInputError(f"--plot needs matplotlib: {PLOT_EXTRA}")


def plot(result: BenchResult, path: str | os.PathLike[str]) -> Path:
    """Accuracy and input tokens per sample against length, one line per method, one row of
    two panels per task."""
    check_plotting()
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    tasks = list(dict.fromkeys(row.task for row in result.rows))
    methods = list(dict.fromkeys(row.method for row in result.rows))
    fig, axes = plt.subplots(
        len(tasks), 2, figsize=(11, 3.6 * len(tasks)), squeeze=False, constrained_layout=True
    )
    for t, task in enumerate(tasks):
        for method in methods:
            rows = sorted(
                (r for r in result.rows if r.task == task and r.method == method),
                key=lambda r: r.length,
            )
            if not rows:
                continue
            x = [r.length for r in rows]
            axes[t][0].plot(x, [r.accuracy for r in rows], marker="o", label=method)
            axes[t][1].plot(x, [r.input_tokens for r in rows], marker="o", label=method)
        lengths = sorted({(r.length, r.length_label) for r in result.rows if r.task == task})
        for ax, ylabel in zip(axes[t], ("accuracy", "input tokens per sample"), strict=True):
            ax.set_xscale("log")
            # Ticks at the measured lengths, labelled as the user wrote them (8k, 4x).
            ax.set_xticks([n for n, _ in lengths], [label for _, label in lengths])
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel("length (tokens)")
            ax.set_ylabel(ylabel)
            ax.set_title(task)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize="small")
        axes[t][0].set_ylim(-0.05, 1.05)
        axes[t][1].set_yscale("log")
        axes[t][1].yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        axes[t][1].yaxis.set_minor_formatter(NullFormatter())
    fig.suptitle(f"rlm-graph bench: {result.settings.model}, corpus {result.settings.corpus}")
    target = Path(path).expanduser()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target
