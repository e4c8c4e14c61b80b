"""The runtime context of a run: everything nodes need that must not live in state.

Models, the context registry and the concurrency limiter are live objects, so they travel as
LangGraph runtime context (``graph.ainvoke(..., context=RLMRuntime(...))``); children invoked
from the recurse node inherit it.
"""

from __future__ import annotations

import asyncio
import os
import threading
from dataclasses import dataclass, field
from typing import Literal

from rlm_graph.context import Chunking, ContextRegistry
from rlm_graph.models import ResolvedModel

PlannerKind = Literal["model", "map-reduce"]
ActionFormat = Literal["text", "json", "tools"]

# Tokens a leaf prompt needs beyond its slice: instructions, the task and the answer.
LEAF_PROMPT_RESERVE_TOKENS = 512
TOKEN_ESTIMATE_MARGIN = 0.85


class ConcurrencyLimiter:
    """One global limit on model calls in flight, safe across event loops.

    ``asyncio.Semaphore`` binds to one loop; sync ``invoke`` and ``batch`` may run nodes on
    several, so keep one semaphore per loop sharing one limit.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("concurrency must be at least 1")
        self.limit = limit
        self._per_loop: dict[int, asyncio.Semaphore] = {}
        self._lock = threading.Lock()

    def _semaphore(self) -> asyncio.Semaphore:
        loop_id = id(asyncio.get_running_loop())
        with self._lock:
            semaphore = self._per_loop.get(loop_id)
            if semaphore is None:
                semaphore = asyncio.Semaphore(self.limit)
                self._per_loop[loop_id] = semaphore
            return semaphore

    async def __aenter__(self) -> None:
        await self._semaphore().acquire()

    async def __aexit__(self, *exc: object) -> None:
        self._semaphore().release()


@dataclass
class RLMRuntime:
    """Live configuration of one run (not checkpointed)."""

    root_model: ResolvedModel
    sub_model: ResolvedModel
    registry: ContextRegistry = field(default_factory=ContextRegistry)
    chunking: Chunking | None = None
    planner: PlannerKind = "model"
    action_format: ActionFormat = "text"
    limiter: ConcurrencyLimiter = field(default_factory=lambda: ConcurrencyLimiter(4))
    peek_chars: int = 2000
    grep_hits: int = 40
    sub_window_tokens: int | None = None

    def model_for(self, depth: int) -> ResolvedModel:
        return self.root_model if depth == 0 else self.sub_model

    @property
    def leaf_window_tokens(self) -> int:
        """How many context tokens a leaf may read in one call."""
        window = self.sub_window_tokens or self.sub_model.window_tokens
        # Slice sizes are estimated at 4 bytes per token; real tokenizers vary, so keep 15% spare.
        return max(256, int((window - LEAF_PROMPT_RESERVE_TOKENS) * TOKEN_ESTIMATE_MARGIN))

    def chunking_for_view(self) -> Chunking:
        """Chunks sized so that one chunk fits a leaf: CALL per chunk is always runnable."""
        if self.chunking is None:
            # Snapped chunk edges can add a little; keep a margin so every chunk fits a leaf.
            chunk_tokens = min(2000, int(self.leaf_window_tokens * 0.8))
            self.chunking = Chunking(
                chunk_tokens=chunk_tokens, overlap_tokens=max(1, chunk_tokens // 20)
            )
        return self.chunking

    def slice_tokens(self, nbytes: int) -> int:
        """Estimated tokens of a slice of ``nbytes`` bytes."""
        return self.chunking_for_view().tokens(nbytes)

    def fits_leaf(self, nbytes: int) -> bool:
        """Whether one model call can read a slice of ``nbytes`` bytes whole."""
        return self.slice_tokens(nbytes) <= self.leaf_window_tokens


_env_runtime: list[RLMRuntime] = []
_env_lock = threading.Lock()


def runtime_context(runtime: object) -> RLMRuntime:
    """The run's RLMRuntime; when a caller (LangGraph Studio, a server) passed none, one built
    once from the environment: RLM_GRAPH_MODEL (default ``local``), RLM_GRAPH_SUB_MODEL."""
    context = getattr(runtime, "context", None)
    if context is not None:
        return context
    from rlm_graph.models import resolve_model

    with _env_lock:
        if not _env_runtime:
            root = resolve_model(os.environ.get("RLM_GRAPH_MODEL", "local"))
            sub_spec = os.environ.get("RLM_GRAPH_SUB_MODEL")
            sub = resolve_model(sub_spec) if sub_spec else root
            _env_runtime.append(RLMRuntime(root_model=root, sub_model=sub))
        return _env_runtime[0]
