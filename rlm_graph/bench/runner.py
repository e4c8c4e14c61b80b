"""``run_bench``: every task x length x sample, answered by every method, scored and saved.

Samples are generated once and every method answers the same text. Methods run one after
another (the wall seconds of one are not shared with another). A failing model call or method
is a wrong answer with its error recorded, never the end of the run; the JSON file (``out``) is
rewritten after every sample, so an interrupted run keeps what it measured.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlm_graph.bench import report
from rlm_graph.bench.code_tasks import CodeTree, load_code_corpus
from rlm_graph.bench.corpus import Corpus, load_corpus, sentences
from rlm_graph.bench.methods import MethodOutcome, MethodSetup, run_method
from rlm_graph.bench.options import (
    BenchInputError,
    check_needles,
    parse_lengths,
    parse_methods,
    parse_tasks,
)
from rlm_graph.bench.parts import check_parts
from rlm_graph.bench.progress import BenchProgress
from rlm_graph.bench.results import (
    ANSWER_CHARS,
    BenchResult,
    BenchSettings,
    SampleResult,
    aggregate,
)
from rlm_graph.bench.scoring import score_answer
from rlm_graph.bench.tasks import TaskSample, generate_sample

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from rlm_graph.models import ResolvedModel

RETRIEVE_EXTRA = "pip install 'rlm-graph[bench]' (or: pip install bm25s)"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rlm-graph")
    except PackageNotFoundError:
        return ""


def cold_start(setup: MethodSetup) -> MethodSetup:
    """The setup on freshly started embedded servers, so every run reads cold, as a first run
    on a new text does: llama.cpp keeps earlier prompts in memory (``cache_ram``) and would
    hand one method what another already read, for free. Other models are left as they are."""
    from dataclasses import replace

    from rlm_graph.models import resolve_model
    from rlm_graph.models.local import get_local_server

    models = {"root": setup.root, "sub": setup.sub}
    local = {key: m for key, m in models.items() if m.name.startswith("local:") and m.spec}
    if not local:
        return setup
    for model in local.values():
        get_local_server(model.name.removeprefix("local:")).stop()
    fresh = {}
    for key, model in local.items():
        # The same server (root and sub on one variant) is resolved once.
        same = next((f for k, f in fresh.items() if local[k].name == model.name), None)
        fresh[key] = same or resolve_model(model.spec, timeout=model.timeout)
    return replace(setup, **fresh)


def _error_text(exc: BaseException) -> str:
    from rlm_graph.secrets import redact

    first = (str(exc).strip().splitlines() or [""])[0]
    return redact(f"{type(exc).__name__}: {first}")[:300]


def _result(
    sample: TaskSample,
    label: str,
    method: str,
    samples: int,
    outcome: MethodOutcome,
    seconds: float,
) -> SampleResult:
    score = score_answer(sample, outcome.answer)
    answer = outcome.answer
    if answer is not None and len(answer) > ANSWER_CHARS:
        answer = answer[:ANSWER_CHARS] + " [...]"
    return SampleResult(
        task=sample.task,
        length=sample.length,
        length_label=label,
        method=method,
        sample=sample.index + 1,
        samples=samples,
        question=sample.question,
        truth=sample.answer,
        answer=answer,
        correct=score.correct,
        recall=score.recall,
        parsed=score.parsed,
        grounded=outcome.grounded,
        false_grounded=None if outcome.grounded is None else outcome.grounded and not score.correct,
        input_tokens=outcome.input_tokens,
        output_tokens=outcome.output_tokens,
        model_calls=outcome.model_calls,
        seconds=round(seconds, 3),
        status=outcome.status,
        error=outcome.error,
        route=outcome.route,
        calls_by_kind=outcome.calls_by_kind,
        seen_tokens=outcome.seen_tokens,
        seen_fraction=outcome.seen_fraction,
        chunks_used=outcome.chunks_used,
        chunks_total=outcome.chunks_total,
        text_tokens=sample.tokens,
        text_chars=sample.chars,
        corpus_offset=sample.corpus_offset,
        corpus_repeats=sample.corpus_repeats,
        shape=sample.shape,
        paraphrased=sample.paraphrased,
        distractor=sample.distractor,
        expected=sample.expected,
        needles=sample.needles,
        count=sample.count,
        records=sample.records,
        parts=sample.parts,
        code=sample.code,
    )


async def arun_bench(
    *,
    tasks: str | Iterable[str] | None = None,
    lengths: str | int | Iterable[str | int] | None = None,
    methods: str | Iterable[str] | None = None,
    samples: int = 3,
    model: str | BaseChatModel | ResolvedModel = "local",
    sub_model: str | BaseChatModel | ResolvedModel | None = None,
    base_url: str | None = None,
    corpus: str | os.PathLike[str] | Corpus | None = None,
    code_corpus: str | os.PathLike[str] | CodeTree | None = None,
    seed: int = 0,
    needles: int = 3,
    max_depth: int = 1,
    max_calls: int = 100,
    sub_window: int | None = None,
    timeout: float | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    plot: str | os.PathLike[str] | None = None,
    quiet: bool = True,
    concurrency: int | None = None,
    judge_model: str | None = None,
    rlm_options: dict[str, Any] | None = None,
    on_sample: Callable[[SampleResult], None] | None = None,
    progress: BenchProgress | None = None,
) -> BenchResult:
    """The async form of :func:`run_bench` (same arguments)."""
    inputs = _checked_inputs(
        tasks, lengths, methods, samples, needles, plot, out, resume, corpus, code_corpus
    )
    task_names, method_names, length_specs = inputs.tasks, inputs.methods, inputs.lengths
    text, code_tree, out_path = inputs.corpus, inputs.code_tree, inputs.out_path
    progress = progress or BenchProgress(enabled=not quiet)

    from rlm_graph.models import resolve_model

    shown = model if isinstance(model, str) else getattr(model, "name", type(model).__name__)
    progress.note(f"loading model {shown} ...")
    root = resolve_model(model, base_url=base_url, timeout=timeout)
    sub = (
        root if sub_model is None else resolve_model(sub_model, base_url=base_url, timeout=timeout)
    )
    setup = MethodSetup(
        root=root,
        sub=sub,
        max_depth=max_depth,
        max_calls=max_calls,
        sub_window=sub_window,
        concurrency=concurrency,
        rlm_options={
            **(rlm_options or {}),
            **({"judge_model": judge_model} if judge_model else {}),
        },
    )
    resolved = [(spec.label, spec.resolve(root.window_tokens)) for spec in length_specs]
    settings = BenchSettings(
        model=root.name,
        sub_model=sub.name,
        window_tokens=root.window_tokens,
        corpus=text.name,
        corpus_tokens=text.tokens,
        code_corpus=code_tree.name if code_tree is not None else None,
        seed=seed,
        samples=samples,
        lengths=[label for label, _ in resolved],
        length_tokens=[tokens for _, tokens in resolved],
        tasks=task_names,
        methods=method_names,
        needles=needles,
        max_depth=max_depth,
        max_calls=max_calls,
        sub_window=sub_window,
        judge_model=judge_model,
        date=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        rlm_graph_version=_version(),
    )
    result = BenchResult(settings=settings, complete=False)
    if resume and out_path is not None:
        result.samples = report.load_for_resume(out_path, settings)
        result.rows = aggregate(result.samples)
    done = {(r.task, r.length_label, r.method, r.sample) for r in result.samples}
    progress.note(
        f"model {root.name} (window {root.window_tokens:,} tokens) | corpus {text.describe()} | "
        f"{len(task_names) * len(resolved) * samples * len(method_names)} runs"
    )
    for label, tokens in resolved:
        if tokens > text.tokens:
            progress.note(
                f"the corpus (~{text.tokens:,} tokens) is shorter than {label} ({tokens:,} "
                "tokens): samples of that length repeat it, after a marker line"
            )
    started = time.perf_counter()
    try:
        for task in task_names:
            for label, tokens in resolved:
                for index in range(samples):
                    sample = generate_sample(
                        task, text, tokens, index, seed=seed, needles=needles, code_corpus=code_tree
                    )
                    for method in method_names:
                        if (task, label, method, index + 1) in done:
                            continue  # measured by the run this one resumes
                        setup = cold_start(setup)
                        what = f"{task} {label} {method} sample {index + 1}/{samples}"
                        outcome, seconds = await _measure(method, setup, sample, progress, what)
                        row = _result(sample, label, method, samples, outcome, seconds)
                        result.samples.append(row)
                        result.rows = aggregate(result.samples)
                        result.seconds = time.perf_counter() - started
                        progress.sample_done(row)
                        if on_sample is not None:
                            on_sample(row)
                        if out_path is not None:
                            report.save_json(result, out_path)
        result.complete = True
    finally:
        # Interrupted or not, what was measured is saved.
        result.rows = aggregate(result.samples)
        result.seconds = time.perf_counter() - started
        if out_path is not None:
            report.save_json(result, out_path)
    if plot is not None:
        report.plot(result, plot)
    return result


@dataclass(frozen=True)
class _Inputs:
    """What a bench run was asked for, checked before any model starts."""

    tasks: list[str]
    methods: list[str]
    lengths: list[Any]
    corpus: Corpus
    code_tree: CodeTree | None
    out_path: Path | None


def _checked_inputs(
    tasks: str | Iterable[str] | None,
    lengths: str | int | Iterable[str | int] | None,
    methods: str | Iterable[str] | None,
    samples: int,
    needles: int,
    plot: str | os.PathLike[str] | None,
    out: str | os.PathLike[str] | None,
    resume: bool,
    corpus: str | os.PathLike[str] | Corpus | None,
    code_corpus: str | os.PathLike[str] | CodeTree | None,
) -> _Inputs:
    # Everything a user can get wrong is checked before a model starts.
    task_names = parse_tasks(tasks)
    method_names = parse_methods(methods)
    length_specs = parse_lengths(lengths)
    check_needles(needles)
    if samples < 1:
        raise BenchInputError(f"--samples must be at least 1, got {samples}")
    if "retrieve" in method_names and importlib.util.find_spec("bm25s") is None:
        raise BenchInputError(f"the retrieve method needs bm25s: {RETRIEVE_EXTRA}")
    if plot is not None:
        report.check_plotting()
    out_path = report.check_out_path(out) if out is not None else None
    if resume and out_path is None:
        raise BenchInputError("--resume needs --out: the results file to go on from")
    text = corpus if isinstance(corpus, Corpus) else load_corpus(corpus)
    if "count" in task_names and not sentences(text):
        raise BenchInputError(f"corpus {text.name} has no sentences or lines to make records of")
    if "per-part" in task_names:
        check_parts(text)
    code_tree: CodeTree | None = None
    if "code" in task_names:
        code_tree = (
            code_corpus if isinstance(code_corpus, CodeTree) else load_code_corpus(code_corpus)
        )

    return _Inputs(
        tasks=task_names,
        methods=method_names,
        lengths=length_specs,
        corpus=text,
        code_tree=code_tree,
        out_path=out_path,
    )


async def _measure(
    method: str, setup: MethodSetup, sample: TaskSample, progress: BenchProgress, what: str
) -> tuple[MethodOutcome, float]:
    """One method on one sample, timed; a run that fails is data (an error outcome)."""
    async with progress.running(what) as watch:
        began = time.perf_counter()
        try:
            outcome = await run_method(method, setup, sample, watch)
        except Exception as exc:  # noqa: BLE001 - a failed run is data
            outcome = MethodOutcome(status="error", error=_error_text(exc))
        return outcome, time.perf_counter() - began


def run_bench(**kwargs: Any) -> BenchResult:
    """Run the bench and return a :class:`BenchResult` (``.rows``: aggregates, ``.samples``:
    one raw result per task x length x method x sample).

    Keywords mirror ``rlm-graph bench``'s flags: ``tasks``, ``lengths`` (``"8k"``, ``32000``,
    ``"4x"`` = 4 x the model's window; lists or comma strings), ``methods``, ``samples``,
    ``model`` / ``sub_model`` (spec strings, LangChain chat models or ``ResolvedModel``),
    ``base_url``, ``corpus`` (a path, a :class:`Corpus`, or None for Python's help topics),
    ``code_corpus`` (the ``code`` task's folder of ``.py`` files, a ``CodeTree``, or None for
    the standard library's ``asyncio``),
    ``seed``, ``needles``, ``max_depth``, ``max_calls``, ``sub_window``, ``timeout`` (seconds
    per model request), ``out`` (JSON file, rewritten after each sample), ``plot`` (PNG),
    ``resume`` (keep the samples already saved in ``out`` by a run with the same settings and
    run only the others), ``quiet`` (default True: no progress lines), ``judge_model`` (the
    RLM's reader for questions in other words). Also ``concurrency``, ``rlm_options`` (more
    ``RLM`` keywords, e.g. ``chunk_tokens``) and ``on_sample`` (called with each raw result).
    Bad arguments raise ``BenchInputError``; model setup problems ``ModelSetupError``.
    """
    from rlm_graph.sync import run_sync

    return run_sync(lambda: arun_bench(**kwargs))


__all__ = ["arun_bench", "run_bench"]
