"""merge: fold the turn's results into the transcript (verified findings first, then in action
order, never in finish order), account for the children, and route. It is the only node that
ends a call: a call whose status is final (set here, or earlier in the step by ``plan`` or
``call``) gets its final record and goes to END."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Overwrite, Send

from rlm_graph import prompts
from rlm_graph.configuration import RLMRuntime, runtime_context
from rlm_graph.context import ContextView
from rlm_graph.evidence import (
    Evidence,
    is_not_found,
    normalized,
    relevant,
    with_lead,
    words_in,
)
from rlm_graph.graph.accounting import child_usage, merge_usage, record_from_state, root_records
from rlm_graph.graph.events import emit_call_finished
from rlm_graph.graph.findings import (
    child_text,
    citations,
    conflicts,
    finding,
    from_passages,
    labelled,
    standing,
    without_echoes,
    without_unbacked_sentences,
)
from rlm_graph.graph.messages import (
    ChildResult,
    Finding,
    Observation,
    dumps,
    findings_of,
    seen_spans_of,
)
from rlm_graph.graph.observed import observed_findings
from rlm_graph.graph.outcome import (
    NOT_FOUND,
    is_finished,
    next_planner,
    out_of_budget,
    verified_answer,
)
from rlm_graph.graph.per_part import about_their_parts
from rlm_graph.graph.state import CallState, RLMState
from rlm_graph.questions import task_kind

MAX_OBSERVATION_CHARS = 4000
# This many or more neighbouring observations that say the same thing become one line: a small
# model shown a wall of identical errors tends to copy the wall.
COLLAPSE_RUN = 3


def _shape(entry: Observation) -> tuple[str, str]:
    """What an observation says, its own action's target left out (``chunk:18 is out of
    range`` and ``chunk:19 is out of range`` say the same)."""
    target = entry.action.removeprefix("CALL ")
    text = entry.text.replace(target, "\x00") if target else entry.text
    return entry.kind, text


def _runs(entries: list[Observation]) -> list[list[Observation]]:
    runs: list[list[Observation]] = []
    for entry in entries:
        if runs and entry.kind != "info" and _shape(runs[-1][0]) == _shape(entry):
            runs[-1].append(entry)
        else:
            runs.append([entry])
    return [
        part
        for run in runs
        for part in ([run] if len(run) >= COLLAPSE_RUN else [[entry] for entry in run])
    ]


def _clipped(text: str) -> str:
    if len(text) <= MAX_OBSERVATION_CHARS:
        return text
    cut = prompts.OBSERVATION_CUT.format(chars=len(text) - MAX_OBSERVATION_CHARS)
    return text[:MAX_OBSERVATION_CHARS] + cut


def render_repl_observations(entries: list[Observation]) -> str:
    """What a REPL planner reads of its cells: each cell's output under its name, without the
    numbered list of calls mode (the 1.5B model answered FINAL(1) after "[1] cell 1 -> 112")."""
    lines = []
    for entry in entries:
        text = _clipped(entry.text)
        template = (
            prompts.REPL_CELL_OUTPUT if entry.action.startswith("cell ") else prompts.REPL_NOTE
        )
        lines.append(template.format(action=entry.action, text=text))
    return "\n".join(lines)


def render_observations(entries: list[Observation]) -> str:
    lines = []
    number = 0
    for run in _runs(entries):
        first = run[0]
        text = _clipped(first.text)
        separator = "\n" if "\n" in text else " "
        if len(run) == 1:
            number += 1
            lines.append(
                prompts.OBSERVATION.format(
                    number=number, action=first.action, separator=separator, text=text
                )
            )
        else:
            first_action, last_action = first.action, run[-1].action
            label = prompts.RUN_OF_ACTIONS.format(
                first=first_action, last=last_action, count=len(run)
            )
            if first_action == last_action:
                label = prompts.RUN_OF_ONE_ACTION.format(action=first_action, count=len(run))
            lines.append(
                prompts.OBSERVATION_RUN.format(
                    first=number + 1,
                    last=number + len(run),
                    label=label,
                    separator=separator,
                    text=text,
                )
            )
            number += len(run)
    return "\n".join(lines)


def _fold(state: RLMState, rt: RLMRuntime) -> dict[str, Any]:
    """The update for one step's results: transcript, findings, cache, records, usage, budget."""
    reads = CallState(state)
    results = on_question(rt, reads, reads.child_results)
    if reads.strategy == "per-part":
        results = about_their_parts(rt.registry.view(reads.context), reads.query, results)
    # What a repeated CALL is answered with: its first result, as the planner read it.
    new_cache = {
        result.cache_key: child_text(result) for result in results if result.status == "done"
    }

    observations = reads.observations
    # Verified findings first (small models take the first answer they read), then the
    # turn's lookups and errors, unverified answers, and "not found"; action order within each.
    ranked = [(1, entry) for entry in observations]
    ranked.extend(
        (standing(r), Observation(index=r.index, action=r.action, text=child_text(r)))
        for r in results
    )
    ranked.sort(key=lambda pair: (pair[0], pair[1].index))
    entries = [entry for _, entry in ranked]

    new_findings = [f for f in map(finding, results) if f is not None]
    progress = bool(results) or any(o.kind == "info" for o in observations)
    repeating = any(o.kind == "repeat" for o in observations)
    idle_turns = 0 if progress else reads.idle_turns + 1

    used = child_usage([result.usage for result in results])
    charged = reads.budget.charge(calls=used.model_calls, tokens=used.total_tokens)
    budget = rt.tick(charged)
    update: dict[str, Any] = {
        "child_results": Overwrite([]),
        "observations": [],
        "jobs": [],
        "call_cache": new_cache,
        "findings": dumps(new_findings),
        "idle_turns": idle_turns,
        # Looping: nothing new, and either repeating itself or idle twice in a row.
        "stalled": not progress and (repeating or idle_turns >= 2),
        "records": [record for result in results for record in result.records],
        "usage": _merge_all(reads.usage, results),
        "budget": budget.model_dump(),
    }
    if entries or not is_finished(state):
        repl = rt.mode == "repl"
        template = prompts.REPL_OBSERVATIONS if repl else prompts.PLANNER_OBSERVATIONS
        # The latest cell failed: fixing it is the way on, whatever note about the reply's
        # FINAL follows it (the 1.5B, offered FINAL after a NameError, guessed "Final(1)").
        ran = [entry for entry in entries if entry.kind != "error"]
        if repl and ran and ran[-1].failed:
            template = prompts.REPL_OBSERVATIONS_FAILED
        rendered = render_repl_observations(entries) if repl else render_observations(entries)
        observed = template.format(
            observations=rendered or prompts.NO_RESULTS,
            budget=prompts.budget_left(budget, reads.iteration),
        )
        update["transcript"] = [{"author": "rlm", "text": observed}]
    return update


