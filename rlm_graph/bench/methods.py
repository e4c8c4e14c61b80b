"""The ways a bench answers a sample, all on the same models.

- ``rlm``: ``RLM(planner="model")`` as a user gets it (its direct route included: a text that
  fits the model's window is answered with one call, and the route is recorded). The ``code``
  task's source tree is passed as a folder, as a user passes one (the baselines read its files
  joined, each led by ``# file: PATH``).
- ``rlm-repl``: the same RLM with ``mode="repl"``: the model writes Python against ``context``
  in a sandbox (REPL mode plans in code whatever the text's size, so its route is recursive).
- ``map-reduce``: ``RLM(planner="map-reduce")``.
- ``direct``: the root model alone, one call, on the head of the text that fits its window
  (what a user has without this library). The text is cut at a line break; ``seen_fraction``
  says how much of it the model read.
- ``retrieve``: BM25 over the RLM's own chunks (``retrieval.py``), the best that fit one call.

``direct`` and ``retrieve`` read at most the root model's window less the leaf prompt's reserve
(what the RLM's own direct route reads) and ask with the RLM's leaf prompt, so the comparison
measures recursion and retrieval, not prompt wording.

Every outcome says whether its answer is *grounded*: backed by a passage found in the text
(``rlm`` / ``rlm-repl`` / ``map-reduce``: ``RLMResult.grounded``; ``direct`` / ``retrieve``: the leaf's
``verified``, False when it found nothing; None when the method failed).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from rlm_graph.bench.corpus import tokens_to_bytes
from rlm_graph.bench.tasks import TaskSample
from rlm_graph.tokens import dense_tokens, estimate_tokens

if TYPE_CHECKING:
    from rlm_graph.api import RLM
    from rlm_graph.configuration import RLMRuntime
    from rlm_graph.models import ResolvedModel

EventHandler = Callable[[dict[str, Any]], None]


class MethodOutcome(BaseModel):
    """What one method produced for one sample (before scoring)."""

    answer: str | None = None
    status: str = "done"
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    model_calls: int = 0
    route: str | None = None  # rlm / rlm-repl / map-reduce: the RLM's route (direct, recursive)
    grounded: bool | None = None  # a verified passage backs the answer; None: no run
    seen_tokens: int | None = None  # direct / retrieve: estimated tokens of text sent
    seen_fraction: float | None = None  # direct / retrieve: share of the input's bytes read
    chunks_used: int | None = None  # retrieve
    chunks_total: int | None = None  # retrieve
    # rlm / rlm-repl / map-reduce: model calls by what they were for (plan, leaf, sweep, ...),
    # so a saved run says which path did the work.
    calls_by_kind: dict[str, int] = Field(default_factory=dict)


@dataclass
class MethodSetup:
    """The models and RLM settings every method of a run shares."""

    root: ResolvedModel
    sub: ResolvedModel
    max_depth: int = 1
    max_calls: int = 100
    sub_window: int | None = None
    concurrency: int | None = None
    # More RLM keywords (chunk_tokens, action_format, ...).
    rlm_options: dict[str, Any] = field(default_factory=dict)

    def rlm(
        self,
        planner: str = "model",
        on_event: EventHandler | None = None,
        mode: str | None = None,
    ) -> RLM:
        """The RLM a method runs; ``mode`` (``"repl"``, ``"calls"``) overrides
        ``rlm_options``' own, if any."""
        from rlm_graph.api import RLM

        options = dict(self.rlm_options)
        if mode is not None:
            options["mode"] = mode
        return RLM(
            model=self.root,
            sub_model=self.sub,
            planner=planner,  # type: ignore[arg-type]
            max_depth=self.max_depth,
            max_calls=self.max_calls,
            sub_window_tokens=self.sub_window,
            concurrency=self.concurrency,
            checkpointer=None,  # memory: a bench keeps no threads
            on_event=on_event,
            **options,
        )

    @cached_property
    def runtime(self) -> RLMRuntime:
        """The RLM's runtime: its chunking, its reading budget and its concurrency limit."""
        return self.rlm().runtime()

    @property
    def reading_tokens(self) -> int:
        """Tokens of text one call of the root model may read: its window less the leaf
        prompt's reserve and the estimate's margin (as the RLM's direct route, but never
        capped by ``sub_window``, which is the sub-calls' limit)."""
        from rlm_graph.tokens import reading_tokens

        return reading_tokens(self.root.window_tokens)


