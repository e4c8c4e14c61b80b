"""REPL mode's planner turn (``mode="repl"``): the model writes Python cells against ``context``.

``plan`` hands over to :func:`repl_planner_turn` in REPL mode. The reply is parsed into cells
and a final answer (``rlm_graph.protocol.repl``); ``call`` runs the cells in the sandbox
(``rlm_graph.graph.repl_cell``).
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage

from rlm_graph import prompts
from rlm_graph.context import ContextView
from rlm_graph.context.layout import (
    FIELDS_FUNCTION,
    describe_records,
    view_question_values,
    view_records,
)
from rlm_graph.graph.model_call import ModelReply, call_model, to_messages
from rlm_graph.graph.outcome import ForcedTurn, failed, gave_up
from rlm_graph.graph.planning import PlanStep
from rlm_graph.graph.window import fit_transcript, within_window
from rlm_graph.protocol.message import strip_think
from rlm_graph.protocol.repl import bare_value, parse_repl
from rlm_graph.questions import asks_to_count
from rlm_graph.secrets import redact

# Room left in the window for the planner's reply: code takes more than actions.
REPL_REPLY_RESERVE_TOKENS = 1536
PREVIEW_CHARS = 300
MAX_LISTED_FILES = 20
# The turn that must answer is shown this many of the latest replies with what they printed.
ANSWER_NOW_EXCHANGES = 3
# What a REPL observation holds around its output ("Output:\n" ... "\nBudget: "): the output
# alone is quoted to the turn that must answer.
_OUTPUT_HEAD, _AFTER_OUTPUT = prompts.REPL_OBSERVATIONS.split("{observations}")
_BUDGET_LINE = _AFTER_OUTPUT.split("{budget}")[0]


def describe_context(view: ContextView, question: str | None = None) -> str:
    """What ``context`` is inside the REPL: its type, size and a preview (a folder: its files);
    records are shown by their fields, on a record the question names a value of if any."""
    if view.whole_folder:
        files = view.files()
        lines = [f"`context` is a dict of {len(files):,} files (file name -> text):"]
        lines.extend(f"  {f.path!r}: {f.size:,} chars" for f in files[:MAX_LISTED_FILES])
        if len(files) > MAX_LISTED_FILES:
            lines.append(f"  ... {len(files) - MAX_LISTED_FILES:,} more files")
        return "\n".join(lines)
    preview = view.text(0, PREVIEW_CHARS)
    more = " ..." if view.size > PREVIEW_CHARS else ""
    found = view_records(view, question)
    records = describe_records(found) if found is not None else None
    return (
        f"`context` is a str of about {view.size:,} chars in {view.line_count():,} lines. "
        f"It begins:\n{preview}{more}" + (f"\n{records}" if records else "")
    )


def _count_shape(view: ContextView, question: str) -> str:
    """For a question that counts over records: how the fields hold the values it names,
    and the shape of a cell that counts."""
    if not asks_to_count(question) or view_records(view) is None:
        return ""
    named = view_question_values(view, question)
    tests = "; ".join(dict.fromkeys(value.test for value in named))
    values = prompts.REPL_QUESTION_VALUES.format(tests=tests) if tests else ""
    return values + prompts.REPL_COUNT_SHAPE.format(fields=FIELDS_FUNCTION)


async def repl_planner_turn(step: PlanStep, forced: ForcedTurn | None = None) -> dict[str, Any]:
    """One REPL turn: the conversation so far in; the cells to run and the final answer out
    (``forced``: the turn must answer, for that reason)."""
    state, rt, model, budget = step.state, step.rt, step.model, step.budget
    iteration = step.iteration
    transcript = step.reads.transcript
    added: list[dict[str, str]] = []
    if not transcript:
        first = prompts.REPL_FIRST_TURN.format(
            query=step.query,
            earlier=step.earlier_turns(),
            description=describe_context(step.view, step.query),
            scope=prompts.REPL_SCOPE_FILES if step.view.whole_folder else prompts.REPL_SCOPE_TEXT,
            shape=_count_shape(step.view, step.query),
            budget=prompts.budget_left(budget, iteration),
        )
        added.append({"author": "rlm", "text": first})
    if forced:
        added.append(
            {"author": "rlm", "text": prompts.REPL_FORCE_FINAL.format(reason=forced.reason)}
        )

    events = step.turn_started("plan", iteration + 1)

    def fit(density: float) -> list[BaseMessage]:
        if forced:
            system = prompts.REPL_ANSWER_SYSTEM
            asked = prompts.REPL_ANSWER_NOW.format(
                query=step.query,
                work=_latest_work(transcript, system, model.window_tokens, density),
                reason=forced.reason,
            )
            return to_messages(system, [{"author": "rlm", "text": asked}])
        system = prompts.REPL_SYSTEM.format(sub_tokens=f"{rt.reading_tokens():,}")
        sent = _count_to_fix(transcript) or fit_transcript(
            system, transcript + added, model.window_tokens, REPL_REPLY_RESERVE_TOKENS, density
        )
        return to_messages(system, sent)

    async def send(messages: list[BaseMessage]) -> ModelReply:
        return await call_model(rt, model, messages, events=events)

    reply = await within_window(fit, send, model.window_tokens)
    update: dict[str, Any] = {
        **step.charged(reply.usage),
        "iteration": iteration + 1,
        "actions": {},
    }
    if reply.error:
        return {**update, "transcript": added, **failed(state, reply.error)}
    # Redacted before it is parsed: a key the model wrote never reaches the sandbox's state.
    text = redact(strip_think(reply.text).strip()) or ""
    turn = parse_repl(text)
    if forced and not turn.has_final and not turn.cells and (value := bare_value(text)):
        turn.final, turn.errors = value, []  # asked for the answer only, a bare value is one
    added.append({"author": "model", "text": text or "(empty reply)"})
    update.update(
        transcript=added,
        repl_cells=turn.cells,
        repl_turn={
            "final": turn.final,
            "final_var": turn.final_var,
            "final_is_name": turn.final_is_name,
            "ran_code": bool(turn.cells),
            "errors": turn.errors,
            "forced": forced is not None,
            "forced_ending": forced.ending if forced else None,
        },
    )
    if forced:
        update["force_reason"] = None  # taken: the turn after it (if any) plans again
        if not turn.has_final:
            # One chance to answer; a planner that still writes code is not going to.
            update.update(repl_cells=[], **gave_up(state, forced.ending))
    return update


def _count_to_fix(transcript: list[dict[str, str]]) -> list[dict[str, str]] | None:
    """After a count that was not taken (its code left out a value of the question): the
    opening prompt again, then the cell and why, as one message; None after any other turn."""
    if len(transcript) < 3 or transcript[-2]["author"] != "model":
        return None
    mark = f"{prompts.REPL_NOT_TAKEN_LABEL}: "
    note = next(
        (line for line in transcript[-1]["text"].splitlines() if line.startswith(mark)), None
    )
    cells = parse_repl(transcript[-2]["text"]).cells
    if note is None or not cells:
        return None
    fix = prompts.REPL_FIX_COUNT.format(code=cells[-1].rstrip(), note=note.removeprefix(mark))
    return [{"author": "rlm", "text": transcript[0]["text"] + fix}]


def _latest_work(
    transcript: list[dict[str, str]], system: str, window_tokens: int, density: float = 1.0
) -> str:
    """The latest replies' code and what it printed, as quoted text (not as the model's own
    turns, which a small model copies), fitted to the window."""
    entries: list[dict[str, str]] = []
    for entry in transcript[1:]:  # the first is the opening prompt; the question is asked anew
        if entry["author"] == "model":
            cells = parse_repl(entry["text"]).cells
            if cells:
                text = prompts.REPL_WORK_CODE.format(text="\n".join(cells).rstrip())
                entries.append({"author": "model", "text": text})
        else:
            # What ran, then the budget and the instructions for a free turn.
            printed = entry["text"].split(_BUDGET_LINE)[0].removeprefix(_OUTPUT_HEAD)
            entries.append({"author": "rlm", "text": prompts.REPL_WORK_OUTPUT.format(text=printed)})
    latest = entries[-2 * ANSWER_NOW_EXCHANGES :]
    fitted = fit_transcript(system, latest, window_tokens, REPL_REPLY_RESERVE_TOKENS, density)
    return "\n\n".join(entry["text"] for entry in fitted) or prompts.NO_RESULTS


__all__ = ["describe_context", "repl_planner_turn"]
