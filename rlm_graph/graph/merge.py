"""merge: fold the turn's results into the transcript in action order, account for the
children, and decide whether this call is finished."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Overwrite

from rlm_graph import prompts
from rlm_graph.budget import Budget
from rlm_graph.configuration import RLMRuntime
from rlm_graph.graph.accounting import merge_usage
from rlm_graph.graph.plan import describe_budget, partial_answer
from rlm_graph.graph.recurse import child_usage
from rlm_graph.graph.state import RLMState

MAX_OBSERVATION_CHARS = 4000


def _child_text(result: dict[str, Any]) -> str:
    if result["status"] == "error":
        return f"failed: {result.get('error') or 'unknown error'}"
    answer = (result.get("answer") or "").strip() or "(empty answer)"
    if result["status"] == "budget_exhausted":
        return f"(incomplete, budget ran out) {answer}"
    return answer


def render_observations(entries: list[dict[str, Any]]) -> str:
    lines = []
    for number, entry in enumerate(entries, start=1):
        text = entry["text"]
        if len(text) > MAX_OBSERVATION_CHARS:
            text = (
                text[:MAX_OBSERVATION_CHARS]
                + f" [... {len(text) - MAX_OBSERVATION_CHARS:,} chars cut]"
            )
        separator = "\n" if "\n" in text else " "
        lines.append(f"[{number}] {entry['action']} ->{separator}{text}")
    return "\n".join(lines)


def merge(state: RLMState, runtime: Runtime[RLMRuntime]) -> dict[str, Any]:
    results = sorted(state.get("child_results") or [], key=lambda r: r["index"])
    by_index = {result["index"]: result for result in results}
    cache = dict(state.get("call_cache") or {})
    for result in results:
        if result["status"] == "done" and result.get("answer") is not None:
            cache[result["cache_key"]] = result["answer"]

    entries: list[dict[str, Any]] = []
    for observation in state.get("observations") or []:
        if "same_as" in observation:
            first = by_index.get(observation["same_as"])
            text = f"(same call as above) {_child_text(first)}" if first else "(same call as above)"
            observation = {**observation, "text": text}
        entries.append(observation)
    entries.extend(
        {"index": r["index"], "action": r["action"], "text": _child_text(r)} for r in results
    )
    entries.sort(key=lambda entry: entry["index"])

    findings = list(state.get("findings") or [])
    for result in results:
        answer = (result.get("answer") or "").strip()
        if result["status"] == "done" and answer and "NOT FOUND" not in answer.upper():
            findings.append({"action": result["action"], "answer": answer})
    observations = state.get("observations") or []
    progress = bool(results) or any(o.get("kind") == "info" for o in observations)
    repeating = any(o.get("kind") == "repeat" for o in observations)
    idle_turns = 0 if progress else state.get("idle_turns", 0) + 1

    used = child_usage(results)
    budget = Budget.model_validate(state["budget"]).after_children(
        used.model_calls, used.total_tokens
    )
    records = list(state.get("records") or [])
    for result in results:
        records.extend(result["records"])

    iteration = state.get("iteration", 0)
    transcript = list(state.get("transcript") or [])
    transcript.append(
        {
            "role": "user",
            "content": prompts.PLANNER_OBSERVATIONS.format(
                observations=render_observations(entries) or "(no results)",
                budget=describe_budget(budget, iteration),
            ),
        }
    )
    update: dict[str, Any] = {
        "child_results": Overwrite([]),
        "observations": [],
        "jobs": [],
        "call_cache": cache,
        "findings": findings,
        "idle_turns": idle_turns,
        # Looping: nothing new, and either repeating itself or idle twice in a row.
        "stalled": not progress and (repeating or idle_turns >= 2),
        "records": records,
        "usage": _merge_all(state.get("usage"), results),
        "budget": budget.model_dump(),
        "transcript": transcript,
    }
    reason = budget.exhausted_reason()
    merged_state = {**state, "findings": findings}
    if reason:
        update.update(
            status="budget_exhausted", answer=partial_answer(merged_state, reason), error=reason
        )
    elif iteration >= budget.max_iterations:
        update.update(
            status="budget_exhausted",
            answer=partial_answer(merged_state, "out of turns"),
            error="planner turn limit reached",
        )
    return update


def _merge_all(usage: dict | None, results: list[dict[str, Any]]) -> dict:
    for result in results:
        usage = merge_usage(usage, result.get("usage"))
    return usage or {}
