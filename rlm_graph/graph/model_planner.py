"""The model as planner (``planner="model"``, calls mode): one turn of the conversation in,
parsed CALL/PEEK/GREP/FINAL actions out. A turn that must answer (``forced``: the graph's edge
to ``answer_now`` decided it and why) asks for the answer in a forced form, decoded under a
JSON schema where the server can."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage

from rlm_graph import prompts
from rlm_graph.configuration import RLMRuntime
from rlm_graph.graph.callers import read_callers
from rlm_graph.graph.findings import render_findings, strip_marks
from rlm_graph.graph.found_lines import read_found_lines, reads_found_lines
from rlm_graph.graph.messages import SeenSpan, dumps
from rlm_graph.graph.model_call import (
    ModelReply,
    call_model,
    call_model_json,
    json_schema_format,
    to_messages,
)
from rlm_graph.graph.name_search import NameSearch, search_names
from rlm_graph.graph.outcome import (
    NOT_FOUND,
    STALLED,
    ForcedTurn,
    failed,
    finish,
    gave_up,
    is_finished,
    verified_answer,
)
from rlm_graph.graph.planning import PlanStep
from rlm_graph.graph.window import fit_transcript, within_window
from rlm_graph.protocol import ACTION_TOOLS, Action, ActionsPayload, ParsedTurn, parse_turn
from rlm_graph.protocol.reply_json import find_json, is_object
from rlm_graph.protocol.trim import planner_stops, repeats_an_action, trim_reply
from rlm_graph.questions import asks_for_many, task_kind

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


async def model_turn(step: PlanStep, forced: ForcedTurn | None = None) -> dict[str, Any]:
    """One turn of the model as planner: the conversation so far in, parsed actions out;
    ``forced``: the turn must answer, for that reason."""
    searched: NameSearch | None = None
    chunking = step.rt.chunking_for_view()
    if not step.reads.transcript:
        if callers := read_callers(step):
            return callers
        searched = search_names(step.view, step.query, chunking)
        if reads_found_lines(step, searched):
            read = await read_found_lines(step, searched)
            if is_finished(read):
                return read
            step = step.after(read)  # not backed: the planner starts, the read charged
    state, rt, view, model, budget = step.state, step.rt, step.view, step.model, step.budget
    iteration = step.iteration
    transcript = step.reads.transcript
    added: list[dict[str, str]] = []
    seen: list[SeenSpan] = []
    if searched is not None:
        seen = searched.seen
        first = prompts.PLANNER_FIRST_TURN.format(
            query=step.query,
            earlier=step.earlier_turns(),
            description=view.describe(chunking),
            searched=searched.text,
            chunk_list=chunk_list(view.chunk_count(chunking), searched.chunks),
            budget=prompts.budget_left(budget, iteration),
        )
        added.append({"author": "rlm", "text": first})
    if forced:
        template = (
            prompts.PLANNER_FORCE_FINAL_JSON if model.json_schema else prompts.PLANNER_FORCE_FINAL
        )
        force = template.format(
            reason=forced.reason,
            query=step.query,
            findings=render_findings(step.reads.findings, verified_only=True),
        )
        added.append({"author": "rlm", "text": force})

    bound, suffix = _bound_planner(rt, model.chat)
    system = prompts.PLANNER_SYSTEM + suffix
    events = step.turn_started("plan", iteration + 1)

    def fit(density: float) -> list[BaseMessage]:
        sent = fit_transcript(
            system,
            transcript + added,
            model.window_tokens,
            PLANNER_REPLY_RESERVE_TOKENS,
            density,
        )
        return to_messages(system, sent)

    async def send(messages: list[BaseMessage]) -> ModelReply:
        if forced:
            return await call_model_json(rt, model, messages, FINAL_FORMAT, events=events)
        if bound is None:  # text actions: stop the model where its turn is over
            stop = planner_stops(view.chunk_count(chunking))
            return await call_model(
                rt, model, messages, events=events, stop=stop, until=repeats_an_action
            )
        return await call_model(rt, model, messages, bound=bound, events=events)

    reply = await within_window(fit, send, model.window_tokens)
    update = {**step.charged(reply.usage), "iteration": iteration + 1}
    if seen:
        update["observed"] = dumps(seen)
    if reply.error:
        # The planner itself failing is not something the model can fix: end this call.
        return {**update, "transcript": added, **failed(state, reply.error)}

    # Cut by the output limit, its unfinished last line is reported to the model; stopped by a
    # stop sequence, that line is where we stopped it (a CALL past the last chunk): dropped.
    cut_off = reply.message.response_metadata.get("finish_reason") == "length"
    text = trim_reply(reply.text, cut_off=cut_off)
    turn = parse_turn(reply.message if reply.message.tool_calls else text)
    if forced and (answer := _json_answer(reply.text, step.query)) is not None:
        turn = ParsedTurn(actions=[Action(op="final", answer=answer)])
        text = turn_text(turn)
    added.append({"author": "model", "text": text or turn_text(turn)})
    result = {**update, "transcript": added, "actions": turn.model_dump()}
    if step.reads.force_reason:  # the review's one forced turn is taken
        result["force_reason"] = None
    if forced:
        # One chance to answer; a planner that still does not is not going to.
        final = next((a for a in turn.actions if a.op == "final"), None)
        if final is not None and not final.placeholder:
            result.update(finish("done", strip_marks(final.answer)))
        else:
            found = verified_answer(state)
            if found is not None:
                # Made to answer, the planner wrote no FINAL, but what its children verified
                # answers the question (measured on the 0.5B: the right sentence found, then
                # the run ended "stopped making progress"): that is the answer, grounded.
                result.update(finish("done", found))
            else:
                # What it wrote instead stands for the answer it would have given, unless it
                # is a JSON reply cut off ('{"answers": [', the 0.5B on seed 39): no answer.
                said = reply.text.strip()
                words = None if _is_json_start(said) else said
                if forced.ending == STALLED and task_kind(step.query) == "lookup":
                    # Its calls brought nothing new and nothing it read is verified: what the
                    # text answers, as far as it was read, is "not found" (fresh seed 58: a
                    # list in other words ended with no answer at all, and the search in
                    # other words that a "not found" list gets never ran).
                    result.update(finish("done", NOT_FOUND))
                    if words:
                        result["unverified_answer"] = words
                else:
                    result.update(gave_up(state, forced.ending, words))
    return result


def _is_json_start(text: str) -> bool:
    """Whether ``text`` is (the start of) a JSON object or list, not words."""
    return text.startswith(("{", "["))


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
        prompts.TARGET_TAG.sub("", strip_marks(str(item))).strip()
        for item in items
        if isinstance(item, str | int | float)
    ]
    parts = list(dict.fromkeys(part for part in parts if part))
    if not parts:
        return None
    # One answer when the question asks for one; every item, a line each, when it asks for all.
    return "\n".join(parts) if asks_for_many(question) else parts[0]


def chunk_list(count: int, named: list[int] | None = None) -> str:
    """Spell out the chunk targets: small models copy a list's length, not a range's. Where
    the question's names were found, the chunks that hold them are the ones listed (read
    first; the description still gives the whole range)."""
    if named:
        return prompts.NAMED_CHUNK_TARGETS.format(
            targets=", ".join(f"chunk:{i}" for i in named[:MAX_LISTED_CHUNKS])
        )
    if count > MAX_LISTED_CHUNKS:
        return ""
    return prompts.CHUNK_TARGETS.format(targets=", ".join(f"chunk:{i}" for i in range(count)))


def turn_text(turn: ParsedTurn) -> str:
    return "\n".join(action.render() for action in turn.actions)
