"""``RLM``: the user-facing Runnable around the compiled graph."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import BaseModel, ConfigDict, Field

from rlm_graph.budget import Limits
from rlm_graph.configuration import (
    ActionFormat,
    ConcurrencyLimiter,
    PlannerKind,
    RLMRuntime,
)
from rlm_graph.context import Chunking, ContextRegistry, ContextView, open_context
from rlm_graph.errors import ContextError, RLMError, ThreadError
from rlm_graph.graph.accounting import usage_of_records
from rlm_graph.graph.builder import build_rlm_graph
from rlm_graph.models import ResolvedModel, resolve_model
from rlm_graph.persistence import (
    BlobStore,
    CheckpointTarget,
    blob_store_for,
    open_checkpointer,
)
from rlm_graph.secrets import register_secret
from rlm_graph.state import CallRecord, ContextRef, Usage
from rlm_graph.sync import run_sync
from rlm_graph.tree import build_tree, tree_summary

if TYPE_CHECKING:
    import networkx as nx

EventHandler = Callable[[dict[str, Any]], None]
# LangGraph's checkpoint write modes: "sync" (before each next step), "async" (overlapping the
# next step, the default) or "exit" (only when the run ends).
Durability = Literal["sync", "async", "exit"]


class RLMRequest(BaseModel):
    """One question over one context: a path (file or folder), the text itself, or bytes.

    ``context`` may be omitted on a follow-up question: the thread knows its context.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    query: str = Field(min_length=1)
    context: str | bytes | os.PathLike | ContextView | None = None
    thread_id: str | None = None


class RLMResult(BaseModel):
    """What one turn produced. ``tree`` is its execution tree as a ``networkx.DiGraph``.

    ``usage`` and ``records`` are this turn's; ``thread_usage`` sums every turn of the thread.
    """

    answer: str | None
    status: str
    thread_id: str
    turn: int = 1
    route: str | None = None
    usage: Usage
    usage_by_model: dict[str, Usage] = Field(default_factory=dict)
    thread_usage: Usage = Field(default_factory=Usage)
    root_input_tokens: int = 0
    records: list[CallRecord] = Field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @cached_property
    def tree(self) -> nx.DiGraph:
        return build_tree(self.records)

    @classmethod
    def from_state(cls, values: dict[str, Any], thread_id: str, seconds: float) -> RLMResult:
        turn = values.get("turn") or 1
        everything = [CallRecord.model_validate(r) for r in (values.get("records") or {}).values()]
        records = [record for record in everything if record.turn == turn]
        usage, by_model = usage_of_records(records)
        thread_usage, _ = usage_of_records(everything)
        root = next((r for r in records if r.kind == "root"), None)
        return cls(
            answer=values.get("answer"),
            status=values.get("status") or "error",
            thread_id=thread_id,
            turn=turn,
            route=values.get("route"),
            usage=usage,
            usage_by_model=by_model,
            thread_usage=thread_usage,
            root_input_tokens=root.usage.input_tokens if root else 0,
            records=records,
            error=values.get("error"),
            seconds=seconds,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "status": self.status,
            "thread_id": self.thread_id,
            "turn": self.turn,
            "route": self.route,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "usage": {
                **self.usage.model_dump(),
                "by_model": {name: u.model_dump() for name, u in self.usage_by_model.items()},
            },
            "thread_usage": self.thread_usage.model_dump(),
            "root_input_tokens": self.root_input_tokens,
            "tree": {
                **tree_summary(self.records),
                "calls": [record.model_dump() for record in self.records],
            },
        }


