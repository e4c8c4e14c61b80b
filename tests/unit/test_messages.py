"""The typed messages on the graph's edges read what earlier versions stored (plain dicts)."""

from __future__ import annotations

from rlm_graph.graph.messages import (
    ChildResult,
    Finding,
    Job,
    Observation,
    PendingSubcall,
    SeenSpan,
)
from rlm_graph.graph.state import CallState

REF = {"store_id": "ab" * 32, "kind": "text", "uri": None, "start": 0, "end": 120}
BUDGET = {"max_depth": 1, "max_iterations": 8, "calls_left": 10, "tokens_left": None}

# Shapes as the version before the typed messages wrote them into checkpoints.
OLD_JOB = {
    "index": 2,
    "call_id": "t1.3",
    "parent_id": "t1",
    "turn": 1,
    "depth": 1,
    "task": "find the code",
    "target": "chunk:2",
    "context": REF,
    "budget": BUDGET,
    "leaf": True,
    "cache_key": "find the code\x1fabab:0-120",
    "action": "CALL chunk:2",
    "tokens": 40,
}
OLD_RESULT = {
    "index": 2,
    "call_id": "t1.3",
    "cache_key": OLD_JOB["cache_key"],
    "action": "CALL chunk:2",
    "answer": "7391-ALPHA",
    "status": "done",
    "error": None,
    "outcome": "found",
    "verified": True,
    "evidence": [{"quote": "code is 7391-ALPHA", "verified": True}],
    "usage": {"fake": {"input_tokens": 5, "output_tokens": 2, "model_calls": 1}},
    "records": [{"id": "t1.3", "task": "find the code", "status": "done"}],
}
OLD_FINDING = {
    "action": "CALL chunk:2",
    "call_id": "t1.3",
    "answer": "7391-ALPHA",
    "verified": True,
    "where": "line 3",
    "evidence": OLD_RESULT["evidence"],
}


def test_stored_dicts_of_the_previous_version_read_as_messages():
    job = Job.model_validate(OLD_JOB)
    assert job.kind == "rlm" and job.context.end == 120 and job.budget.calls_left == 10
    assert {**OLD_JOB, "kind": "rlm"}.keys() == job.dump().keys()
    assert job.child_state(started_at=1.0)["context"]["store_id"] == REF["store_id"]
    state = {
        "child_results": [{**OLD_RESULT, "index": 5}, OLD_RESULT],
        "findings": [OLD_FINDING],
        "observations": [{"index": 0, "action": "PEEK all", "text": "...", "kind": "info"}],
        "observed": [{"action": "GREP(code)", "start": 3, "end": 90}],
        "repl_pending": [{"id": "p1", "call_id": "t1.1", "function": "llm_query"}],
    }
    reads = CallState(state)
    assert [r.index for r in reads.child_results] == [2, 5]  # action order
    # A field added since reads as its default.
    assert reads.child_results[0].dump() == {**OLD_RESULT, "off_question": False}
    assert reads.findings[0].dump() == OLD_FINDING
    assert reads.observations == [Observation(index=0, action="PEEK all", text="...")]
    assert reads.observed == [SeenSpan(action="GREP(code)", start=3, end=90)]
    assert reads.repl_pending == [PendingSubcall(id="p1", call_id="t1.1", function="llm_query")]


def test_defaults_are_read_in_one_place():
    empty = CallState({})
    assert (empty.depth, empty.turn, empty.iteration, empty.calls_made) == (0, 1, 0, 0)
    assert (empty.status, empty.target, empty.findings, empty.child_results) == (
        "running",
        "all",
        [],
        [],
    )
    # A REPL step lays an empty list over the state before merge reads it.
    assert CallState({"records": []}).records == {}


def test_every_field_of_a_message_says_what_it_is_or_its_model_does():
    for model in (Job, ChildResult, Observation, Finding, SeenSpan, PendingSubcall):
        assert "written by" in " ".join((model.__doc__ or "").split()), model
    described = [name for name, field in Job.model_fields.items() if field.description]
    assert {"index", "call_id", "context", "budget", "leaf", "cache_key"} <= set(described)
