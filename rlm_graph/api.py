"""``RLM``: the user-facing Runnable around the compiled graph: ask, follow up, resume, approve,
fork."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing, asynccontextmanager
from datetime import datetime
from functools import cached_property
from typing import Any, Literal

from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.types import Command
from pydantic import BaseModel, ConfigDict, Field

from rlm_graph.budget import Budget, Limits
from rlm_graph.configuration import ConcurrencyLimiter, RLMRuntime
from rlm_graph.context import ContextRegistry, ContextView, open_context
from rlm_graph.errors import ContextError, RLMError, ThreadError
from rlm_graph.graph.builder import build_rlm_graph
from rlm_graph.models import ResolvedModel, resolve_model
from rlm_graph.models import local as local_models
from rlm_graph.options import Durability, RLMOptions
from rlm_graph.persistence import Backend, CheckpointTarget, MemoryParts, open_backend
from rlm_graph.questions import mode_for
from rlm_graph.result import RLMResult
from rlm_graph.runs import RunDetail, RunInfo, inspect_run, list_runs
from rlm_graph.secrets import MASK, register_secret
from rlm_graph.settings import (
    ActionFormat,
    Mode,
    ModeChoice,
    ModelSettings,
    PlannerKind,
    RunSettings,
)
from rlm_graph.state import ContextRef
from rlm_graph.sync import run_sync

EventHandler = Callable[[dict[str, Any]], None]
# What a person answers at an approval gate: approve, deny, or the calls to run instead.
Decision = bool | Literal["approve", "deny"] | list[dict[str, str]]

__all__ = ["RLM", "RLMRequest", "RLMResult", "Decision"]

# How long a stopped run may take to finish writing its last checkpoints.
DRAIN_SECONDS = 10.0


class RLMRequest(BaseModel):
    """One question over one context: a path (file or folder), the text itself, bytes, or a
    list of LangChain ``Document``s.

    ``context`` may be omitted on a follow-up question: the thread knows its context.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    query: str = Field(min_length=1)
    context: str | bytes | os.PathLike | ContextView | list[Document] | None = None
    thread_id: str | None = None