def merge(state: RLMState, runtime: Runtime[RLMRuntime]) -> dict[str, Any]:
    update = _fold(state, runtime_context(runtime))
    merged = {**state, **update, "findings": [*(state.get("findings") or []), *update["findings"]]}
    if not is_finished(state):
        budget = CallState(update).budget
        if (ended := out_of_budget(merged, budget, count_turns=True)) is not None:
            update.update(ended)
    if is_finished({**state, **update}):
        update["records"].append(_final_record(state, update, runtime))
    # An empty write to a delta channel would still cost a stored write: leave it out.
    return {key: value for key, value in update.items() if key not in DELTAS or value}


DELTAS = ("records", "findings", "call_cache", "transcript", "observed")
# How an answer made of what a call's children found (outcome.partial_answer) begins.
PARTIAL_MARK = prompts.PARTIAL.split("{reason}")[0]


def _grounding(
    state: RLMState, update: dict[str, Any], rt: RLMRuntime, *, fallback: bool = True
) -> dict[str, Any]:
    """Whether the call's answer is backed by located text: on the direct route, its own
    leaf's evidence; otherwise every claim of it by a verified finding of its children or by a
    passage the planner saw itself (a PEEK, a GREP hit) that says it and is about the
    question. A lookup nothing backs is answered "not found" (what it would have said is kept
    as ``unverified_answer``): an answer the text does not back is never presented as found."""
    reads, merged = CallState(state), CallState({**state, **update})
    question = reads.query
    answer = merged.answer
    if answer and merged.route != "direct":
        answer = without_echoes(answer, question)
    if merged.route == "direct":  # the root's own leaf call: its evidence, cited as its
        evidence = [
            {"call_id": merged.raw.get("call_id"), "answer": answer, **item}
            for item in merged.evidence
        ]
        grounded: dict[str, Any] = {"verified": bool(merged.verified), "evidence": evidence}
    else:
        all_findings = [*reads.findings, *findings_of(update.get("findings"))]
        seen = [*reads.observed, *seen_spans_of(update.get("observed"))]
        sources = [
            *all_findings,
            *observed_findings(rt, reads, answer, seen),
            *earlier_findings(reads),
        ]
        if answer:
            answer = without_unbacked_sentences(answer, sources, question)
            answer = from_passages(answer, sources, question)
        cited = citations(answer, sources, question)
        if cited and answer:
            answer = labelled(answer, sources, question)
        grounded = {
            "verified": bool(cited),
            "evidence": cited,
            "conflicts": conflicts(answer, all_findings, question) if cited else [],
        }
    if answer != merged.answer:  # lines that echoed the question, or unbacked tails, left out
        grounded["answer"] = answer
    if merged.status == "done" and merged.outcome != "not_found":
        if not answer or is_not_found(answer):
            grounded.update(outcome="not_found", answer=NOT_FOUND, verified=False, evidence=[])
        elif not grounded["verified"] and task_kind(question) == "lookup":
            found = verified_answer(
                {
                    **state,
                    **update,
                    "findings": [*reads.raw.get("findings", []), *(update.get("findings") or [])],
                }
            )
            if fallback and found is not None and merged.depth == 0:
                # The planner's FINAL is backed by nothing, while its children verified what
                # answers the question (fresh seed 44: three towns verified, the FINAL not):
                # those findings are the answer, in the shape asked, as on a forced turn.
                regrounded = _grounding(state, {**update, "answer": found}, rt, fallback=False)
                if regrounded.get("outcome") == "found":
                    return {"answer": found, **regrounded, "unverified_answer": answer}
            grounded.update(outcome="not_found", answer=NOT_FOUND, unverified_answer=answer)
        else:
            grounded["outcome"] = "found"
    elif (
        merged.status != "done"
        and answer
        and not grounded["verified"]
        and not answer.startswith(PARTIAL_MARK)
        and task_kind(question) == "lookup"
    ):
        # A call that ran out of turns or budget, left with what its planner last wrote (the
        # 0.5B's forced reply cut off as '{"answers": [', seed 39): nothing backs it, so it is
        # no answer either; it is kept as what the call would have said.
        grounded.update(outcome="not_found", answer=NOT_FOUND, unverified_answer=answer)
    return grounded


