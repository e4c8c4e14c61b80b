"""plan: one model turn (or one step of a built-in planner), parsed into actions.

On the root's first step it also chooses the route: ``direct`` (the whole context fits one call
and is below ``direct_below``: the root answers with one leaf call, no planning) or
``recursive``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from rlm_graph import prompts
from rlm_graph.budget import Budget
from rlm_graph.configuration import RLMRuntime, runtime_context
from rlm_graph.context import ContextView
from rlm_graph.graph.accounting import root_records, usage_update
from rlm_graph.graph.events import ModelCallEvents, emit
from rlm_graph.graph.findings import render_findings, strip_marks
from rlm_graph.graph.leaf import answer_leaf
from rlm_graph.graph.model_call import (
    call_model,
    call_model_json,
    json_schema_format,
    to_messages,
)
from rlm_graph.graph.outcome import finish, is_finished, partial_answer
from rlm_graph.graph.per_part import compose, per_part_turn
from rlm_graph.graph.repl_turn import repl_planner_turn
from rlm_graph.graph.state import RLMState
from rlm_graph.graph.window import fit_transcript
from rlm_graph.models import ResolvedModel
from rlm_graph.protocol import ACTION_TOOLS, Action, ActionsPayload, ParsedTurn, parse_turn
from rlm_graph.protocol.reply_json import find_json, is_object
from rlm_graph.protocol.trim import planner_stops, repeats_an_action, trim_reply
from rlm_graph.questions import asks_for_many
from rlm_graph.state import ContextRef, Usage

# The most CALLs one map step issues; more chunks are grouped into ranges (when depth allows).
MAP_FANOUT_LIMIT = 256
MAX_LISTED_CHUNKS = 40
# Room left in the window for the planner's own reply.
PLANNER_REPLY_RESERVE_TOKENS = 1024
# The forced last turn's reply, where the server decodes under a JSON schema: the findings
# that answer the question, one per item (measured on the 0.5B model: asked for one "answer"
# string, it copied the first finding of three; asked for a list, it listed all three).
FINAL_FORMAT = json_schema_format(
    "final_answer",
    {
        "type": "object",
        "properties": {"answers": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
        "required": ["answers"],
        "additionalProperties": False,
    },
)
# Earlier turns of a thread shown to the planner: the last few, answers cut short.
EARLIER_TURNS_SHOWN = 5
EARLIER_ANSWER_CHARS = 300


def earlier_turns(state: RLMState) -> str:
    """The thread's earlier questions and final answers (root calls only, no transcripts)."""
    turn = state.get("turn") or 1
    earlier = [record for record in root_records(state) if record.turn < turn]
    lines = []
    for record in earlier[-EARLIER_TURNS_SHOWN:]:
        answer = " ".join((record.answer or f"(no answer: {record.status})").split())
        if len(answer) > EARLIER_ANSWER_CHARS:
            answer = answer[:EARLIER_ANSWER_CHARS] + " ..."
        lines.append(f"- Q: {record.task}\n  A: {answer}")
    if not lines:
        return ""
    return prompts.EARLIER_TURNS.format(turns="\n".join(lines))


def _accounting(
    state: RLMState, rt: RLMRuntime, model: str, usage: Usage, budget: Budget
) -> dict[str, Any]:
    charged = budget.charge(calls=usage.model_calls, tokens=usage.total_tokens)
    return {**usage_update(state, model, usage), "budget": rt.tick(charged).model_dump()}


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


