"""begin: start a new turn of a thread (the root only; children start at ``plan``).

A thread is one conversation about one context. Each question is a turn with its own root call
(``t1``, ``t2``, ...), its own budget and a clean slate: every per-turn channel is reset here, so
no status, transcript or finding of an earlier turn can steer the new one. The planner sees the
earlier questions and answers through the thread's root records, never their transcripts.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Overwrite

from rlm_graph.budget import Budget
from rlm_graph.configuration import RLMRuntime, runtime_context
from rlm_graph.context import open_context
from rlm_graph.errors import ContextError
from rlm_graph.graph.accounting import record_from_state, root_records
from rlm_graph.graph.events import emit
from rlm_graph.graph.outcome import finish
from rlm_graph.graph.state import TURN_START, CallState, RLMState
from rlm_graph.state import ContextRef

# What every turn starts from (``TURN_START``); the delta channels, and the child results'
# reducer, are overwritten rather than added to.
_OVERWRITTEN = ("transcript", "findings", "observed", "call_cache", "child_results")
FRESH_TURN: dict[str, Any] = {
    key: Overwrite(value) if key in _OVERWRITTEN else value for key, value in TURN_START.items()
}


def turn_root_id(turn: int) -> str:
    return f"t{turn}"


def _context_ref(context: Any, rt: RLMRuntime) -> ContextRef:
    if isinstance(context, str):  # a path given straight to the compiled graph
        context = open_context(_within_root(context, rt), rt.registry).ref
    if not context:
        raise ContextError("no context: pass a file or folder path (or text) as 'context'")
    ref = ContextRef.model_validate(context)
    # Held for the turn (fails now, with a clear error, if it cannot be reopened); merge
    # releases it when the turn ends.
    rt.registry.acquire(ref)
    return ref


def _within_root(context: str, rt: RLMRuntime) -> str:
    """A server reads only inside its context root (relative paths start there): a client
    must not name /etc/passwd."""
    if rt.context_root is None or looks_like_text(context):
        return context
    path = Path(context).expanduser()
    resolved = (path if path.is_absolute() else rt.context_root / path).resolve()
    if not resolved.is_relative_to(rt.context_root):
        raise ContextError(
            f"context path {context} is outside the folder this server reads from "
            f"({rt.context_root}; set RLM_GRAPH_CONTEXT_ROOT)"
        )
    return str(resolved)


def looks_like_text(context: str) -> bool:
    """A string with a line break is the context's text, never a path."""
    return "\n" in context


def begin(state: RLMState, runtime: Runtime[RLMRuntime]) -> dict[str, Any]:
    rt = runtime_context(runtime)
    turn = len(root_records(state)) + 1
    update: dict[str, Any] = {
        **FRESH_TURN,
        "turn": turn,
        "call_id": turn_root_id(turn),
        "started_at": time.time(),
        "budget": Budget.from_limits(rt.limits).model_dump(),
        # Kept with the thread: a resume continues with these, never with re-derived ones.
        "settings": rt.settings().model_dump(),
    }
    thread_context = CallState(state).thread_context
    try:
        ref = _context_ref(state.get("context"), rt)
    except ContextError as exc:
        ref, problem = None, str(exc)
    else:
        problem = None
        if thread_context and ref.store_id != thread_context["store_id"]:
            problem = (
                f"this thread is about another context ({thread_context.get('uri') or 'text'}, "
                f"sha256 {thread_context['store_id'][:12]}); start a new thread for this one"
            )
    if ref is not None and problem is not None:
        rt.registry.release(ref.store_id)
    update["held_context"] = ref.store_id if ref is not None and problem is None else None
    if ref is not None and problem is None:
        update["context"] = ref.model_dump()
        update["thread_context"] = thread_context or ref.model_dump()
    elif thread_context:
        update["context"] = thread_context  # the thread keeps its own context
    if problem is not None:
        update.update(finish("error", None, problem))
    record = record_from_state({**state, **update}, kind="root", model=rt.root_model.name)
    update["records"] = [record.model_dump()]
    emit(
        runtime,
        "call_started",
        id=record.id,
        parent=None,
        depth=0,
        task=record.task,
        target="all",
        kind="root",
    )
    return update
