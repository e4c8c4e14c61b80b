"""``RLM``: the user-facing Runnable around the compiled graph."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from functools import cached_property
from typing import Any, Literal

import networkx as nx
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import BaseModel, ConfigDict, Field

from rlm_graph.budget import Budget, Limits
from rlm_graph.configuration import ActionFormat, ConcurrencyLimiter, PlannerKind, RLMRuntime
from rlm_graph.context import Chunking, ContextRegistry, ContextView, open_context
from rlm_graph.errors import RLMError
from rlm_graph.graph.accounting import record_from_state, total_usage
from rlm_graph.graph.builder import _run_coroutine_sync, build_rlm_graph
from rlm_graph.models import ResolvedModel, resolve_model
from rlm_graph.persistence import CheckpointTarget, open_checkpointer
from rlm_graph.state import CallRecord, Usage
from rlm_graph.tree import build_tree, tree_summary

EventHandler = Callable[[dict[str, Any]], None]
# LangGraph's checkpoint write modes: "sync" (before each next step), "async" (overlapping the
# next step, the default) or "exit" (only when the run ends).
Durability = Literal["sync", "async", "exit"]


class RLMRequest(BaseModel):
    """One question over one context: a path (file or folder), the text itself, or bytes."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    query: str = Field(min_length=1)
    context: str | bytes | os.PathLike | ContextView
    thread_id: str | None = None


class RLMResult(BaseModel):
    """What a run produced. ``tree`` is the execution tree as a ``networkx.DiGraph``."""

    answer: str | None
    status: str
    thread_id: str
    usage: Usage
    usage_by_model: dict[str, Usage] = Field(default_factory=dict)
    root_input_tokens: int = 0
    records: list[CallRecord] = Field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @cached_property
    def tree(self) -> nx.DiGraph:
        return build_tree(self.records)

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "status": self.status,
            "thread_id": self.thread_id,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "usage": {
                **self.usage.model_dump(),
                "by_model": {name: u.model_dump() for name, u in self.usage_by_model.items()},
            },
            "root_input_tokens": self.root_input_tokens,
            "tree": {
                **tree_summary(self.tree),
                "calls": [record.model_dump() for record in self.records],
            },
        }


class RLM(Runnable[RLMRequest | dict, RLMResult]):
    """A Recursive Language Model over any chat model.

    ``RLM(model="local").invoke({"query": ..., "context": "path/or/text"})`` returns an
    :class:`RLMResult`. ``.graph`` is the compiled LangGraph graph itself.
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
        concurrency: int = 4,
        planner: PlannerKind = "model",
        action_format: ActionFormat = "text",
        chunk_tokens: int | None = None,
        overlap_tokens: int | None = None,
        sub_window_tokens: int | None = None,
        checkpointer: CheckpointTarget = None,
        timeout: float | None = None,
        on_event: EventHandler | None = None,
        durability: Durability = "async",
    ) -> None:
        if planner not in ("model", "map-reduce"):
            raise RLMError(f"unknown planner {planner!r}: use 'model' or 'map-reduce'")
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
        self.checkpointer = checkpointer
        self.on_event = on_event
        self.durability: Durability = durability
        self._limiter = ConcurrencyLimiter(concurrency)

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
    def graph(self):
        """The compiled graph without a checkpointer (invoke it with ``context=runtime``)."""
        return build_rlm_graph().compile()

    def runtime(self, registry: ContextRegistry | None = None) -> RLMRuntime:
        return RLMRuntime(
            root_model=self.root_model,
            sub_model=self.sub_model,
            registry=registry or ContextRegistry(),
            chunking=self.chunking,
            planner=self.planner,
            action_format=self.action_format,
            limiter=self._limiter,
            sub_window_tokens=self.sub_window_tokens,
        )

    def _request(self, input: RLMRequest | dict, config: RunnableConfig | None) -> RLMRequest:
        request = input if isinstance(input, RLMRequest) else RLMRequest.model_validate(input)
        thread = ((config or {}).get("configurable") or {}).get("thread_id")
        if request.thread_id is None and thread:
            request = request.model_copy(update={"thread_id": str(thread)})
        return request

    async def ainvoke(
        self, input: RLMRequest | dict, config: RunnableConfig | None = None, **kwargs: Any
    ) -> RLMResult:
        request = self._request(input, config)
        registry = ContextRegistry()
        if isinstance(request.context, ContextView):
            view = request.context
            registry.register(view.store)
        else:
            view = open_context(request.context, registry)  # errors before any model starts
        runtime = self.runtime(registry)
        thread_id = request.thread_id or uuid.uuid4().hex[:12]
        started = time.time()
        state = {
            "query": request.query,
            "context": view.ref.model_dump(),
            "budget": Budget.from_limits(self.limits).model_dump(),
            "depth": 0,
            "call_id": "root",
            "parent_id": None,
            "target": "all",
            "started_at": started,
        }
        run_config: RunnableConfig = {
            **(config or {}),
            "configurable": {**((config or {}).get("configurable") or {}), "thread_id": thread_id},
            "recursion_limit": self.limits.max_iterations * 4 + 10,
        }
        final: dict[str, Any] = {}
        async with open_checkpointer(self.checkpointer) as saver:
            graph = build_rlm_graph().compile(checkpointer=saver)
            async for namespace, mode, chunk in graph.astream(
                state,
                run_config,
                context=runtime,
                stream_mode=["custom", "values"],
                subgraphs=True,
                durability=self.durability,
            ):
                if mode == "custom" and self.on_event is not None:
                    self.on_event(chunk)
                elif mode == "values" and not namespace:
                    final = chunk
        return self._result({**state, **final}, runtime, thread_id, started)

    def invoke(
        self, input: RLMRequest | dict, config: RunnableConfig | None = None, **kwargs: Any
    ) -> RLMResult:
        return _run_coroutine_sync(lambda: self.ainvoke(input, config, **kwargs))

    def _result(
        self, final: dict[str, Any], runtime: RLMRuntime, thread_id: str, started: float
    ) -> RLMResult:
        root = record_from_state(final, kind="root", model=runtime.root_model.name)
        by_model = {
            name: Usage.model_validate(values)
            for name, values in (final.get("usage") or {}).items()
        }
        return RLMResult(
            answer=final.get("answer"),
            status=final.get("status") or "error",
            thread_id=thread_id,
            usage=total_usage(final.get("usage")),
            usage_by_model=by_model,
            root_input_tokens=root.usage.input_tokens,
            records=[root, *[CallRecord.model_validate(r) for r in final.get("records") or []]],
            error=final.get("error"),
            seconds=time.time() - started,
        )
