"""plan: one model turn (or one step of a built-in planner), parsed into actions."""

from __future__ import annotations

import math
import time
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from rlm_graph import prompts
from rlm_graph.budget import Budget, Limits
from rlm_graph.configuration import RLMRuntime, runtime_context
from rlm_graph.context import ContextView, open_context
from rlm_graph.graph.accounting import add_usage
from rlm_graph.graph.events import emit
from rlm_graph.graph.leaf import answer_leaf
from rlm_graph.graph.model_call import call_model, to_messages
from rlm_graph.graph.state import RLMState
from rlm_graph.graph.window import fit_transcript
from rlm_graph.protocol import ACTION_TOOLS, Action, ActionsPayload, ParsedTurn, parse_turn
from rlm_graph.state import ContextRef, Usage


def describe_budget(budget: Budget, iteration: int) -> str:
    parts = [f"{budget.calls_left} model calls", f"{budget.max_iterations - iteration} turns"]
    if budget.tokens_left is not None:
        parts.append(f"{budget.tokens_left:,} tokens")
    if budget.seconds_left is not None:
        parts.append(f"{budget.seconds_left:.0f} s")
    return ", ".join(parts) + " left"


def partial_answer(state: RLMState, reason: str) -> str:
    """The best answer a call can give without another model call: what its children found."""
    answers = [finding["answer"] for finding in state.get("findings") or []]
    if not answers:
        return ""
    joined = "; ".join(dict.fromkeys(answers))
    return f"[partial: {reason}] {joined}"[:4000]


def render_findings(state: RLMState) -> str:
    lines = [f"- {f['action']} -> {f['answer']}" for f in state.get("findings") or []]
    return "\n".join(lines) or "(nothing yet)"


def _resolve_context(state: RLMState, runtime: RLMRuntime) -> tuple[ContextRef, ContextView]:
    context = state["context"]
    if isinstance(context, str):  # a path given straight to the compiled graph
        view = open_context(context, runtime.registry)
        return view.ref, view
    ref = ContextRef.model_validate(context)
    return ref, runtime.registry.view(ref)


def _finish(status: str, answer: str | None, error: str | None = None, **extra: Any) -> dict:
    return {"status": status, "answer": answer, "error": error, **extra}


def _accounting(state: RLMState, model: str, usage: Usage, budget: Budget) -> dict[str, Any]:
    own = Usage.model_validate(state.get("own_usage") or {}).add(usage)
    return {
        "usage": add_usage(state.get("usage"), model, usage),
        "own_usage": own.model_dump(),
        "budget": budget.charge(calls=usage.model_calls, tokens=usage.total_tokens)
        .tick()
        .model_dump(),
    }


def _bound_planner(runtime: RLMRuntime, chat: Any) -> tuple[Any, str]:
    """The planner runnable for the configured action format, and the prompt suffix it needs."""
    if runtime.action_format == "json":
        structured = chat.with_structured_output(
            ActionsPayload, method="json_schema", include_raw=True
        )
        return structured, prompts.PLANNER_JSON_SUFFIX
    if runtime.action_format == "tools":
        return chat.bind_tools(ACTION_TOOLS), prompts.PLANNER_TOOLS_SUFFIX
    return None, ""


# The most CALLs one map step issues; more chunks are grouped into ranges (when depth allows).
MAP_FANOUT_LIMIT = 256


def _map_reduce_turn(
    state: RLMState, view: ContextView, runtime: RLMRuntime, budget: Budget
) -> tuple[ParsedTurn, str | None]:
    """One CALL per chunk; for more chunks than the fan-out (or call budget) allows, one CALL
    per range of chunks when a level of depth is left, else the first chunks and a note."""
    count = view.chunk_count(runtime.chunking_for_view())
    task = prompts.MAP_TASK.format(query=state["query"])
    limit = max(1, min(MAP_FANOUT_LIMIT, budget.calls_left - 1))
    if count <= limit:
        targets = [f"chunk:{i}" for i in range(count)]
        return ParsedTurn(actions=[Action(op="call", task=task, target=t) for t in targets]), None
    if state.get("depth", 0) + 1 < budget.max_depth:
        size = math.ceil(count / limit)
        targets = [
            f"chunks:{start}-{min(count, start + size) - 1}" for start in range(0, count, size)
        ]
        return ParsedTurn(actions=[Action(op="call", task=task, target=t) for t in targets]), None
    targets = [f"chunk:{i}" for i in range(limit)]
    note = (
        f"read chunk:0 to chunk:{limit - 1} of {count} chunks; "
        "raise max_calls or max_depth to read them all"
    )
    return ParsedTurn(actions=[Action(op="call", task=task, target=t) for t in targets]), note


async def _reduce(state: RLMState, runtime: RLMRuntime, budget: Budget, model) -> dict[str, Any]:
    findings = "\n".join(
        f"- {finding['action']}: {finding['answer']}" for finding in state.get("findings") or []
    )
    user = prompts.REDUCE_USER.format(
        query=state["query"], findings=findings or "(no part found anything)"
    )
    reply = await call_model(
        runtime, model, [SystemMessage(prompts.REDUCE_SYSTEM), HumanMessage(user)]
    )
    update = _accounting(state, model.name, reply.usage, budget)
    if reply.error:
        return {**update, **_finish("error", partial_answer(state, "reduce failed"), reply.error)}
    if state.get("coverage_note"):  # an answer, but not from the whole context: say so
        return {**update, **_finish("budget_exhausted", reply.text.strip(), state["coverage_note"])}
    return {**update, **_finish("done", reply.text.strip())}