def head_that_fits(text: str, budget_tokens: int) -> str:
    """The start of ``text`` within ``budget_tokens``, cut after a line break when one is near
    (cut shorter again while its digits make it estimate over the budget)."""
    data = text.encode("utf-8")
    limit = tokens_to_bytes(budget_tokens)
    while True:
        if len(data) <= limit:
            head = data
        else:
            cut = data.rfind(b"\n", 0, limit) + 1
            if cut < limit * 0.9:  # no line break near the limit: cut mid-line
                cut = limit
            head = data[:cut]
        tokens = dense_tokens(head)
        if tokens <= budget_tokens:
            return head.decode("utf-8", errors="ignore")
        limit = int(len(head) * budget_tokens / tokens)


async def _one_call(setup: MethodSetup, text: str, question: str) -> MethodOutcome:
    """One model call over ``text``, the library's own leaf (same prompt, same evidence format
    and reading of the reply), so the comparison measures recursion, not prompt wording."""
    from rlm_graph.context import ContextView, TextStore
    from rlm_graph.graph.leaf import answer_leaf

    view = ContextView(TextStore(text.encode("utf-8")))
    outcome = await answer_leaf(setup.runtime, setup.root, view, question)
    answer = None if outcome.error else (outcome.answer or "NOT FOUND")
    return MethodOutcome(
        answer=answer,
        status=outcome.status,
        error=outcome.error,
        input_tokens=outcome.usage.input_tokens,
        output_tokens=outcome.usage.output_tokens,
        model_calls=outcome.usage.model_calls,
        grounded=None if outcome.error else bool(outcome.verified),
    )


async def run_direct(setup: MethodSetup, sample: TaskSample) -> MethodOutcome:
    seen = head_that_fits(sample.text, setup.reading_tokens)
    outcome = await _one_call(setup, seen, sample.question)
    outcome.seen_tokens = estimate_tokens(seen)
    outcome.seen_fraction = round(len(seen.encode("utf-8")) / max(1, _bytes(sample.text)), 4)
    return outcome


async def run_retrieve(setup: MethodSetup, sample: TaskSample) -> MethodOutcome:
    from rlm_graph.bench.retrieval import retrieve

    found = retrieve(
        sample.text, sample.question, setup.runtime.chunking_for_view(), setup.reading_tokens
    )
    outcome = await _one_call(setup, found.text, sample.question)
    outcome.seen_tokens = estimate_tokens(found.text)
    outcome.seen_fraction = round(found.covered_bytes / max(1, found.input_bytes), 4)
    outcome.chunks_used = len(found.chunks)
    outcome.chunks_total = found.chunks_total
    return outcome


async def run_rlm(
    setup: MethodSetup,
    sample: TaskSample,
    planner: str,
    on_event: EventHandler | None = None,
    mode: str | None = None,
) -> MethodOutcome:
    kinds: Counter[str] = Counter()

    def counted(event: dict[str, Any]) -> None:
        if event.get("event") == "model_call":
            kinds[str(event.get("kind"))] += 1
        if on_event is not None:
            on_event(event)

    rlm = setup.rlm(planner, counted, mode)
    if sample.folder is None:
        # Bytes are always the text itself, never read as a path.
        context: bytes | Path = sample.text.encode("utf-8")
        result = await rlm.ainvoke({"query": sample.question, "context": context})
    else:
        with tempfile.TemporaryDirectory(prefix="rlm-bench-") as folder:
            write_folder(Path(folder), sample.folder)
            result = await rlm.ainvoke({"query": sample.question, "context": Path(folder)})
    return MethodOutcome(
        answer=result.answer,
        status=result.status,
        error=result.error,
        input_tokens=result.usage.input_tokens,
        output_tokens=result.usage.output_tokens,
        model_calls=result.usage.model_calls,
        route=result.route,
        grounded=None if result.status == "error" else bool(result.grounded),
        calls_by_kind=dict(sorted(kinds.items())),
    )


async def run_method(
    method: str, setup: MethodSetup, sample: TaskSample, on_event: EventHandler | None = None
) -> MethodOutcome:
    if method == "rlm":
        return await run_rlm(setup, sample, "model", on_event)
    if method == "rlm-repl":
        return await run_rlm(setup, sample, "model", on_event, mode="repl")
    if method == "map-reduce":
        return await run_rlm(setup, sample, "map-reduce", on_event)
    if method == "direct":
        return await run_direct(setup, sample)
    if method == "retrieve":
        return await run_retrieve(setup, sample)
    raise ValueError(f"unknown method {method!r}")


def write_folder(root: Path, files: dict[str, str]) -> None:
    """A sample's source tree as files under ``root`` (paths as the tree names them)."""
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))
