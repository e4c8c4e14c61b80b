"""A thread is one conversation about one context: follow-up turns, and the reuses it refuses."""

from __future__ import annotations

import re

import pytest

from rlm_graph import ThreadError, build_rlm_graph
from rlm_graph.errors import ContextError
from rlm_graph.samples import make_haystack
from rlm_graph.testing import leaf_text
from tests.unit.conftest import chunk_calls, make_rlm, planner

CODES = {"vault": r"\d{4}-ALPHA", "locker": r"\d{3}-OMEGA"}


@pytest.fixture
def two_fact_haystack() -> str:
    text = make_haystack(20_000, seed=3)  # holds "The vault access code is 7391-ALPHA."
    return text.replace("Note 40.", "Note 40. The locker code is 552-OMEGA.")


def asking_planner(seen: list[str]):
    """A planner that CALLs every chunk with its question, then answers with what it found.
    Leaves answer the code the question names (vault or locker)."""

    def leaf(messages):
        question = str(messages[-1].content).rsplit("Task: ", 1)[-1]
        kind = "locker" if "locker" in question else "vault"
        match = re.search(CODES[kind], leaf_text(messages))
        return match.group(0) if match else "NOT FOUND"

    def turns(messages, turn):
        last = str(messages[-1].content)
        seen.append(last)
        if last.startswith("Question:"):
            count = int(re.search(r"(\d+) chunks \(chunk:0", last).group(1))
            question = last.splitlines()[0].removeprefix("Question: ")
            return chunk_calls(question, count)
        found = re.findall(r"-> (\d{3,4}-(?:ALPHA|OMEGA))", last)
        return f'FINAL("{found[0]}")' if found else 'FINAL("unknown")'

    return planner(turns, leaf=leaf)


async def test_follow_up_turn_answers_its_own_question(two_fact_haystack, checkpointer):
    seen: list[str] = []
    rlm = make_rlm(asking_planner(seen), checkpointer)
    config = {"configurable": {"thread_id": "conv"}}
    first = await rlm.ainvoke(
        {"query": "What is the vault code?", "context": two_fact_haystack}, config
    )
    assert (first.answer, first.turn, first.status) == ("7391-ALPHA", 1, "done")

    second = await rlm.ainvoke({"query": "What is the locker code?"}, config)  # no context
    assert (second.answer, second.turn, second.status) == ("552-OMEGA", 2, "done")
    assert second.thread_id == "conv"
    # Each turn is its own root; its records are its own.
    assert {r.id.split(".")[0] for r in second.records} == {"t2"}
    assert second.tree.has_node("t2") and not second.tree.has_node("t1")
    assert second.records[0].task == "What is the locker code?"
    # Usage per turn, and for the thread.
    assert second.thread_usage.model_calls == first.usage.model_calls + second.usage.model_calls
    assert second.thread_usage.input_tokens == (
        first.usage.input_tokens + second.usage.input_tokens
    )
    # The planner saw the earlier question and answer, not the earlier transcript.
    opening = next(
        text for text in reversed(seen) if text.startswith("Question: What is the locker")
    )
    assert "Earlier questions on this context" in opening
    assert "Q: What is the vault code?" in opening and "A: 7391-ALPHA" in opening
    assert "CALL chunk:" not in opening and "Results:" not in opening


async def test_a_finished_turn_never_leaks_into_the_next(haystack, checkpointer):
    """The old bug: a reused thread returned the first run's answer without planning."""
    answers = iter(["first answer", "second answer"])

    def turns(messages, turn):
        return (
            'PEEK("chunk:0")'
            if "Question:" in str(messages[-1].content)
            else (f'FINAL("{next(answers)}")')
        )

    rlm = make_rlm(planner(turns), checkpointer)
    config = {"configurable": {"thread_id": "same"}}
    first = await rlm.ainvoke({"query": "q1", "context": haystack}, config)
    second = await rlm.ainvoke({"query": "q2", "context": haystack}, config)
    # Neither answer is backed by the text: each turn keeps its own.
    assert (first.unverified_answer, second.unverified_answer) == ("first answer", "second answer")
    assert second.usage.model_calls == 2  # it planned again: PEEK, then FINAL
    assert second.records[0].iterations == 2