async def plan(state: RLMState, runtime: Runtime[RLMRuntime]) -> dict[str, Any]:
    rt = runtime_context(runtime)
    ref, view = _resolve_context(state, rt)
    depth = state.get("depth", 0)
    budget = Budget.model_validate(
        state.get("budget") or Budget.from_limits(Limits()).model_dump()
    ).tick()
    iteration = state.get("iteration", 0)
    model = rt.model_for(depth)
    base: dict[str, Any] = {"context": ref.model_dump(), "budget": budget.model_dump()}
    if not state.get("started_at"):
        base["started_at"] = time.time()

    reason = budget.exhausted_reason()
    if reason:
        return {**base, **_finish("budget_exhausted", partial_answer(state, reason), reason)}

    fits = rt.fits_leaf(view.size)
    if depth >= budget.max_depth or fits:
        if not fits:
            tokens = rt.slice_tokens(view.size)
            error = (
                f"the context (~{tokens:,} tokens) does not fit one model call "
                f"(~{rt.leaf_window_tokens:,} tokens) and max_depth={budget.max_depth} "
                "allows no sub-calls; raise max_depth"
            )
            return {**base, **_finish("error", None, error)}
        emit(runtime, "leaf", id=state.get("call_id", "root"), depth=depth)
        outcome = await answer_leaf(rt, model, view, state["query"])
        update = _accounting(state, model.name, outcome.usage, budget)
        return {
            **base,
            **update,
            "iteration": iteration + 1,
            **_finish(outcome.status, outcome.answer, outcome.error),
        }

    if rt.planner == "map-reduce":
        if iteration == 0:
            turn, note = _map_reduce_turn(state, view, rt, budget)
            return {**base, "turn": turn.model_dump(), "iteration": 1, "coverage_note": note}
        update = await _reduce(state, rt, budget, model)
        return {**base, **update, "iteration": iteration + 1}

    transcript = list(state.get("transcript") or [])
    if not transcript:
        first = prompts.PLANNER_FIRST_TURN.format(
            query=state["query"],
            description=view.describe(rt.chunking_for_view()),
            chunk_list=chunk_list(view.chunk_count(rt.chunking_for_view())),
            budget=describe_budget(budget, iteration),
        )
        transcript.append({"role": "user", "content": first})
    last_turn = iteration >= budget.max_iterations - 1
    stalled = bool(state.get("stalled"))
    forced = last_turn or stalled
    if forced:
        reason = prompts.FORCE_REASON_TURNS if last_turn else prompts.FORCE_REASON_STALLED
        force = prompts.PLANNER_FORCE_FINAL.format(reason=reason, findings=render_findings(state))
        transcript.append({"role": "user", "content": force})

    bound, suffix = _bound_planner(rt, model.chat)
    system = prompts.PLANNER_SYSTEM + suffix
    sent = fit_transcript(system, transcript, model.window_tokens, PLANNER_REPLY_RESERVE_TOKENS)
    messages = to_messages(system, sent)
    emit(runtime, "turn", id=state.get("call_id", "root"), depth=depth, iteration=iteration + 1)
    reply = await call_model(rt, model, messages, bound=bound)
    update = _accounting(state, model.name, reply.usage, budget)
    if reply.error:
        # The planner itself failing is not something the model can fix: end this call.
        return {
            **base,
            **update,
            "transcript": transcript,
            "iteration": iteration + 1,
            **_finish("error", partial_answer(state, "model failed"), reply.error),
        }

    text = cut_continuation(reply.text)
    turn = parse_turn(reply.message if reply.message.tool_calls else text)
    transcript.append({"role": "assistant", "content": text or turn_text(turn)})
    result = {
        **base,
        **update,
        "transcript": transcript,
        "turn": turn.model_dump(),
        "iteration": iteration + 1,
    }
    if forced:
        # One chance to answer; a planner that still does not is not going to.
        final = next((a for a in turn.actions if a.op == "final"), None)
        if final is not None and final.answer:
            result.update(_finish("done", final.answer))
        else:
            why = "planner turn limit reached" if last_turn else "planner stopped making progress"
            answer = partial_answer(state, why) or reply.text.strip()
            result.update(_finish("budget_exhausted", answer, why))
    return result


MAX_LISTED_CHUNKS = 40
# Room left in the window for the planner's own reply.
PLANNER_REPLY_RESERVE_TOKENS = 1024


def chunk_list(count: int) -> str:
    """Spell out the chunk targets: small models copy a list's length, not a range's."""
    if count > MAX_LISTED_CHUNKS:
        return ""
    return "Chunk targets: " + ", ".join(f"chunk:{i}" for i in range(count)) + "\n"


def cut_continuation(text: str) -> str:
    """Drop what a model wrote after its own turn (it sometimes goes on to invent the results
    and a FINAL, imitating the worked example)."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if number and line.strip().lower().startswith(prompts.PLANNER_STOP_LINES):
            return "\n".join(lines[:number]).rstrip()
    return text


def turn_text(turn: ParsedTurn) -> str:
    return "\n".join(action.render() for action in turn.actions)


__all__ = ["plan", "partial_answer", "describe_budget", "render_findings"]