def _map_reduce_turn(
    state: RLMState, view: ContextView, runtime: RLMRuntime, budget: Budget
) -> tuple[ParsedTurn, str | None]:
    """One CALL per chunk; for more chunks than the fan-out (or call budget) allows, one CALL
    per range of chunks when a level of depth is left, else the first chunks and a note."""
    count = view.chunk_count(runtime.chunking_for_view())
    task = prompts.MAP_TASK.format(query=state["query"])
    limit = max(1, min(MAP_FANOUT_LIMIT, budget.calls_left - 1))

    def calls(targets: list[str]) -> ParsedTurn:
        return ParsedTurn(actions=[Action(op="call", task=task, target=t) for t in targets])

    if count <= limit:
        return calls([f"chunk:{i}" for i in range(count)]), None
    if state.get("depth", 0) + 1 < budget.max_depth:
        size = math.ceil(count / limit)
        ranges = [f"chunks:{a}-{min(count, a + size) - 1}" for a in range(0, count, size)]
        return calls(ranges), None
    note = (
        f"read chunk:0 to chunk:{limit - 1} of {count} chunks; "
        "raise max_calls or max_depth to read them all"
    )
    return calls([f"chunk:{i}" for i in range(limit)]), note


async def _reduce(
    state: RLMState,
    runtime: Runtime[RLMRuntime],
    rt: RLMRuntime,
    budget: Budget,
    model: ResolvedModel,
) -> dict[str, Any]:
    findings = state.get("findings") or []
    user = prompts.REDUCE_USER.format(
        query=state["query"],
        findings=(
            render_findings(findings, verified_only=True)
            if findings
            else "(no part found anything)"
        ),
    )
    call_id = state["call_id"]
    iteration = state.get("iteration", 0) + 1
    emit(
        runtime,
        "turn_started",
        id=call_id,
        depth=state.get("depth", 0),
        iteration=iteration,
        kind="reduce",
    )
    messages = [SystemMessage(prompts.REDUCE_SYSTEM), HumanMessage(user)]
    events = ModelCallEvents(runtime, call_id, "reduce")
    reply = await call_model(rt, model, messages, events=events)
    update = {**_accounting(state, rt, model.name, reply.usage, budget), "iteration": iteration}
    if reply.error:
        return {**update, **finish("error", partial_answer(state, "reduce failed"), reply.error)}
    if state.get("coverage_note"):  # an answer, but not from the whole context: say so
        return {
            **update,
            **finish("budget_exhausted", strip_marks(reply.text), state["coverage_note"]),
        }
    # A reducer copies the target tags it was shown ("7391-ALPHA (chunk:4)"): not the answer.
    return {**update, **finish("done", _TARGET_TAG.sub("", strip_marks(reply.text)).strip())}


async def _direct(
    state: RLMState,
    runtime: Runtime[RLMRuntime],
    rt: RLMRuntime,
    view: ContextView,
    model: ResolvedModel,
    budget: Budget,
) -> dict[str, Any]:
    """The root answers the whole context with one leaf call."""
    call_id = state["call_id"]
    emit(runtime, "turn_started", id=call_id, depth=0, iteration=1, kind="direct")
    task = state["query"]
    if earlier := earlier_turns(state):
        task = f"{earlier}\n{task}"
    outcome = await answer_leaf(
        rt,
        model,
        view,
        task,
        runtime=runtime,
        call_id=call_id,
        kind="direct",
        question=state["query"],
    )
    return {
        **_accounting(state, rt, model.name, outcome.usage, budget),
        "iteration": 1,
        **outcome.fields(),
        # A failed call has no answer: "not found" would claim the text was read.
        **finish(
            outcome.status, None if outcome.error else outcome.answer or "not found", outcome.error
        ),
    }