async def test_text_context_is_kept_for_follow_ups_in_the_blob_store(haystack, tmp_path):
    db = tmp_path / "runs.sqlite"
    seen: list[str] = []
    config = {"configurable": {"thread_id": "text-thread"}}
    await make_rlm(asking_planner(seen), str(db)).ainvoke(
        {"query": "What is the vault code?", "context": haystack}, config
    )
    assert list((tmp_path / "runs.sqlite.blobs").iterdir())  # the text went beside the db
    # A new object (think: a new process) answers a follow-up without being given the text.
    again = await make_rlm(asking_planner(seen), str(db)).ainvoke(
        {"query": "What is the vault code, again?"}, config
    )
    assert again.answer == "7391-ALPHA" and again.turn == 2


async def test_another_context_on_a_thread_is_refused_and_changes_nothing(haystack, checkpointer):
    seen: list[str] = []
    rlm = make_rlm(asking_planner(seen), checkpointer)
    config = {"configurable": {"thread_id": "one-context"}}
    await rlm.ainvoke({"query": "What is the vault code?", "context": haystack}, config)
    calls_before = len(seen)
    with pytest.raises(ThreadError, match="another context"):
        await rlm.ainvoke(
            {"query": "What is the vault access code?", "context": "a different text entirely"},
            config,
        )
    assert len(seen) == calls_before  # no model was called
    again = await rlm.ainvoke({"query": "What is the vault code?"}, config)
    assert again.turn == 2  # the refused question did not count as a turn


async def test_new_thread_without_a_context_is_refused():
    with pytest.raises(ContextError, match="new thread needs one"):
        await make_rlm(planner(["x"])).ainvoke(
            {"query": "What is the vault access code?"}, {"configurable": {"thread_id": "n"}}
        )


class Crash(BaseException):
    """Stands in for the process being killed mid-run: nothing in the graph catches it."""


async def test_unfinished_thread_is_refused_with_the_way_to_continue(haystack, tmp_path):
    def crash_when_leaves_start(event):
        if event.get("event") == "call_started" and event.get("kind") == "leaf":
            raise Crash()

    db = str(tmp_path / "c.sqlite")
    config = {"configurable": {"thread_id": "crashed"}}
    # sync: the checkpoints before the crash are on disk when it happens
    rlm = make_rlm(planner(lambda m, t: chunk_calls("find", 3)), db, durability="sync")
    rlm.on_event = crash_when_leaves_start
    with pytest.raises(Crash):
        await rlm.ainvoke({"query": "What is the vault access code?", "context": haystack}, config)
    with pytest.raises(ThreadError, match="rlm-graph resume crashed"):
        await make_rlm(planner(["x"]), db).ainvoke({"query": "another"}, config)


async def test_compiled_graph_threads_follow_up_and_refuse_other_contexts(haystack, tmp_path):
    """The same semantics for callers of the graph itself (LangGraph server, Studio)."""
    from langgraph.checkpoint.memory import InMemorySaver

    seen: list[str] = []
    rlm = make_rlm(asking_planner(seen))
    graph = build_rlm_graph().compile(checkpointer=InMemorySaver())
    path = tmp_path / "doc.txt"
    path.write_text(haystack)
    config = {"configurable": {"thread_id": "g"}}
    runtime = rlm.runtime()
    first = await graph.ainvoke(
        {"query": "What is the vault code?", "context": str(path)}, config, context=runtime
    )
    assert (first["answer"], first["turn"]) == ("7391-ALPHA", 1)
    second = await graph.ainvoke({"query": "What is the vault code now?"}, config, context=runtime)
    assert (second["answer"], second["turn"], second["status"]) == ("7391-ALPHA", 2, "done")
    other = tmp_path / "other.txt"
    other.write_text("something else")
    refused = await graph.ainvoke(
        {"query": "What is the vault access code?", "context": str(other)}, config, context=runtime
    )
    assert refused["status"] == "error" and "another context" in refused["error"]
    state = (await graph.aget_state(config)).values
    assert state["thread_context"]["uri"] == str(path.resolve())
    assert state["context"]["store_id"] == state["thread_context"]["store_id"]
