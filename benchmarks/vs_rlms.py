"""rlm-graph against the reference implementation (``rlms`` on PyPI), whole processes, one run.

    .venv/bin/python benchmarks/vs_rlms.py                  # Markdown tables for BENCHMARKS.md
    .venv/bin/python benchmarks/vs_rlms.py --rlms-venv /tmp/rlmsvenv --json raw.json
    .venv/bin/python benchmarks/vs_rlms.py --src /tmp/old   # an exported tree, e.g. git archive

1. Startup: ``rlm-graph --help``, an argument error, and a full ``rlm-graph ask --json`` on a
   small context against a zero-latency fake server; ``python -c "import rlm"`` and a full rlms
   completion as the reference rows.
2. Fan-out: the same ``--calls`` sub-calls (65) at ``--latency`` seconds (0.2) each on one fake
   server (benchmarks/fake_openai_server.py, run in this process). Our CLI runs at its default
   settings (only --model/--base-url/--context/--json), rlms with ``llm_query_batched`` at its
   defaults. The latency is applied to sub-calls only (``--latency-all``: to every request), so
   the two root turns each side makes cost no sleep and the wall time is fan-out plus each
   system's own overhead.

rlms (``rlms==0.1.3``) is installed into its own venv on first use (default
``~/.cache/rlm_graph-bench/rlms-venv``) and driven by a small script written to a temp file that
uses its public API. Both systems must return the planted code; runs that do not are reported,
not timed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported in main(), after --src has chosen which rlm_graph to load
    from fake_openai_server import FakeOpenAIServer, RequestRecord

    from rlm_graph.context import Chunking

RLMS_VERSION = "0.1.3"
MODEL = "bench-model"
QUESTION = "What is the vault access code?"  # rlm_graph.samples' default needle and question
ANSWER = "7391-ALPHA"
SMALL_CHARS = 30_000  # the startup run's context: a few chunks
STARTUP_CALLS = 4  # sub-calls the fake rlms root makes on the small context
NEEDLE_POSITION = 0.5  # well inside the first --calls chunks even if the file has a few more

# Run by the rlms venv's Python: rlms' public API, pointed at the fake server, quiet.
RLMS_DRIVER = """\
import json
import sys

from rlm import RLM

base_url, model, context_path, question = sys.argv[1:5]
with open(context_path, encoding="utf-8") as f:
    context = f.read()
rlm = RLM(
    backend="openai",
    backend_kwargs={"model_name": model, "base_url": base_url, "api_key": "not-needed"},
    verbose=False,
)
result = rlm.completion(context, root_prompt=question)
print(json.dumps({"answer": str(result.response)}))
"""

RLMS_DEFAULTS_PROBE = """\
import importlib.metadata, inspect, json
from rlm.core.lm_handler import LMHandler
from rlm.core.rlm import RLM
print(json.dumps({
    "version": importlib.metadata.version("rlms"),
    "batch_max_concurrent": inspect.signature(LMHandler.__init__)
        .parameters["batch_max_concurrent"].default,
    "max_concurrent_subcalls": inspect.signature(RLM.__init__)
        .parameters["max_concurrent_subcalls"].default,
}))
"""


@dataclass
class Run:
    label: str
    seconds: float
    returncode: int
    answer: str | None
    ok: bool
    note: str = ""
    served: bool = False  # ran against the fake server
    # From the fake server's record of this run.
    by_kind: dict[str, int] = field(default_factory=dict)
    subcalls: int = 0
    subcall_span: float | None = None
    peak_in_flight: int = 0
    timeline: dict[str, Any] = field(default_factory=dict)


def timeline(records: list[RequestRecord], started: float, ended: float) -> dict[str, Any]:
    """Where a run's wall time went, from the server's clock (the same as ours: in-process)."""
    from fake_openai_server import ROOT_KINDS, SUB_KINDS

    if not records:
        return {}
    records = sorted(records, key=lambda r: r.arrival)
    roots = [r for r in records if r.kind in ROOT_KINDS]
    subs = [r for r in records if r.kind in SUB_KINDS]
    out: dict[str, Any] = {
        "first_request_after": records[0].arrival - started,
        "root_seconds": sum(r.done - r.arrival for r in roots),
        "exit_after_last_response": ended - max(r.done for r in records),
        "root_prompt_chars": sum(r.prompt_chars for r in roots),
        "sub_prompt_chars": sum(r.prompt_chars for r in subs),
    }
    if subs:
        first_sub, last_done = subs[0].arrival, max(r.done for r in subs)
        before = [r.done for r in roots if r.done <= first_sub]
        after = [r.arrival for r in roots if r.arrival >= last_done]
        out["root_to_first_subcall"] = first_sub - max(before) if before else None
        out["last_subcall_to_root"] = min(after) - last_done if after else None
    return out


def child_env(home: Path, src: Path | None) -> dict[str, str]:
    """The caller's environment without real credentials or endpoints (nothing real is called),
    our checkpoints in a scratch folder instead of the user's, and --src first on the path."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "ANTHROPIC_", "OPENROUTER_", "PORTKEY_", "GEMINI_"))
    }
    env["RLM_GRAPH_HOME"] = str(home)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    return env


