"""Durable runs on every checkpointer (memory, SQLite, PostgreSQL): crash and resume without
redoing finished calls, approval gates, forks, stored-run listings, dead time not charged."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import pytest

from rlm_graph import ThreadError
from rlm_graph.errors import ContextError
from rlm_graph.samples import make_haystack
from rlm_graph.testing import is_leaf_prompt
from tests.unit.conftest import NEEDLE_PATTERN, make_rlm, planner


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def target(request, tmp_path):
    if request.param == "memory":
        return None
    if request.param == "sqlite":
        return str(tmp_path / "runs.sqlite")
    return request.getfixturevalue("postgres_url")


class Crash(BaseException):
    """Stands in for the process dying: nothing in the graph catches it."""


def crash_after(leaves: int):
    finished: list[str] = []

    def on_event(event):
        if event.get("event") == "call_finished" and event.get("kind") == "leaf":
            finished.append(event["id"])
            if len(finished) == leaves:
                raise Crash()

    return on_event


def fan_out_planner(depth: int, **kwargs):
    """Depth 1: one CALL per chunk (tasks name their chunk). Depth 2: one CALL per range of 8
    chunks, and each child one CALL per chunk of its range. Leaves find the needle."""

    def turns(messages, turn):
        first, last = str(messages[1].content), str(messages[-1].content)
        if last.startswith("Question:"):
            count = int(re.search(r"(\d+) chunks \(chunk:0", first).group(1))
            part = re.match(r"Question: part (\d+)", last)
            if depth == 2 and part is None:
                return "\n".join(
                    f'CALL("part {i}", "chunks:{8 * i}-{min(count, 8 * i + 8) - 1}")'
                    for i in range(0, (count + 7) // 8)
                )
            prefix = f"part {part.group(1)} " if part else ""
            return "\n".join(f'CALL("{prefix}chunk {i}", "chunk:{i}")' for i in range(count))
        found = re.findall(r"(\d{4}-ALPHA)", last)
        return f'FINAL("{found[0]}")' if found else 'FINAL("none")'

    return planner(turns, **kwargs)


def leaf_tasks(model) -> list[str]:
    return [
        str(call[-1].content).rsplit("Task: ", 1)[-1]
        for call in model.calls
        if is_leaf_prompt(call)
    ]


@pytest.mark.parametrize("depth", [1, 2])
async def test_a_crashed_fan_out_resumes_without_redoing_finished_calls(target, depth):
    text = make_haystack(60_000 if depth == 1 else 100_000, seed=3, position=0.8)
    thread = {"configurable": {"thread_id": f"crash-{depth}-{uuid.uuid4().hex[:6]}"}}
    options = {"max_depth": depth, "concurrency": 3, "max_calls": 300, "durability": "sync"}
    first_model = fan_out_planner(depth, latency=lambda m: 0.01 if is_leaf_prompt(m) else 0)
    rlm = make_rlm(first_model, target, **options, on_event=crash_after(6))
    with pytest.raises(Crash):
        await rlm.ainvoke({"query": "What is the vault code?", "context": text}, thread)
    detail = await rlm.ashow(thread["configurable"]["thread_id"])
    assert detail.status == "crashed"
    done_before = {r.task for r in detail.records if r.kind == "leaf" and r.status == "done"}
    assert len(done_before) >= 4

    resumed_model = fan_out_planner(depth)
    resumer = rlm if target is None else make_rlm(resumed_model, target, **options)
    if target is None:  # memory lives in the object: resume with it, on a fresh model
        resumer._model_spec = resumed_model
        resumer.__dict__.pop("root_model", None)
        resumer.__dict__.pop("sub_model", None)
        resumer.on_event = None
    result = await resumer.aresume(thread["configurable"]["thread_id"])
    assert result.status == "done" and result.answer == "7391-ALPHA"
    rerun = set(leaf_tasks(resumed_model))
    assert not rerun & done_before  # no finished call ran again
    all_leaves = {r.task for r in result.records if r.kind == "leaf"}
    assert all_leaves == done_before | rerun  # and every other one ran once
    assert (await resumer.ashow(thread["configurable"]["thread_id"])).status == "done"


async def test_resume_is_refused_when_there_is_nothing_to_resume(target, haystack):
    rlm = make_rlm(fan_out_planner(1), target)
    thread = f"finished-{uuid.uuid4().hex[:6]}"
    await rlm.ainvoke(
        {"query": "What is the vault access code?", "context": haystack},
        {"configurable": {"thread_id": thread}},
    )
    with pytest.raises(ThreadError, match="nothing to resume"):
        await rlm.aresume(thread)
    with pytest.raises(ThreadError, match="no thread"):
        await rlm.aresume("never-was")


async def test_time_lying_dead_is_not_charged_to_the_time_budget(tmp_path, haystack):
    db = str(tmp_path / "runs.sqlite")
    options = {"max_seconds": 3.0, "concurrency": 2, "durability": "sync"}
    model = fan_out_planner(1, latency=lambda m: 0.2 if is_leaf_prompt(m) else 0)
    rlm = make_rlm(model, db, **options, on_event=crash_after(2))
    with pytest.raises(Crash):
        await rlm.ainvoke(
            {"query": "What is the vault access code?", "context": haystack},
            {"configurable": {"thread_id": "t"}},
        )
    time.sleep(3.5)  # longer than the whole time budget
    resumed = await make_rlm(fan_out_planner(1), db, **options).aresume("t")
    assert resumed.status == "done", resumed.error


async def test_approval_gate_pauses_then_approve_runs_the_calls(target, haystack):
    thread = f"gate-{uuid.uuid4().hex[:6]}"
    config = {"configurable": {"thread_id": thread}}
    rlm = make_rlm(fan_out_planner(1), target, approve_over=500)
    paused = await rlm.ainvoke({"query": "What is the vault code?", "context": haystack}, config)
    assert paused.status == "interrupted" and paused.answer is None
    # The planner turn that proposed the calls is counted while the run waits.
    assert paused.usage.model_calls == 1 and paused.usage.input_tokens > 0
    (proposal,) = paused.pending
    assert proposal["estimated_tokens"] > 500 and len(proposal["calls"]) >= 8
    assert (await rlm.ashow(thread)).status == "interrupted"
    with pytest.raises(ThreadError, match="waiting for approval"):
        await rlm.aresume(thread)
    with pytest.raises(ThreadError, match="unfinished run"):
        await rlm.ainvoke({"query": "another"}, config)
    done = await rlm.aapprove(thread)
    assert done.status == "done" and done.answer == "7391-ALPHA"
    assert sum(1 for r in done.records if r.kind == "leaf") == len(proposal["calls"])


async def test_denied_calls_are_not_run_and_the_planner_is_told(haystack):
    seen = []

    def turns(messages, turn):
        seen.append(str(messages[-1].content))
        return 'CALL("a", "chunk:0")\nCALL("b", "chunk:1")' if turn == 0 else 'FINAL("gave up")'

    model = planner(turns)
    rlm = make_rlm(model, approve_over=10)
    paused = await rlm.ainvoke(
        {"query": "What is the vault access code?", "context": haystack},
        {"configurable": {"thread_id": "d"}},
    )
    assert paused.status == "interrupted"
    result = await rlm.aapprove("d", False)
    assert result.unverified_answer == "gave up" and not result.found
    assert not any(is_leaf_prompt(call) for call in model.calls)
    assert "a person denied these 2 calls" in seen[-1]


async def test_an_edited_list_of_calls_runs_instead(haystack):
    def turns(messages, turn):
        last = str(messages[-1].content)
        if turn == 0:
            return "\n".join(f'CALL("find", "chunk:{i}")' for i in range(8))
        found = re.findall(NEEDLE_PATTERN, last)
        return f'FINAL("{found[0] if found else "none"}")'

    model = planner(turns)
    rlm = make_rlm(model, approve_over=10)
    await rlm.ainvoke(
        {"query": "What is the vault access code?", "context": haystack},
        {"configurable": {"thread_id": "e"}},
    )
    result = await rlm.aapprove("e", [{"task": "find the code", "target": "chunk:6"}])
    leaves = [r for r in result.records if r.kind == "leaf"]
    assert [(r.task, r.target) for r in leaves] == [("find the code", "chunk:6")]
    assert result.answer == "7391-ALPHA"


async def test_fork_continues_from_a_checkpoint_as_a_new_thread(target, haystack):
    thread = f"orig-{uuid.uuid4().hex[:6]}"
    rlm = make_rlm(fan_out_planner(1), target, max_calls=6)
    original = await rlm.ainvoke(
        {"query": "What is the vault code?", "context": haystack},
        {"configurable": {"thread_id": thread}},
    )
    assert original.status == "done"
    detail = await rlm.ashow(thread)
    # checkpoints are listed newest first: the last one before a call step is the first turn
    after_plan = [c for c in detail.checkpoints if c.next == ["call"]][-1]
    fork = await rlm.afork(
        thread, at=after_plan.checkpoint_id, new_thread_id=f"{thread}-b", max_calls=60
    )
    assert fork.thread_id == f"{thread}-b" and fork.status == "done"
    assert fork.answer == "7391-ALPHA" != original.answer  # more budget: every chunk was read
    forked = await rlm.ashow(f"{thread}-b")
    assert forked.settings.limits.max_calls == 60
    again = await rlm.ashow(thread)  # the original is untouched
    assert [r.model_dump() for r in again.records] == [r.model_dump() for r in detail.records]
    with pytest.raises(ThreadError, match="exists already"):
        await rlm.afork(thread, new_thread_id=f"{thread}-b")


async def test_runs_lists_threads_with_their_status(target, haystack):
    rlm = make_rlm(fan_out_planner(1), target, approve_over=10)
    suffix = uuid.uuid4().hex[:6]
    await rlm.ainvoke(
        {"query": "first?", "context": haystack}, {"configurable": {"thread_id": f"a-{suffix}"}}
    )
    runs = {run.thread_id: run for run in await rlm.aruns()}
    assert runs[f"a-{suffix}"].status == "interrupted"
    assert runs[f"a-{suffix}"].question == "first?"
    await rlm.aapprove(f"a-{suffix}")
    run = next(r for r in await rlm.aruns() if r.thread_id == f"a-{suffix}")
    assert run.status == "done" and run.usage.model_calls > 8


async def test_a_thread_held_by_a_live_worker_is_refused(tmp_path, haystack):
    db = str(tmp_path / "runs.sqlite")
    slow = make_rlm(fan_out_planner(1, latency=1.0), db)  # ~3 s of work
    task = asyncio.create_task(
        slow.ainvoke(
            {"query": "What is the vault access code?", "context": haystack},
            {"configurable": {"thread_id": "busy"}},
        )
    )
    other = make_rlm(fan_out_planner(1), db)
    for _ in range(200):  # until its first checkpoint is stored (slow on a loaded machine)
        await asyncio.sleep(0.1)
        if any(r.thread_id == "busy" for r in await other.aruns()):
            break
    with pytest.raises(ThreadError, match="running elsewhere"):
        await other.ainvoke({"query": "q2"}, {"configurable": {"thread_id": "busy"}})
    assert next(r for r in await other.aruns() if r.thread_id == "busy").status == "running"
    assert (await task).status == "done"


async def test_a_changed_file_is_refused_and_a_copy_can_stand_in(tmp_path):
    doc = tmp_path / "doc.txt"
    doc.write_text(make_haystack(20_000, seed=3))
    db = str(tmp_path / "runs.sqlite")
    rlm = make_rlm(fan_out_planner(1), db, durability="sync", on_event=crash_after(2))
    with pytest.raises(Crash):
        await rlm.ainvoke(
            {"query": "What is the vault access code?", "context": str(doc)},
            {"configurable": {"thread_id": "f"}},
        )
    copy = tmp_path / "copy.txt"
    copy.write_bytes(doc.read_bytes())
    doc.write_text("edited since\n" * 100)
    resumer = make_rlm(fan_out_planner(1), db)
    with pytest.raises(ContextError, match="changed since it was opened.*--context"):
        await resumer.aresume("f")
    with pytest.raises(ContextError, match="not the one the run read"):
        await resumer.aresume("f", context=str(doc))
    assert (await resumer.aresume("f", context=str(copy))).answer == "7391-ALPHA"