async def _planner_turn(
    state: RLMState,
    runtime: Runtime[RLMRuntime],
    rt: RLMRuntime,
    view: ContextView,
    model: ResolvedModel,
    budget: Budget,
) -> dict[str, Any]:
    """One turn of the model as planner: the conversation so far in, parsed actions out."""
    call_id = state["call_id"]
    iteration = state.get("iteration", 0)
    transcript = list(state.get("transcript") or [])
    added: list[dict[str, str]] = []
    if not transcript:
        chunking = rt.chunking_for_view()
        first = prompts.PLANNER_FIRST_TURN.format(
            query=state["query"],
            earlier=earlier_turns(state),
            description=view.describe(chunking),
            chunk_list=chunk_list(view.chunk_count(chunking)),
            budget=prompts.budget_left(budget, iteration),
        )
        added.append({"author": "rlm", "text": first})
    last_turn = iteration >= budget.max_iterations - 1
    stalled = bool(state.get("stalled"))
    review = state.get("force_reason")
    forced = last_turn or stalled or bool(review)
    if forced:
        template = (
            prompts.PLANNER_FORCE_FINAL_JSON if model.json_schema else prompts.PLANNER_FORCE_FINAL
        )
        force = template.format(
            reason=(
                prompts.FORCE_REASON_TURNS if last_turn else review or prompts.FORCE_REASON_STALLED
            ),
            query=state["query"],
            findings=render_findings(state.get("findings") or [], verified_only=True),
        )
        added.append({"author": "rlm", "text": force})

    bound, suffix = _bound_planner(rt, model.chat)
    system = prompts.PLANNER_SYSTEM + suffix
    sent = fit_transcript(
        system, transcript + added, model.window_tokens, PLANNER_REPLY_RESERVE_TOKENS
    )
    emit(
        runtime,
        "turn_started",
        id=call_id,
        depth=state.get("depth", 0),
        iteration=iteration + 1,
        kind="plan",
    )
    events = ModelCallEvents(runtime, call_id, "plan")
    messages = to_messages(system, sent)
    if forced:
        reply = await call_model_json(rt, model, messages, FINAL_FORMAT, events=events)
    elif bound is None:  # text actions: stop the model where its turn is over
        stop = planner_stops(view.chunk_count(rt.chunking_for_view()))
        reply = await call_model(
            rt, model, messages, events=events, stop=stop, until=repeats_an_action
        )
    else:
        reply = await call_model(rt, model, messages, bound=bound, events=events)
    update = {**_accounting(state, rt, model.name, reply.usage, budget), "iteration": iteration + 1}
    if reply.error:
        # The planner itself failing is not something the model can fix: end this call.
        return {
            **update,
            "transcript": added,
            **finish("error", partial_answer(state, "model failed"), reply.error),
        }

    # Cut by the output limit, its unfinished last line is reported to the model; stopped by a
    # stop sequence, that line is where we stopped it (a CALL past the last chunk): dropped.
    cut_off = reply.message.response_metadata.get("finish_reason") == "length"
    text = trim_reply(reply.text, cut_off=cut_off)
    turn = parse_turn(reply.message if reply.message.tool_calls else text)
    if forced and (answer := _json_answer(reply.text, state["query"])) is not None:
        turn = ParsedTurn(actions=[Action(op="final", answer=answer)])
        text = turn_text(turn)
    added.append({"author": "model", "text": text or turn_text(turn)})
    result = {**update, "transcript": added, "actions": turn.model_dump()}
    if review:
        result["force_reason"] = None
    if forced:
        # One chance to answer; a planner that still does not is not going to.
        final = next((a for a in turn.actions if a.op == "final"), None)
        if final is not None and not final.placeholder:
            result.update(finish("done", strip_marks(final.answer)))
        else:
            why = "planner turn limit reached" if last_turn else "planner stopped making progress"
            answer = partial_answer(state, why) or reply.text.strip()
            result.update(finish("budget_exhausted", answer, why))
    return result