def run_process(
    label: str,
    cmd: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    server: FakeOpenAIServer | None = None,
    expect_code: int = 0,
    parse_answer: bool = False,
    timeout: float = 300,
) -> Run:
    from fake_openai_server import summarize

    if server is not None:
        server.reset()
    started = time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, check=False
    )
    ended = time.perf_counter()
    answer = None
    ok = proc.returncode == expect_code
    note = "" if ok else f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
    if parse_answer and ok:
        try:
            answer = json.loads(proc.stdout.strip().splitlines()[-1])["answer"]
        except (json.JSONDecodeError, IndexError, KeyError, TypeError):
            note = f"no JSON answer on stdout: {proc.stdout.strip()[-200:]!r}"
        ok = answer is not None and answer.strip() == ANSWER
        if answer is not None and not ok:
            note = f"wrong answer {answer!r}"
    run = Run(label, ended - started, proc.returncode, answer, ok, note=note)
    if server is not None:
        records = server.records()
        stats = summarize(records)
        run.served = True
        run.by_kind = stats["by_kind"]
        run.subcalls = stats["subcalls"]
        run.subcall_span = stats["subcall_span"]
        run.peak_in_flight = stats["peak_subcalls_in_flight"]
        run.timeline = timeline(records, started, ended)
    return run


def ensure_rlms(venv: Path) -> Path:
    """The rlms venv's Python, creating the venv and installing the pinned rlms if needed."""
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    probe = [str(python), "-c", "import importlib.metadata as m; print(m.version('rlms'))"]
    if python.exists():
        found = subprocess.run(probe, capture_output=True, text=True, check=False)
        if found.returncode == 0 and found.stdout.strip() == RLMS_VERSION:
            return python
    print(f"installing rlms=={RLMS_VERSION} into {venv} ...", file=sys.stderr, flush=True)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"rlms=={RLMS_VERSION}"], check=True
    )
    return python