class RLM(Runnable[RLMRequest | dict, RLMResult]):
    """A Recursive Language Model over any chat model.

    ``RLM(model="local").invoke({"query": ..., "context": "path/or/text"})`` returns an
    :class:`RLMResult`. Name a thread (``{"configurable": {"thread_id": ...}}``) to ask
    follow-up questions about the same context; ``resume``, ``approve``/``deny`` and ``fork``
    continue stored runs.
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
        approve_over: int | None = None,
        judge: bool = True,
        judge_model: str | None = None,
        mode: ModeChoice = "auto",
        checkpointer: CheckpointTarget = None,
        timeout: float | None = None,
        on_event: EventHandler | None = None,
        durability: Durability = "async",
    ) -> None:
        # Every keyword but where checkpoints go and who hears the events is a run option,
        # checked once by RLMOptions (tests/unit/test_options.py pins that the two agree).
        register_secret(api_key)  # no error text, record or checkpoint may carry it
        given = locals()
        options = RLMOptions(**{name: given[name] for name in RLMOptions.model_fields})
        self.options = options
        self.limits = options.limits
        self._model_args = {
            "base_url": options.base_url,
            "api_key": options.api_key,
            "timeout": options.timeout,
        }
        self._model_spec = options.model
        self._sub_model_spec = options.sub_model
        self.concurrency = options.concurrency
        self.planner: PlannerKind = options.planner
        self.action_format: ActionFormat = options.action_format
        self.chunking = options.chunking
        self.sub_window_tokens = options.sub_window_tokens
        self.direct_below = options.direct_below
        self.approve_over = options.approve_over
        self.judge = options.judge
        self.judge_model = options.judge_model
        self.mode: ModeChoice = options.mode
        self.checkpointer = checkpointer
        # Memory checkpoints, blobs and leases last as long as this object.
        self._memory = MemoryParts()
        self.on_event = on_event
        self.durability: Durability = options.durability

    @classmethod
    def from_settings(
        cls,
        settings: RunSettings,
        *,
        model: str | BaseChatModel | ResolvedModel | None = None,
        sub_model: str | BaseChatModel | ResolvedModel | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        **kwargs: Any,
    ) -> RLM:
        """An ``RLM`` that runs exactly as a stored run did. Models come back from their
        specs; a model that was a chat model object in code must be passed again (``model``,
        ``sub_model``). ``kwargs`` (checkpointer, on_event, durability, limits to change in a
        fork) override the stored values."""
        root = _model_from(settings.model, model, base_url, api_key)
        sub = root
        if settings.sub_model != settings.model or sub_model is not None:
            sub = _model_from(settings.sub_model, sub_model, base_url, api_key)
        options = RLMOptions.from_settings(settings, model=root, sub_model=sub, api_key=api_key)
        return cls(**{**options.keywords(), **kwargs})

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
    def rewording_judge(self) -> ResolvedModel | None:
        """The reader of findings for a question in other words (resolved on first use, by
        the first such finding): the one ``judge_model`` names; with none named and the
        embedded 0.5B as the sub-model, the embedded 1.5B when it is installed; else None (the
        runtime then reads with the sub-model, or for the 0.5B with nobody)."""
        spec = self.judge_model
        if spec is None and self.sub_model.name == f"local:{local_models.DEFAULT_LOCAL_VARIANT}":
            spec = local_models.default_rewording_reader()
        if spec is None:
            return None
        return resolve_model(spec, **self._model_args)

    @cached_property
    def limiter(self) -> ConcurrencyLimiter:
        """One limit on model calls in flight for every run of this object: ``concurrency``,
        or the sub-model's default (the local server's slots; 16 for other models)."""
        return ConcurrencyLimiter(self.concurrency or self.sub_model.concurrency)

    @cached_property
    def graph(self):
        """The compiled graph without a checkpointer (invoke it with ``context=runtime``)."""
        return build_rlm_graph().compile()

    def mode_for(self, query: str | None) -> Mode:
        """The mode a run of ``query`` plans in: the one asked for, or for ``auto`` the one its
        wording calls for (``questions.mode_for``; ``calls`` with no question, or with the
        map-reduce planner, which plans in CALLs only)."""
        if self.mode != "auto":
            return self.mode
        if query is None or self.planner != "model":
            return "calls"
        return mode_for(query)

    def runtime(
        self, registry: ContextRegistry | None = None, query: str | None = None
    ) -> RLMRuntime:
        """The runtime of a run (of ``query``: with ``mode="auto"``, it picks the mode)."""
        return RLMRuntime(
            root_model=self.root_model,
            sub_model=self.sub_model,
            registry=registry or ContextRegistry(self._memory.blobs),
            limits=self.limits,
            chunking=self.chunking,
            planner=self.planner,
            action_format=self.action_format,
            limiter=self.limiter,
            sub_window_tokens=self.sub_window_tokens,
            direct_below=self.direct_below,
            approve_over=self.approve_over,
            judge=self.judge,
            judge_model=self.judge_model,
            resolve_judge_model=lambda: self.rewording_judge,
            mode=self.mode_for(query),
        )

    # -- asking ----------------------------------------------------------------------------------
    def _request(self, input: RLMRequest | dict, config: RunnableConfig | None) -> RLMRequest:
        request = input if isinstance(input, RLMRequest) else RLMRequest.model_validate(input)
        thread = ((config or {}).get("configurable") or {}).get("thread_id")
        if request.thread_id is None and thread:
            request = request.model_copy(update={"thread_id": str(thread)})
        return request

    def _config(self, thread_id: str, config: RunnableConfig | None = None) -> RunnableConfig:
        return {
            **(config or {}),
            "configurable": {**((config or {}).get("configurable") or {}), "thread_id": thread_id},
            "recursion_limit": self._recursion_limit(),
        }

    def _recursion_limit(self) -> int:
        """LangGraph steps a call may take: four per planner turn, and in REPL mode two more
        (recurse, merge) for every pause of a cell at sub-calls, which max_calls bounds."""
        steps = self.limits.max_iterations * 4 + 10
        return steps + (2 * self.limits.max_calls if self.mode != "calls" else 0)

    @asynccontextmanager
    async def _session(self, thread_id: str) -> AsyncIterator[tuple[Backend, Any, Any]]:
        """The backend, the compiled graph and the thread's lease, for one run."""
        async with open_backend(self.checkpointer, self._memory) as backend:
            graph = build_rlm_graph().compile(checkpointer=backend.saver)
            before = await backend.leases.holder(thread_id)
            async with backend.leases.hold(thread_id, settle=backend.settle):
                yield backend, graph, before

    def open_context(
        self, context: str | bytes | os.PathLike | ContextView | list[Document]
    ) -> ContextView:
        """Open ``context`` now (bad input fails here) as ``invoke`` would: with the blob store
        of this object's checkpoint database, so a file another run already rendered (a PDF's
        pages, an archive, a decoded text) comes back from the cache, not extracted again, and
        one rendered now is cached for later turns and resumes. Pass the view to ``invoke``."""
        if isinstance(context, ContextView):
            return context

        async def blob_store() -> Any:
            # Only the store: the database's tables exist once the backend opened; the
            # rendering, which may take a while, happens in the caller's thread, off the loop.
            async with open_backend(self.checkpointer, self._memory) as backend:
                return backend.blobs

        return open_context(context, ContextRegistry(run_sync(blob_store)))

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
                f"thread {thread_id} has an unfinished run (interrupted or crashed); continue "
                f"it with: rlm-graph resume {thread_id}"
            )
        known = ContextRef.model_validate(values.get("thread_context") or values["context"])
        if request.context is None:
            return registry.view(known)
        view = self._open(request.context, registry)
        if view.ref.store_id != known.store_id:
            raise ThreadError(
                f"thread {thread_id} is about another context "
                f"({known.uri or 'given directly'}, sha256 {known.store_id[:12]}); "
                "omit the context to ask about that one, or start a new thread"
            )
        return view

    async def ainvoke(
        self, input: RLMRequest | dict, config: RunnableConfig | None = None, **kwargs: Any
    ) -> RLMResult:
        request = self._request(input, config)
        thread_id = request.thread_id or uuid.uuid4().hex[:12]
        run_config = self._config(thread_id, config)
        started = time.time()
        async with self._session(thread_id) as (backend, graph, _):
            registry = ContextRegistry(backend.blobs)
            try:
                view = await self._thread_context(graph, run_config, request, registry)
                if view.store.kept_in_blobs:
                    backend.blobs.put(view.store)  # so a later turn or a resume can reopen it
                state = {"query": request.query, "context": view.ref.model_dump()}
                runtime = self.runtime(registry, request.query)
                return await self._run(graph, state, run_config, runtime, started)
            finally:
                registry.close()  # long-lived processes must not collect memory maps

    def invoke(
        self, input: RLMRequest | dict, config: RunnableConfig | None = None, **kwargs: Any
    ) -> RLMResult:
        return run_sync(lambda: self.ainvoke(input, config, **kwargs))

    def as_tool(
        self,
        context: str | bytes | os.PathLike | ContextView | list[Document],
        *,
        name: str = "ask_context",
        description: str | None = None,
    ) -> BaseTool:
        """A LangChain tool that answers an agent's questions over ``context`` (opened once,
        now: bad input fails here), each in a run of its own; its JSON answer carries
        ``grounded`` and the citations. See ``rlm_graph.tool``."""
        from rlm_graph.tool import rlm_tool

        return rlm_tool(self, self.open_context(context), name, description)

    async def _run(
        self,
        graph: Any,
        state: Any,
        config: RunnableConfig,
        runtime: RLMRuntime,
        started: float,
    ) -> RLMResult:
        # The steps this run's own settings need (a resume reads them from the thread).
        config = {**config, "recursion_limit": self._recursion_limit()}
        stream = graph.astream(
            state,
            config,
            context=runtime,
            stream_mode=["custom"],
            subgraphs=True,
            durability=self.durability,
        )
        before = asyncio.all_tasks()
        try:
            # aclosing: whatever stops us (Ctrl-C, an error in on_event), the run stops here.
            async with aclosing(stream):
                async for _, mode, chunk in stream:
                    if mode == "custom" and self.on_event is not None:
                        self.on_event(chunk)
        finally:
            # Checkpoint writes LangGraph started (those of calls that finished just before
            # the stop) complete before the database closes: they are what a resume reuses.
            pending = asyncio.all_tasks() - before - {asyncio.current_task()}
            if pending:
                await asyncio.wait(pending, timeout=DRAIN_SECONDS)
            if runtime.repl_sessions is not None:  # REPL workers end with the run
                await runtime.repl_sessions.aclose()
        snapshot = await graph.aget_state(config)
        pending = [interrupt.value for interrupt in snapshot.interrupts]
        thread_id = config["configurable"]["thread_id"]
        return RLMResult.from_state(snapshot.values, thread_id, time.time() - started, pending)

    # -- continuing a stored run -------------------------------------------------------------
    async def aresume(
        self,
        thread_id: str,
        *,
        context: str | bytes | os.PathLike | None = None,
        decision: Decision | None = None,
        dead_since: float | None = None,
    ) -> RLMResult:
        """Continue a thread's unfinished run where its checkpoints left it: calls that had
        finished are not run again. It runs with the settings stored when the run began (the
        models from their specs; pass a model object to ``RLM(...)`` if the run used one).
        ``context`` re-points a file or folder context to a copy with the same content.
        ``decision`` answers a pending approval (see :meth:`aapprove`)."""
        started = time.time()
        run_config = self._config(thread_id)
        async with self._session(thread_id) as (backend, graph, before):
            snapshot = await graph.aget_state(run_config)
            values = snapshot.values if snapshot else {}
            if not values:
                raise ThreadError(f"no thread {thread_id} in {backend.where}")
            if not snapshot.next:
                raise ThreadError(
                    f"thread {thread_id} has nothing to resume: its turn {values.get('turn', 1)} "
                    f"ended with status {values.get('status')}; ask a follow-up question instead"
                )
            waiting = [interrupt.id for interrupt in snapshot.interrupts]
            if waiting and decision is None:
                raise ThreadError(
                    f"thread {thread_id} is waiting for approval: rlm-graph approve {thread_id} "
                    f"(or deny {thread_id})"
                )
            if decision is not None and not waiting:
                raise ThreadError(f"thread {thread_id} is not waiting for an approval")
            settings = RunSettings.model_validate(values["settings"])
            resumer = RLM.from_settings(
                settings,
                model=self._model_spec if settings.model.spec is None else None,
                sub_model=self._sub_model_spec if settings.sub_model.spec is None else None,
                base_url=self._model_args["base_url"],
                api_key=self._model_args["api_key"],
                checkpointer=self.checkpointer,
                on_event=self.on_event,
                durability=self.durability,
            )
            registry = ContextRegistry(backend.blobs)
            try:
                self._reattach(values, context, registry)
                runtime = resumer.runtime(registry)
                # The time the run lay dead is not its time: only its own running counts.
                runtime.paused = [(dead_since or _last_alive(before, snapshot), started)]
                command: Any = None
                if decision is not None:
                    command = Command(resume=dict.fromkeys(waiting, decision))
                return await resumer._run(graph, command, run_config, runtime, started)
            finally:
                registry.close()

    def resume(self, thread_id: str, **kwargs: Any) -> RLMResult:
        return run_sync(lambda: self.aresume(thread_id, **kwargs))

    async def aapprove(self, thread_id: str, decision: Decision = True) -> RLMResult:
        """Answer a run waiting at an approval gate and continue it: True runs the proposed
        calls, False runs none (the planner is told), a list of ``{"task", "target"}`` runs
        those instead."""
        return await self.aresume(thread_id, decision=decision)

    def approve(self, thread_id: str, decision: Decision = True) -> RLMResult:
        return run_sync(lambda: self.aapprove(thread_id, decision))

    async def afork(
        self,
        thread_id: str,
        *,
        at: str | None = None,
        new_thread_id: str | None = None,
        model: str | BaseChatModel | ResolvedModel | None = None,
        sub_model: str | BaseChatModel | ResolvedModel | None = None,
        **limits: Any,
    ) -> RLMResult:
        """Continue a stored run from one of its checkpoints (``at``; default: its latest) as
        a new thread, perhaps with another model or other limits (``max_calls=...``), leaving
        the original untouched. Children that were in flight at that checkpoint run again."""
        new_id = new_thread_id or f"{thread_id}-fork-{uuid.uuid4().hex[:6]}"
        unknown = set(limits) - set(Limits.model_fields) - {"concurrency"}
        if unknown:
            raise RLMError(f"fork cannot change {', '.join(sorted(unknown))}")
        async with open_backend(self.checkpointer, self._memory) as backend:
            graph = build_rlm_graph().compile(checkpointer=backend.saver)
            source_config = self._config(thread_id)
            if at:
                source_config["configurable"]["checkpoint_id"] = at
            source = await graph.aget_state(source_config)
            if not source.values:
                where = f"checkpoint {at} of thread {thread_id}" if at else f"thread {thread_id}"
                raise ThreadError(f"no {where} in {backend.where}")
            if (await graph.aget_state(self._config(new_id))).values:
                raise ThreadError(f"thread {new_id} exists already; name the fork differently")
            writer = _writer_of(tuple(source.next))
            settings = RunSettings.model_validate(source.values["settings"])
            forker = RLM.from_settings(
                settings,
                model=model if model is not None else self._object_model(settings.model),
                sub_model=sub_model
                if sub_model is not None
                else self._object_model(settings.sub_model, sub=True),
                base_url=self._model_args["base_url"],
                api_key=self._model_args["api_key"],
                checkpointer=self.checkpointer,
                on_event=self.on_event,
                durability=self.durability,
                **limits,
            )
            forker._memory = self._memory  # an in-memory fork lives beside its source
            values = dict(source.values)
            values["settings"] = forker.runtime().settings().model_dump()
            values["budget"] = _rebudget(values["budget"], settings.limits, forker.limits)
            await graph.aupdate_state(self._config(new_id), values, as_node=writer)
        dead_since = _timestamp(source.created_at)
        return await forker.aresume(new_id, dead_since=dead_since)

    def fork(self, thread_id: str, **kwargs: Any) -> RLMResult:
        return run_sync(lambda: self.afork(thread_id, **kwargs))

    def _object_model(self, stored: ModelSettings, *, sub: bool = False) -> Any:
        """This object's model, when the stored run used a model object (no spec)."""
        if stored.spec is not None:
            return None
        return self._sub_model_spec or self._model_spec if sub else self._model_spec

    async def aruns(self, limit: int | None = 50) -> list[RunInfo]:
        """The stored threads, the most recently advanced first."""
        async with open_backend(self.checkpointer, self._memory) as backend:
            graph = build_rlm_graph().compile(checkpointer=backend.saver)
            return await list_runs(backend, graph, limit)

    def runs(self, limit: int | None = 50) -> list[RunInfo]:
        return run_sync(lambda: self.aruns(limit))

    def show(self, thread_id: str) -> RunDetail:
        return run_sync(lambda: self.ashow(thread_id))

    async def ashow(self, thread_id: str) -> RunDetail:
        """A stored thread in full: status, answer, settings, budget left, every call record
        (those of children still in progress included) and the checkpoints to fork at."""
        async with open_backend(self.checkpointer, self._memory) as backend:
            graph = build_rlm_graph().compile(checkpointer=backend.saver)
            detail = await inspect_run(backend, graph, thread_id)
        if detail is None:
            raise ThreadError(f"no thread {thread_id} in {backend.where}")
        return detail

    @staticmethod
    def _reattach(
        values: dict[str, Any], context: str | bytes | os.PathLike | None, registry: Any
    ) -> None:
        """Check the thread's context can be read again (by path + hash, or from the blob
        store); ``context`` names a copy to use instead of the original path."""
        known = ContextRef.model_validate(values.get("thread_context") or values["context"])
        if context is not None:
            view = open_context(context, registry)
            if view.ref.store_id != known.store_id:
                raise ContextError(
                    f"the context given is not the one the run read (sha256 "
                    f"{view.ref.store_id[:12]}, expected {known.store_id[:12]})"
                )
            return
        try:
            registry.view(known)
        except ContextError as exc:
            hint = " (pass --context PATH to point at a copy with the same content)"
            raise ContextError(f"{exc}{hint if known.kind != 'text' else ''}") from None


