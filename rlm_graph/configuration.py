"""The runtime context of a run: everything nodes need that must not live in state.

Models, the context registry and the concurrency limiter are live objects, so they travel as
LangGraph runtime context (``graph.ainvoke(..., context=RLMRuntime(...))``); children invoked
from the recurse node inherit it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from typing_extensions import TypedDict

from rlm_graph.budget import Budget, Limits
from rlm_graph.context import Chunking, ContextRegistry
from rlm_graph.limiter import ConcurrencyLimiter
from rlm_graph.models import ResolvedModel
from rlm_graph.models.local import DEFAULT_LOCAL_VARIANT
from rlm_graph.secrets import redact
from rlm_graph.settings import ActionFormat, Mode, ModelSettings, PlannerKind, RunSettings
from rlm_graph.tokens import (
    LEAF_PROMPT_RESERVE_TOKENS,
    dense_tokens,
    estimate_tokens,
    reading_tokens,
)

Route = Literal["direct", "recursive"]

# The largest default chunk: small enough that a leaf's answer stays focused.
MAX_DEFAULT_CHUNK_TOKENS = 2000

__all__ = [
    "LEAF_PROMPT_RESERVE_TOKENS",
    "ActionFormat",
    "ConcurrencyLimiter",
    "Mode",
    "PlannerKind",
    "RLMRuntime",
    "Route",
    "runtime_context",
    "RLMConfig",
    "context_root",
]


@dataclass
class RLMRuntime:
    """Live configuration of one run (not checkpointed)."""

    root_model: ResolvedModel
    sub_model: ResolvedModel
    registry: ContextRegistry = field(default_factory=ContextRegistry)
    limits: Limits = field(default_factory=Limits)
    chunking: Chunking | None = None
    planner: PlannerKind = "model"
    action_format: ActionFormat = "text"
    limiter: ConcurrencyLimiter | None = None
    peek_chars: int = 2000
    grep_hits: int = 40
    sub_window_tokens: int | None = None
    # The root answers in one call when the context is below this many tokens (and fits the
    # root model); None: whenever it fits, 0: never.
    direct_below: int | None = None
    # Pause for approval before a fan-out whose estimated reading exceeds this many tokens.
    approve_over: int | None = None
    # A leaf's finding on a lookup is verified only when the model, reading its passage alone,
    # answers the same (``rlm_graph.graph.judge``); False: word overlap alone decides.
    judge: bool = True
    # The reader that verifies a finding for a question asked in other words than the text's
    # (``graph.judge``): the model ``judge_model`` names, built by ``resolve_judge_model`` on
    # first use (a local server starts then); unset, the sub-model, but not the embedded
    # 0.5B: reading a passage for a question in other words, it agreed with 4 of 8 passages
    # about something else (BENCHMARKS.md), so such findings stay unverified with it.
    judge_model: str | None = None
    resolve_judge_model: Callable[[], ResolvedModel | None] | None = field(
        default=None, repr=False, compare=False
    )
    # "repl": the planner writes Python cells run in a sandbox (``rlm_graph.graph.repl_cell``).
    mode: Mode = "calls"
    # The live REPL sessions of this run's calls (never checkpointed; rebuilt from state bytes).
    repl_sessions: Any = field(default=None, repr=False, compare=False)
    # Wall-clock spans (start, end) when the run was not running (between a crash and its
    # resume): never charged to the time budget.
    paused: list[tuple[float, float]] = field(default_factory=list)
    # Set for runs a server starts: context paths must lie inside this folder.
    context_root: Path | None = None

    def __post_init__(self) -> None:
        if self.limiter is None:
            # Fan-out is made of sub-calls, so the sub-model's default sets the pace.
            self.limiter = ConcurrencyLimiter(self.sub_model.concurrency)

    def settings(self) -> RunSettings:
        """What this run is made of, as data to store with its thread."""
        return RunSettings(
            model=_model_settings(self.root_model),
            sub_model=_model_settings(self.sub_model),
            limits=self.limits,
            chunking=self.chunking_for_view(),
            planner=self.planner,
            action_format=self.action_format,
            sub_window_tokens=self.sub_window_tokens,
            direct_below=self.direct_below,
            concurrency=self.limiter.limit,
            approve_over=self.approve_over,
            judge=self.judge,
            judge_model=self.judge_model,
            mode=self.mode,
        )

    def tick(self, budget: Budget) -> Budget:
        """Charge the time elapsed since the budget's last tick, paused spans excepted."""
        return budget.tick(paused=self.paused)

    def rewording_judge(self) -> ResolvedModel | None:
        """Who reads a passage alone for a question in other words than its text's (None:
        nobody can, and the finding stays unverified). May start a local server: call it off
        the event loop."""
        if self.resolve_judge_model is not None:
            with _judge_lock:
                chosen = self.resolve_judge_model()
            if chosen is not None or self.judge_model is not None:
                return chosen
        if self.sub_model.name == f"local:{DEFAULT_LOCAL_VARIANT}":
            return None
        return self.sub_model

    def model_for(self, depth: int) -> ResolvedModel:
        return self.root_model if depth == 0 else self.sub_model

    def reading_tokens(self, model: ResolvedModel | None = None) -> int:
        """How many context tokens one call of ``model`` (default: a sub-call) may read."""
        if model is None or model is self.sub_model:
            window = self.sub_window_tokens or self.sub_model.window_tokens
        else:
            window = model.window_tokens
        return reading_tokens(window)

    @property
    def leaf_window_tokens(self) -> int:
        """How many context tokens a leaf (a sub-call) may read in one call."""
        return self.reading_tokens()

    def chunking_for_view(self) -> Chunking:
        """Chunks sized so that one chunk fits a leaf: CALL per chunk is always runnable."""
        if self.chunking is None:
            # Snapped chunk edges can add a little; keep a margin so every chunk fits a leaf.
            chunk_tokens = min(MAX_DEFAULT_CHUNK_TOKENS, int(self.leaf_window_tokens * 0.8))
            self.chunking = Chunking(
                chunk_tokens=chunk_tokens, overlap_tokens=max(1, chunk_tokens // 20)
            )
        return self.chunking

    def slice_tokens(self, nbytes: int) -> int:
        """Estimated tokens of a slice of ``nbytes`` bytes."""
        return estimate_tokens(nbytes)

    def reading_cost(self, nbytes: int) -> int:
        """Estimated tokens a child spends reading a slice of ``nbytes`` (its prompt around it
        included): what a fan-out is checked against the token budget with."""
        return self.slice_tokens(nbytes) + LEAF_PROMPT_RESERVE_TOKENS // 2

    def fits_leaf(self, nbytes: int) -> bool:
        """Whether one sub-call can read a slice of ``nbytes`` bytes whole."""
        return self.slice_tokens(nbytes) <= self.leaf_window_tokens

    def route_for(self, nbytes: int, read: Callable[[], str] | None = None) -> Route:
        """``direct`` when the root should answer the whole context in one call. ``read``
        gives the text, read only when its size says it fits: its digits may say otherwise."""
        tokens = self.slice_tokens(nbytes)
        if self.direct_below is not None and tokens >= self.direct_below:
            return "recursive"
        fits = self.reading_tokens(self.root_model)
        if tokens <= fits and read is not None:
            tokens = max(tokens, dense_tokens(read()))
        return "direct" if tokens <= fits else "recursive"


def _model_settings(model: ResolvedModel) -> ModelSettings:
    return ModelSettings(
        spec=model.spec,
        name=model.name,
        base_url=redact(model.base_url),
        window_tokens=model.window_tokens,
        timeout=model.timeout,
    )


class RLMConfig(TypedDict, total=False):
    """A run's settings as plain values, for callers that cannot pass an ``RLMRuntime``: a
    LangGraph server or Studio, as the run's ``context`` or as ``configurable`` keys (named
    like ``RLM``'s keywords: a subset of ``RLMOptions``, no secrets). Models come from specs;
    unset keys take ``RLM``'s defaults, the models ``RLM_GRAPH_MODEL`` (default ``local``) and
    ``RLM_GRAPH_SUB_MODEL``."""

    model: str
    sub_model: str
    base_url: str
    max_depth: int
    max_calls: int
    max_tokens: int
    max_seconds: float
    max_iterations: int
    concurrency: int
    planner: PlannerKind
    action_format: ActionFormat
    chunk_tokens: int
    sub_window_tokens: int
    direct_below: int
    approve_over: int
    judge: bool
    judge_model: str
    mode: Mode
    timeout: float


CONFIG_KEYS = frozenset(RLMConfig.__annotations__)
_runtimes: dict[tuple, RLMRuntime] = {}
_runtimes_lock = threading.Lock()
# One judge model is resolved at a time (a local server starts once).
_judge_lock = threading.Lock()


def runtime_context(runtime: object) -> RLMRuntime:
    """The run's RLMRuntime: the one passed as LangGraph runtime context, or (a server, Studio)
    one built from an ``RLMConfig`` given as context and/or ``configurable`` keys, built once
    per distinct settings and shared by the runs that use them."""
    context = getattr(runtime, "context", None)
    if isinstance(context, RLMRuntime):
        return context
    settings = _config_settings(context)
    key = tuple(sorted(settings.items()))
    with _runtimes_lock:
        built = _runtimes.get(key)
        if built is None:
            from rlm_graph.api import RLM

            built = RLM(**settings).runtime(ContextRegistry())
            built.context_root = context_root()
            _runtimes[key] = built
        return built


def _config_settings(context: object) -> dict[str, object]:
    from langgraph.config import get_config

    try:
        configurable = get_config().get("configurable") or {}
    except RuntimeError:  # outside a run
        configurable = {}
    given = {k: v for k, v in configurable.items() if k in CONFIG_KEYS and v is not None}
    if isinstance(context, dict):
        given.update({k: v for k, v in context.items() if k in CONFIG_KEYS and v is not None})
    given.setdefault("model", os.environ.get("RLM_GRAPH_MODEL", "local"))
    sub = os.environ.get("RLM_GRAPH_SUB_MODEL")
    if sub:
        given.setdefault("sub_model", sub)
    return given


def context_root() -> Path:
    """The folder a server's runs may read contexts from: ``RLM_GRAPH_CONTEXT_ROOT``, default
    the server's working folder. Paths outside it are refused."""
    return Path(os.environ.get("RLM_GRAPH_CONTEXT_ROOT") or os.getcwd()).resolve()