async def plan(state: RLMState, runtime: Runtime[RLMRuntime]) -> dict[str, Any]:
    if is_finished(state):  # begin refused the turn; merge closes it
        return {}
    rt = runtime_context(runtime)
    view = rt.registry.view(ContextRef.model_validate(state["context"]))
    depth = state.get("depth", 0)
    budget = rt.tick(Budget.model_validate(state["budget"]))
    iteration = state.get("iteration", 0)
    model = rt.model_for(depth)
    base: dict[str, Any] = {"budget": budget.model_dump()}

    reason = budget.exhausted_reason()
    if reason:
        return {**base, **finish("budget_exhausted", partial_answer(state, reason), reason)}

    # A question about every part of a sectioned text: a call per section, even when the
    # text would fit one call (one small model call does not keep four parts apart).
    calls_mode = rt.mode == "calls"
    per_part = (
        per_part_turn(state["query"], view, rt, budget, depth)
        if iteration == 0 and calls_mode
        else None
    )
    # REPL mode plans in code whatever the size, unless a direct_below was set.
    code_only = not calls_mode and rt.direct_below is None
    if depth == 0 and iteration == 0:
        route = "recursive" if per_part or code_only else rt.route_for(view.size)
        base["route"] = route
        emit(runtime, "route", id=state["call_id"], route=route, tokens=rt.slice_tokens(view.size))
        if route == "direct":
            return {**base, **await _direct(state, runtime, rt, view, model, budget)}

    if not calls_mode:  # REPL: the model writes code, which runs at any depth
        turn = await repl_planner_turn(
            state,
            runtime,
            rt,
            view,
            model,
            budget,
            earlier=earlier_turns(state),
            budget_text=prompts.budget_left(budget, iteration),
        )
        return {**base, **turn}

    if depth >= budget.max_depth:
        # Only the root gets here (children at the limit are leaves): it cannot fit one call.
        error = (
            f"the context (~{rt.slice_tokens(view.size):,} tokens) does not fit one model call "
            f"(~{rt.reading_tokens(model):,} tokens) and max_depth={budget.max_depth} allows no "
            "sub-calls; raise max_depth"
        )
        return {**base, **finish("error", None, error)}

    if state.get("strategy") == "per-part":  # every section answered: one line each
        return {**base, **finish("done", compose(view, state.get("findings") or []))}
    if per_part is not None:
        emit(runtime, "strategy", id=state["call_id"], strategy="per-part")
        return {**base, "actions": per_part.model_dump(), "iteration": 1, "strategy": "per-part"}

    if rt.planner == "map-reduce":
        if iteration == 0:
            turn, note = _map_reduce_turn(state, view, rt, budget)
            return {**base, "actions": turn.model_dump(), "iteration": 1, "coverage_note": note}
        return {**base, **await _reduce(state, runtime, rt, budget, model)}
    return {**base, **await _planner_turn(state, runtime, rt, view, model, budget)}


# What a forced answer copies after a finding: its target and the passage shown beside it.
_TARGET_TAG = re.compile(r"\s*\((?:chunks?|lines|chars|file):[^)]*\)(?:\s+[\"'].*)?\s*$", re.S)


def _json_answer(text: str, question: str) -> str | None:
    """The answer of a forced turn's ``{"answers": [...]}`` reply, its items without the marks
    and target tags they were copied with, joined (None: not that shape). ``{"answer": ...}``
    is read too."""
    # A forced turn is decoded under a JSON schema: the whole reply or nothing.
    value = find_json(text, is_object)
    if value is None:
        return None
    items = value.get("answers", value.get("answer"))
    if not isinstance(items, list):
        items = [items]
    parts = [
        _TARGET_TAG.sub("", strip_marks(str(item))).strip()
        for item in items
        if isinstance(item, str | int | float)
    ]
    parts = list(dict.fromkeys(part for part in parts if part))
    if not parts:
        return None
    # One answer when the question asks for one; every item, a line each, when it asks for all.
    return "\n".join(parts) if asks_for_many(question) else parts[0]


def chunk_list(count: int) -> str:
    """Spell out the chunk targets: small models copy a list's length, not a range's."""
    if count > MAX_LISTED_CHUNKS:
        return ""
    return "Chunk targets: " + ", ".join(f"chunk:{i}" for i in range(count)) + "\n"


def turn_text(turn: ParsedTurn) -> str:
    return "\n".join(action.render() for action in turn.actions)


__all__ = ["plan", "earlier_turns"]