def _model_from(
    stored: ModelSettings,
    given: str | BaseChatModel | ResolvedModel | None,
    base_url: str | None,
    api_key: str | None,
) -> ResolvedModel:
    """A stored run's model: rebuilt from its spec with its stored window and timeout, or
    ``given`` (a model object passed again, or another spec for a fork)."""
    if given is not None and not isinstance(given, str):
        return resolve_model(given, window_tokens=stored.window_tokens)
    if given is None and stored.spec is None:
        raise RLMError(
            f"this run used a chat model object from Python ({stored.name}); continue it from "
            "Python, passing the model again: RLM(model=...).resume(thread_id)"
        )
    url = base_url or stored.base_url
    if url and MASK in url:
        raise RLMError(
            "the run's base URL carried a password or key, which is not stored; pass the base "
            "URL again (--base-url)"
        )
    if given is not None and given != stored.spec:  # a fork onto another model: its own window
        return resolve_model(given, base_url=url, api_key=api_key, timeout=stored.timeout)
    return resolve_model(
        stored.spec or "",
        base_url=url,
        api_key=api_key,
        timeout=stored.timeout,
        window_tokens=stored.window_tokens,
    )


# The node whose edges lead from a checkpoint to its next step: a fork writes the checkpoint's
# values into the new thread "as" that node, so LangGraph schedules the same next step.
# ``begin``'s edge picks ``plan`` or ``answer_now`` again from the checkpoint's values.
_WRITERS = {
    "plan": "begin",
    "answer_now": "begin",
    "call": "plan",
    "recurse": "call",
    "merge": "recurse",
}