def on_question(rt: RLMRuntime, state: CallState, results: list[ChildResult]) -> list[ChildResult]:
    """The root's children, a verified one left unverified when none of its passages is about
    the user's question.

    A child answers the task its CALL gave it, and its passage was checked against that task.
    A planner that drifts (measured on the 0.5B: asked about feast-day customs, it CALLed for
    what defines the source character set) gets a verified answer to another question: shown
    as verified it is copied into the answer, and asked for again when left out. Each passage
    is judged as a leaf judges it, among the words of a slice of one chunk around it. Only a
    lookup (open work is backed by its part) and only the root: a task a planner wrote for a
    child ("find in half") says too little to judge a passage by, and what that child passes
    up is judged here."""
    if not results or state.depth != 0 or task_kind(state.query) != "lookup":
        return results
    view = rt.registry.view(state.context)
    reach = rt.chunking_for_view().chunk_bytes // 2
    kept: list[ChildResult] = []
    for result in results:
        items = [Evidence.model_validate(item) for item in result.evidence]
        verified = [item for item in items if item.verified]
        about = [item for item in verified if _about(rt, state.query, item, view, reach)]
        if result.verified and verified and not about:
            result = result.model_copy(update={"verified": False, "off_question": True})
        elif result.verified and len(about) < len(verified):
            result = result.model_copy(update={"evidence": [i.model_dump() for i in about]})
        kept.append(result)
    return kept


def _about(rt: RLMRuntime, question: str, item: Evidence, view: ContextView, reach: int) -> bool:
    if item.read_for is not None:  # in other words: only a reader's judgement says it is about
        return normalized(item.read_for) == normalized(question)
    start, end = item.start or view.start, item.end or view.start
    span = {"start": max(view.start, start - reach), "end": min(view.end, end + reach)}
    around = rt.registry.view(view.ref.model_copy(update=span))
    return relevant(question, with_lead(view, item), words_in(around), place=item.place())


def earlier_findings(state: CallState) -> list[Finding]:
    """The grounded answers of the thread's earlier turns, with their citations: a follow-up
    that repeats one is backed by what backed it."""
    if state.depth != 0:
        return []
    return [
        Finding(call_id=record.id, answer=record.answer, verified=True, evidence=record.evidence)
        for record in root_records(state.raw)
        if record.turn < state.turn and record.verified and record.answer
    ]


def _final_record(state: RLMState, update: dict[str, Any], runtime: Runtime[RLMRuntime]) -> dict:
    depth = CallState(state).depth
    kind = "root" if depth == 0 else "node"
    model = runtime_context(runtime).model_for(depth).name
    update.update(_grounding(state, update, runtime_context(runtime)))
    record = record_from_state({**state, **update}, kind=kind, model=model)
    if kind == "root":  # children are reported by their parent's recurse node
        if held := CallState(state).held_context:
            runtime_context(runtime).registry.release(held)
        emit_call_finished(runtime, record, update.get("usage") or {})
    return record.model_dump()


def route_after_merge(state: RLMState) -> str | list[Send]:
    if is_finished(state):
        return "__end__"
    # REPL mode: a cell resumed here paused again at sub-calls; run them before planning.
    if jobs := state.get("jobs"):  # Job dumps, sent as they are
        return [Send("recurse", job) for job in jobs]
    return next_planner(state)


def _merge_all(usage: dict | None, results: list[ChildResult]) -> dict:
    for result in results:
        usage = merge_usage(usage, result.usage)
    return usage or {}