def rlms_defaults(python: Path) -> dict[str, Any]:
    """rlms' default concurrency, read from the installed package's signatures."""
    out = subprocess.run(
        [str(python), "-c", RLMS_DEFAULTS_PROBE], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def our_defaults(base_url: str) -> tuple[int, str, Chunking]:
    """The CLI's default concurrency (and where it comes from) and the default chunking, asked
    of the code rather than assumed: both are being tuned."""
    from rlm_graph import RLM
    from rlm_graph.cli import build_parser

    args = build_parser().parse_args(["ask", "q", "--context", "x"])
    rlm = RLM(model=MODEL, base_url=base_url)
    if getattr(args, "concurrency", None) is not None:
        concurrency, source = args.concurrency, "the CLI's --concurrency default"
    else:
        concurrency, source = rlm.limiter.limit, "the library's default for this model"
    return concurrency, source, rlm.runtime().chunking_for_view()


def write_haystack(path: Path, text: Callable[[int], str], calls: int, chunking: Chunking) -> int:
    """A haystack of exactly ``calls`` chunks at our default chunking (so our planner's CALLs
    read the whole file, as rlms' slices do), or failing that the smallest with more."""
    from rlm_graph.context import open_context

    # Aim a little under the last chunk's end: generated text and snapped edges run over.
    chars = (calls - 1) * chunking.stride + chunking.chunk_bytes // 2
    fallback: int | None = None
    for _ in range(20):
        path.write_text(text(chars), encoding="utf-8")
        count = open_context(str(path)).chunk_count(chunking)
        if count == calls:
            return count
        if count > calls:
            fallback = chars if fallback is None else min(fallback, chars)
            chars -= max(200, (count - calls) * chunking.stride // 2)
        else:
            chars += max(200, (calls - count) * chunking.stride // 2)
    if fallback is None:
        raise RuntimeError(f"could not make a haystack with {calls} chunks")
    path.write_text(text(fallback), encoding="utf-8")
    return open_context(str(path)).chunk_count(chunking)


def source_note(package_file: str) -> str:
    """Which rlm_graph ran: its folder, and the commit when it is a git checkout."""
    root = Path(package_file).resolve().parent.parent

    def git(*args: str) -> str:
        proc = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
        return proc.stdout.strip() if proc.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return f"rlm_graph from {root}"
    dirty = " + uncommitted changes" if git("status", "--porcelain", "--", "rlm_graph") else ""
    return f"rlm_graph from {root} at {commit}{dirty}"


# -- numbers and tables


def best_median(values: list[float | None]) -> tuple[float | None, float | None]:
    present = [v for v in values if v is not None]
    if not present:
        return None, None
    return min(present), statistics.median(present)


def fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def kinds(by_kind: dict[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(by_kind.items())) or "none"


def answer_cell(runs: list[Run]) -> str:
    bad = [r for r in runs if not r.ok]
    if not bad:
        return f"right in {len(runs)}/{len(runs)}" if runs[0].answer else "ok"
    return f"**FAILED {len(bad)}/{len(runs)}**: {bad[0].note}"


def timed(runs: list[Run]) -> list[Run]:
    """Only runs that did what they should count towards the timings."""
    return [r for r in runs if r.ok]


def repeat(n: int, make: Callable[[], Run]) -> list[Run]:
    make()  # warm-up: first runs pay for cold file caches and .pyc writes
    return [make() for _ in range(n)]


def startup_table(rows: list[tuple[str, str, list[Run]]], repeats: int) -> str:
    lines = [
        f"### Startup: whole processes, wall time, best and median of {repeats} "
        "(after one warm-up run)\n",
        "| what | command | exit | best (s) | median (s) | requests to the fake server "
        "| first request after (s) | result |",
        "|---|---|---:|---:|---:|---|---:|---|",
    ]
    for what, command, runs in rows:
        good = timed(runs)
        best, median = best_median([r.seconds for r in good])
        first = best_median([r.timeline.get("first_request_after") for r in good])[0]
        requests = kinds(runs[-1].by_kind) if runs[-1].served else "—"
        lines.append(
            f"| {what} | `{command}` | {runs[-1].returncode} | {fmt(best)} | {fmt(median)} "
            f"| {requests} | {fmt(first)} | {answer_cell(runs)} |"
        )
    return "\n".join(lines)


def summarize_runs(runs: list[Run]) -> dict[str, Any]:
    good = timed(runs)
    fastest = min(good, key=lambda r: r.seconds) if good else None
    return {
        "wall": best_median([r.seconds for r in good]),
        "span": best_median([r.subcall_span for r in good]),
        "subcalls": sorted({r.subcalls for r in runs}),
        "peak": max((r.peak_in_flight for r in good), default=0),
        "requests": kinds(runs[-1].by_kind),
        "fastest": fastest,
        "answer": answer_cell(runs),
    }


def comparison_tables(
    ours: list[Run],
    theirs: list[Run],
    *,
    calls: int,
    latency: float,
    repeats: int,
    our_name: str,
    our_concurrency: tuple[int, str],
    rlms_info: dict[str, Any],
) -> tuple[str, dict[str, Any]]:
    s_ours, s_rlms = summarize_runs(ours), summarize_runs(theirs)

    def ratio(a: float | None, b: float | None) -> str:
        return "—" if a is None or not b else f"{a / b:.2f}x"

    rows = [
        (our_name, "`--model M --base-url URL --context FILE --json`, nothing else", s_ours),
        (f"rlms {rlms_info['version']}, `llm_query_batched`", "defaults", s_rlms),
    ]
    lines = [
        f"### Fan-out: {calls} sub-calls at {latency:g} s each, one fake server, whole processes "
        f"(best / median of {repeats}, after one warm-up run each)\n",
        "| system | flags | wall (s) | sub-call span (s) | sub-calls seen "
        "| peak sub-calls in flight | all requests | wall / rlms | span / rlms | answer |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    for name, flags, s in rows:
        lines.append(
            f"| {name} | {flags} | {fmt(s['wall'][0])} / {fmt(s['wall'][1])} "
            f"| {fmt(s['span'][0])} / {fmt(s['span'][1])} "
            f"| {'/'.join(map(str, s['subcalls']))} | {s['peak']} | {s['requests']} "
            f"| {ratio(s['wall'][0], s_rlms['wall'][0])} "
            f"| {ratio(s['span'][0], s_rlms['span'][0])} | {s['answer']} |"
        )

    ours_c, ours_source = our_concurrency
    rlms_c = rlms_info["batch_max_concurrent"]
    lines += [
        "",
        "Ratios compare best with best. Ideal span = ceil(calls / concurrency) x latency.",
        "",
        "| system | default sub-call concurrency | ideal span (s) | best span / ideal |",
        "|---|---|---:|---:|",
    ]
    for name, conc, source, s in [
        (our_name, ours_c, ours_source, s_ours),
        ("rlms", rlms_c, "`LMHandler(batch_max_concurrent=...)` default", s_rlms),
    ]:
        ideal = math.ceil(calls / conc) * latency
        lines.append(f"| {name} | {conc} ({source}) | {ideal:.2f} | {ratio(s['span'][0], ideal)} |")

    lines += [
        "",
        "Where the wall time of each side's fastest run went (server timestamps, seconds):",
        "",
        "| system | start → first request | root turns at the server | root turn → first "
        "sub-call | sub-call span | last sub-call → next root turn | last response → exit "
        "| wall | prompt chars sent, root / sub-calls |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, _, s in rows:
        run = s["fastest"]
        if run is None:
            continue
        t = run.timeline
        lines.append(
            f"| {name} | {fmt(t.get('first_request_after'))} | {fmt(t.get('root_seconds'), 3)} "
            f"| {fmt(t.get('root_to_first_subcall'), 3)} | {fmt(run.subcall_span)} "
            f"| {fmt(t.get('last_subcall_to_root'), 3)} "
            f"| {fmt(t.get('exit_after_last_response'), 3)} | {fmt(run.seconds)} "
            f"| {t.get('root_prompt_chars', 0):,} / {t.get('sub_prompt_chars', 0):,} |"
        )
    for s in (s_ours, s_rlms):
        s["fastest"] = asdict(s["fastest"]) if s["fastest"] else None
    return "\n".join(lines), {"ours": s_ours, "rlms": s_rlms}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed fan-out runs per side (3)")
    parser.add_argument("--startup-repeats", type=int, default=5, help="timed runs per row (5)")
    parser.add_argument("--calls", type=int, default=65, help="sub-calls (65)")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per sub-call (0.2)")
    parser.add_argument(
        "--latency-all", action="store_true", help="sleep on root turns too, not only sub-calls"
    )
    parser.add_argument(
        "--rlms-venv",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        / "rlm_graph-bench"
        / "rlms-venv",
        help="venv holding rlms (created if missing; default: %(default)s)",
    )
    parser.add_argument(
        "--src",
        type=Path,
        help="benchmark the rlm_graph package in this folder (run as python -m rlm_graph.cli)",
    )
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="PATH",
        help="also dump the raw numbers as JSON (to PATH, or after the tables)",
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.src is not None:
        args.src = args.src.resolve()
        if not (args.src / "rlm_graph" / "__init__.py").exists():
            sys.exit(f"--src {args.src} has no rlm_graph package")
        sys.path.insert(0, str(args.src))  # before anything imports rlm_graph
    # The fake server and the sample text come from the rlm_graph under test: the server
    # classifies requests by that version's prompts.
    from fake_openai_server import FakeOpenAIServer

    import rlm_graph
    from rlm_graph.samples import DEFAULT_ANSWER, DEFAULT_QUESTION, make_haystack

    if (DEFAULT_QUESTION, DEFAULT_ANSWER) != (QUESTION, ANSWER):
        sys.exit("rlm_graph.samples changed its needle; update QUESTION and ANSWER here")

    if args.src is None:
        cli = [str(Path(sys.executable).with_name("rlm-graph"))]
        our_name = "rlm-graph ask"
        if not Path(cli[0]).exists():
            sys.exit(f"no rlm-graph next to {sys.executable}; run with the project's venv Python")
    else:
        cli = [sys.executable, "-m", "rlm_graph.cli"]  # the venv's script may not match --src
        our_name = "python -m rlm_graph.cli ask"
    shown = "rlm-graph" if args.src is None else "python -m rlm_graph.cli"

    rlms_python = ensure_rlms(args.rlms_venv)
    rlms_info = rlms_defaults(rlms_python)

    bench_started = time.perf_counter()
    server = FakeOpenAIServer(latency=0.0, calls=STARTUP_CALLS)
    base_url = server.start()
    with tempfile.TemporaryDirectory(prefix="rlm-bench-") as tmp_name:
        tmp = Path(tmp_name)
        env = child_env(tmp / "home", args.src)
        driver = tmp / "rlms_driver.py"
        driver.write_text(RLMS_DRIVER, encoding="utf-8")
        small = tmp / "small.txt"
        small.write_text(make_haystack(SMALL_CHARS), encoding="utf-8")
        big = tmp / "haystack.txt"
        concurrency, source, chunking = our_defaults(base_url)
        chunks = write_haystack(
            big, lambda n: make_haystack(n, position=NEEDLE_POSITION), args.calls, chunking
        )
        big_bytes = big.stat().st_size
        ask = [*cli, "ask", QUESTION, "--model", MODEL, "--base-url", base_url]
        rlms_cmd = [str(rlms_python), str(driver), base_url, MODEL]
        n = args.startup_repeats

        def proc(label: str, cmd: list[str], **kw: Any) -> Callable[[], Run]:
            return lambda: run_process(label, cmd, env=env, cwd=tmp, **kw)

        # 1. Startup, with a zero-latency server.
        served = {"server": server, "parse_answer": True}
        startup = [
            (
                f"{shown} --help",
                f"{shown} --help",
                repeat(n, proc("help", [*cli, "--help"])),
            ),
            (
                f"{shown} argument error",
                f"{shown} ask Q --context small.txt --concurrency 0",
                repeat(
                    n,
                    proc(
                        "argerror",
                        [*cli, "ask", "Q", "--context", str(small), "--concurrency", "0"],
                        expect_code=2,
                    ),
                ),
            ),
            (
                f"{shown} full ask, {SMALL_CHARS:,}-char context, zero latency",
                f"{shown} ask Q --context small.txt --model M --base-url URL --json",
                repeat(n, proc("ask-small", [*ask, "--context", str(small), "--json"], **served)),
            ),
            (
                "reference: rlms import",
                'python -c "import rlm"',
                repeat(n, proc("rlms-import", [str(rlms_python), "-c", "import rlm"])),
            ),
            (
                f"reference: rlms full completion, {SMALL_CHARS:,}-char context, "
                f"{STARTUP_CALLS} sub-calls, zero latency",
                "python rlms_driver.py URL M small.txt Q",
                repeat(n, proc("rlms-small", [*rlms_cmd, str(small), QUESTION], **served)),
            ),
        ]

        # 2. Fan-out: both on the same server, interleaved so machine noise hits both alike.
        server.latency = args.latency
        server.subcalls_only = not args.latency_all
        server.calls = args.calls
        our_run = proc("ours", [*ask, "--context", str(big), "--json"], **served)
        rlms_run = proc("rlms", [*rlms_cmd, str(big), QUESTION], **served)
        our_run(), rlms_run()  # warm-up
        ours: list[Run] = []
        theirs: list[Run] = []
        for _ in range(args.repeats):
            ours.append(our_run())
            theirs.append(rlms_run())
        for run in ours + theirs:
            if run.ok and run.subcalls != args.calls:  # a different workload: not comparable
                run.ok = False
                run.note = f"{run.subcalls} sub-calls, expected {args.calls}"
    server.stop()
    total = time.perf_counter() - bench_started

    tables, summaries = comparison_tables(
        ours,
        theirs,
        calls=args.calls,
        latency=args.latency,
        repeats=args.repeats,
        our_name=our_name,
        our_concurrency=(concurrency, source),
        rlms_info=rlms_info,
    )
    latency_note = "on every request" if args.latency_all else "on sub-calls only"
    print(
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.platform()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"{source_note(rlm_graph.__file__)}; rlms {rlms_info['version']}; "
        f"whole benchmark {total:.0f} s.\n"
    )
    print(startup_table(startup, n))
    print()
    print(
        f"Context: {big_bytes:,} bytes, {chunks} chunks at our default chunking "
        f"({chunking.chunk_tokens} tokens, {chunking.overlap_tokens} overlap); the fake planner "
        f"calls chunk:0 to chunk:{args.calls - 1}, the fake rlms root splits `context` into "
        f"{args.calls} slices. Latency {args.latency:g} s {latency_note}. Sub-call span = last "
        "sub-call response - first sub-call arrival, at the server. Our CLI runs with "
        "RLM_GRAPH_HOME in a scratch folder (its default SQLite checkpoints stay on).\n"
    )
    print(tables)

    if args.json:
        raw = {
            "args": {k: str(v) for k, v in vars(args).items()},
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
            "rlm_graph": source_note(rlm_graph.__file__),
            "rlms": rlms_info,
            "ours": {"concurrency": concurrency, "source": source, "chunks": chunks},
            "startup": {what: [asdict(r) for r in runs] for what, _, runs in startup},
            "fanout": {
                "ours": [asdict(r) for r in ours],
                "rlms": [asdict(r) for r in theirs],
                "summary": summaries,
            },
        }
        text = json.dumps(raw, indent=2, default=str)
        if args.json == "-":
            print(f"\n```json\n{text}\n```")
        else:
            Path(args.json).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