class RLM(Runnable[RLMRequest | dict, RLMResult]):
    """A Recursive Language Model over any chat model.

    ``RLM(model="local").invoke({"query": ..., "context": "path/or/text"})`` returns an
    :class:`RLMResult`. Name a thread (``{"configurable": {"thread_id": ...}}``) to ask
    follow-up questions about the same context; ``.graph`` is the compiled LangGraph graph.
    """

    def __init__(
        self,
        model: str | BaseChatModel | ResolvedModel = "local",
        *,
        sub_model: str | BaseChatModel | ResolvedModel | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        max_depth: int = 1,
        max_calls: int = 100,
        max_tokens: int | None = None,
        max_seconds: float | None = None,
        max_iterations: int = 8,
        concurrency: int | None = None,
        planner: PlannerKind = "model",
        action_format: ActionFormat = "text",
        chunk_tokens: int | None = None,
        overlap_tokens: int | None = None,
        sub_window_tokens: int | None = None,
        direct_below: int | None = None,
        checkpointer: CheckpointTarget = None,
        timeout: float | None = None,
        on_event: EventHandler | None = None,
        durability: Durability = "async",
    ) -> None:
        if planner not in ("model", "map-reduce"):
            raise RLMError(f"unknown planner {planner!r}: use 'model' or 'map-reduce'")
        if action_format not in ("text", "json", "tools"):
            raise RLMError(f"unknown action format {action_format!r}: use text, json or tools")
        if durability not in ("sync", "async", "exit"):
            raise RLMError(f"unknown durability {durability!r}: use sync, async or exit")
        if concurrency is not None and concurrency < 1:
            raise RLMError("concurrency must be at least 1")
        if direct_below is not None and direct_below < 0:
            raise RLMError("direct_below must be 0 (always recurse) or a number of tokens")
        register_secret(api_key)  # no error text, record or checkpoint may carry it
        self.limits = Limits(
            max_depth=max_depth,
            max_calls=max_calls,
            max_tokens=max_tokens,
            max_seconds=max_seconds,
            max_iterations=max_iterations,
        )
        self._model_args = {"base_url": base_url, "api_key": api_key, "timeout": timeout}
        self._model_spec = model
        self._sub_model_spec = sub_model
        self.concurrency = concurrency
        self.planner: PlannerKind = planner
        self.action_format: ActionFormat = action_format
        self.chunking = None
        if chunk_tokens is not None or overlap_tokens is not None:
            chunk = chunk_tokens or 1000
            self.chunking = Chunking(
                chunk_tokens=chunk,
                overlap_tokens=overlap_tokens if overlap_tokens is not None else chunk // 20,
            )
        self.sub_window_tokens = sub_window_tokens
        self.direct_below = direct_below
        # Without a checkpointer, threads live in memory for this object's lifetime.
        self.checkpointer: CheckpointTarget = (
            InMemorySaver() if checkpointer is None else checkpointer
        )
        self.blobs: BlobStore = blob_store_for(checkpointer)
        self.on_event = on_event
        self.durability: Durability = durability

    # -- models are resolved lazily: starting the local server costs seconds
    @cached_property
    def root_model(self) -> ResolvedModel:
        return resolve_model(self._model_spec, **self._model_args)

    @cached_property
    def sub_model(self) -> ResolvedModel:
        if self._sub_model_spec is None:
            return self.root_model
        return resolve_model(self._sub_model_spec, **self._model_args)

    @cached_property
    def limiter(self) -> ConcurrencyLimiter:
        """One limit on model calls in flight for every run of this object: ``concurrency``,
        or the sub-model's default (the local server's slots; 16 for other models)."""
        return ConcurrencyLimiter(self.concurrency or self.sub_model.concurrency)

    @cached_property
    def graph(self):
        """The compiled graph without a checkpointer (invoke it with ``context=runtime``)."""
        return build_rlm_graph().compile()

    def runtime(self, registry: ContextRegistry | None = None) -> RLMRuntime:
        return RLMRuntime(
            root_model=self.root_model,
            sub_model=self.sub_model,
            registry=registry or ContextRegistry(self.blobs),
            limits=self.limits,
            chunking=self.chunking,
            planner=self.planner,
            action_format=self.action_format,
            limiter=self.limiter,
            sub_window_tokens=self.sub_window_tokens,
            direct_below=self.direct_below,
        )

    def _request(self, input: RLMRequest | dict, config: RunnableConfig | None) -> RLMRequest:
        request = input if isinstance(input, RLMRequest) else RLMRequest.model_validate(input)
        thread = ((config or {}).get("configurable") or {}).get("thread_id")
        if request.thread_id is None and thread:
            request = request.model_copy(update={"thread_id": str(thread)})
        return request

    def _open(self, context: Any, registry: ContextRegistry) -> ContextView:
        if isinstance(context, ContextView):
            registry.register(context.store, owned=False)  # the caller keeps using it
            return context
        return open_context(context, registry)

    async def _thread_context(
        self, graph: Any, config: RunnableConfig, request: RLMRequest, registry: ContextRegistry
    ) -> ContextView:
        """The context this turn reads; refuses a thread that cannot take a new question."""
        thread_id = config["configurable"]["thread_id"]
        snapshot = await graph.aget_state(config)
        values = snapshot.values if snapshot else {}
        if not values:  # a new thread
            if request.context is None:
                raise ContextError("no context given: a new thread needs one")
            return self._open(request.context, registry)
        if snapshot.next:
            raise ThreadError(
                f"thread {thread_id} has an unfinished run (still running, interrupted or "
                f"crashed); continue it with: rlm-graph resume {thread_id}"
            )
        known = ContextRef.model_validate(values.get("thread_context") or values["context"])
        if request.context is None:
            return registry.view(known)
        view = self._open(request.context, registry)
        if view.ref.store_id != known.store_id:
            raise ThreadError(
                f"thread {thread_id} is about another context "
                f"({known.uri or 'text given directly'}, sha256 {known.store_id[:12]}); "
                "omit the context to ask about that one, or start a new thread"
            )
        return view

    async def ainvoke(
        self, input: RLMRequest | dict, config: RunnableConfig | None = None, **kwargs: Any
    ) -> RLMResult:
        request = self._request(input, config)
        thread_id = request.thread_id or uuid.uuid4().hex[:12]
        run_config: RunnableConfig = {
            **(config or {}),
            "configurable": {**((config or {}).get("configurable") or {}), "thread_id": thread_id},
            "recursion_limit": self.limits.max_iterations * 4 + 10,
        }
        started = time.time()
        registry = ContextRegistry(self.blobs)
        try:
            async with open_checkpointer(self.checkpointer) as saver:
                graph = build_rlm_graph().compile(checkpointer=saver)
                view = await self._thread_context(graph, run_config, request, registry)
                if view.kind == "text":
                    self.blobs.put(view.store)  # so a later turn or a resume can reopen it
                final = await self._run(
                    graph,
                    {"query": request.query, "context": view.ref.model_dump()},
                    run_config,
                    self.runtime(registry),
                )
        finally:
            registry.close()  # long-lived processes must not collect memory maps
        return RLMResult.from_state(final, thread_id, time.time() - started)

    async def _run(
        self, graph: Any, state: Any, config: RunnableConfig, runtime: RLMRuntime
    ) -> dict[str, Any]:
        final: dict[str, Any] = {}
        async for namespace, mode, chunk in graph.astream(
            state,
            config,
            context=runtime,
            stream_mode=["custom", "values"],
            subgraphs=True,
            durability=self.durability,
        ):
            if mode == "custom" and self.on_event is not None:
                self.on_event(chunk)
            elif mode == "values" and not namespace:
                final = chunk
        return final

    def invoke(
        self, input: RLMRequest | dict, config: RunnableConfig | None = None, **kwargs: Any
    ) -> RLMResult:
        return run_sync(lambda: self.ainvoke(input, config, **kwargs))


__all__ = ["RLM", "RLMRequest", "RLMResult"]