def _writer_of(next_nodes: tuple[str, ...]) -> str:
    if not next_nodes:
        raise ThreadError(
            "that checkpoint is the end of its run: fork at an earlier one (rlm-graph show "
            "lists them)"
        )
    writer = _WRITERS.get(next_nodes[0])
    if writer is None:
        raise ThreadError(
            "that checkpoint is the run's input, before anything ran: ask the question again "
            "instead of forking"
        )
    return writer


def _rebudget(budget: dict[str, Any], old: Limits, new: Limits) -> dict[str, Any]:
    """The budget left at a checkpoint, moved by what a fork changes in the limits."""
    left = Budget.model_validate(budget)
    update: dict[str, Any] = {
        "max_depth": new.max_depth,
        "max_iterations": new.max_iterations,
        "calls_left": left.calls_left + new.max_calls - old.max_calls,
    }
    for limit, field in (("max_tokens", "tokens_left"), ("max_seconds", "seconds_left")):
        before, after, now = getattr(old, limit), getattr(new, limit), getattr(left, field)
        if after is None:
            update[field] = None
        elif before is None:
            update[field] = after  # a new limit: it starts here
        else:
            update[field] = (now if now is not None else before) + after - before
    return left.model_copy(update=update).model_dump()


def _timestamp(iso: str | None) -> float | None:
    try:
        return datetime.fromisoformat(iso).timestamp() if iso else None
    except ValueError:
        return None


def _last_alive(before: Any, snapshot: Any) -> float:
    """When the run was last known alive: its lease's last renewal, or its last checkpoint."""
    if before is not None:
        return before.heartbeat_at
    return _timestamp(snapshot.created_at) or time.time()
