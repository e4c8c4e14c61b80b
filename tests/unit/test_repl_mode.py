"""REPL mode on the real graph (issue 15): cells run in the sandbox, their sub-calls are real
children (records, tree nodes, checkpoints, the one concurrency limit), a crash mid-batch
resumes the same cell, budgets refuse what they cannot pay. Hostile cells and secrets:
test_repl_security.py; a killed CLI process: test_durable_cli.py."""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from rlm_graph import RLM, prompts
from rlm_graph.cli import build_parser
from rlm_graph.errors import RLMError
from rlm_graph.graph.builder import build_rlm_graph
from rlm_graph.persistence import open_backend
from rlm_graph.protocol.message import content_text
from rlm_graph.protocol.repl import (
    FINAL_EXPRESSION_VAR,
    FINAL_WITH_CODE,
    NO_CODE_ERROR,
    parse_repl,
)
from rlm_graph.questions import mode_for
from rlm_graph.samples import make_haystack
from rlm_graph.settings import RunSettings
from rlm_graph.tree.load import aload, checkpoint_namespaces
from tests.unit.repl_fakes import (
    ERRORS,
    LOG,
    cell,
    is_answer_now,
    is_repl_turn,
    query_prompts,
    repl_model,
    repl_rlm,
    shown,
    transcripts,
)

# -- the protocol --------------------------------------------------------------------------


def test_protocol_reads_blocks_and_final_forms():
    turn = parse_repl("Look first.\n```repl\nprint(len(context))\n```\n```python\nx = 1\n```")
    assert turn.cells == ["print(len(context))\n", "x = 1\n"] and not turn.has_final
    assert parse_repl('FINAL("It is (3) things")').final == "It is (3) things"
    assert parse_repl("FINAL(42)").final == "42"
    assert parse_repl("Done.\nFINAL_VAR(total)").final_var == "total"
    assert parse_repl('FINAL_VAR("total")').final_var == "total"
    # Output the model imagined is neither code nor an answer.
    imagined = parse_repl("```\nFINAL(7)\n```\nFINAL_VAR(n)")
    assert imagined.final is None and imagined.final_var == "n" and not imagined.cells
    for output in ("```\n137\n```", "```\n['a', 'b']\n```", "```text\nx = 1\n```"):
        assert not parse_repl(output).cells
    # An untagged block that is a program is code (the 1.5B wrote its right code so).
    bare = parse_repl("```\nn = len(context)\nprint(n)\n```\n```\nprint(n)\n```")
    assert bare.cells == ["n = len(context)\nprint(n)\n", "print(n)\n"]


def test_protocol_final_inside_a_block_follows_the_code():
    turn = parse_repl(cell("n = 3\nFINAL_VAR(n)"))
    assert turn.cells == ["n = 3\n"] and turn.final_var == "n" and turn.final_in_code
    expression = parse_repl(cell("xs = [1, 2]\nFINAL(len(xs) + 1)"))
    assert expression.final_var == FINAL_EXPRESSION_VAR
    assert expression.cells[0].endswith(f"{FINAL_EXPRESSION_VAR} = (len(xs) + 1)\n")
    # Indented: the code's own business (a loop's body), not the reply's answer.
    assert not parse_repl(cell("for x in []:\n    FINAL(x)")).has_final


def test_protocol_errors_are_for_the_model():
    assert parse_repl("I think the answer is 4.").errors == [NO_CODE_ERROR]
    guessed = parse_repl(cell("x = 1") + "\nFINAL(5)")
    assert guessed.final is None and guessed.errors == [FINAL_WITH_CODE]


def test_mode_is_a_setting_everywhere():
    # A stored run names the mode it ran in (runs stored before modes existed: calls); a new
    # one picks it from its question unless told.
    assert RunSettings.model_fields["mode"].default == "calls"
    args = build_parser().parse_args(["ask", "q", "--context", "x", "--mode", "repl"])
    assert args.mode == "repl"
    assert build_parser().parse_args(["ask", "q", "--context", "x"]).mode == "auto"
    assert RLM(model="x").mode == "auto"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["ask", "q", "--mode", "code"])
    with pytest.raises(RLMError, match="unknown mode"):
        RLM(model="x", mode="code")  # type: ignore[arg-type]
    with pytest.raises(RLMError, match="planner"):
        RLM(model="x", mode="repl", planner="map-reduce")
    rlm = repl_rlm(repl_model(["FINAL(1)"]))
    assert rlm.runtime().settings().mode == "repl"


# -- cells on the graph ---------------------------------------------------------------------


async def test_a_count_is_answered_by_code_with_final_var():
    model = repl_model(
        [
            cell("import re\nn = len(re.findall(r'^ERROR', context, re.M))\nprint(n)"),
            "FINAL_VAR(n)",
        ]
    )
    result = await repl_rlm(model).ainvoke({"query": "How many ERROR lines?", "context": LOG})
    assert result.status == "done" and result.answer == str(ERRORS)
    assert result.route == "recursive" and result.found
    # A number the code computed is no located passage: answered, not grounded.
    assert not result.grounded and not result.citations
    assert shown(transcripts(model)[1], "cell 1", str(ERRORS))
    assert result.usage.model_calls == 2


async def test_a_sub_call_value_is_branched_on_in_the_same_cell():
    code = """
answer = llm_query("Is this log healthy? Reply yes or no: " + context[:200])
if answer.strip().lower() == "no":
    verdict = "unhealthy"
else:
    verdict = "healthy"
print(verdict)
"""
    model = repl_model([cell(code), "FINAL_VAR(verdict)"], query=lambda p: "no")
    # An open question: its answer is the code's, and nothing requires a passage for it.
    result = await repl_rlm(model).ainvoke({"query": "Describe the log's health.", "context": LOG})
    assert result.status == "done" and result.answer == "unhealthy"
    assert shown(transcripts(model)[1], "cell 1", "unhealthy")
    query = next(r for r in result.records if r.kind == "query")
    assert query.parent_id == "t1" and query.depth == 1 and query.answer == "no"
    assert query.task.startswith("Is this log healthy?") and query.usage.model_calls == 1


BATCH_OF_EIGHT = """
parts = [context[i:i + 500] for i in range(0, 4000, 500)]
replies = llm_query_batched(["Count ERROR lines: " + p for p in parts])
print(len(replies))
"""


def slow_queries(messages) -> float:
    # Sub-calls take long enough for the limiter, not the scheduler, to decide how many overlap.
    return 0.0 if is_repl_turn(messages) else 0.2


async def test_a_batch_runs_concurrently_and_its_calls_are_tree_nodes():
    model = repl_model([cell(BATCH_OF_EIGHT), "FINAL_VAR(replies)"], query=lambda p: "1")
    model.latency = slow_queries
    # Each part's count is the answer: a list, for a question that asks for no single number.
    result = await repl_rlm(model, concurrency=4).ainvoke(
        {"query": "What does each part say of ERROR lines?", "context": LOG}
    )
    assert result.status == "done" and result.answer == str(["1"] * 8)
    # Peak in flight, counted by the model: the eight sub-calls filled the one limit of 4 and
    # never went past it (the planner's turns come before and after the batch).
    assert model.max_in_flight == 4
    children = [r for r in result.records if r.kind == "query"]
    assert [r.id for r in children] == [f"t1.{i}" for i in range(1, 9)]
    tree = result.tree
    for child in children:
        assert tree.has_edge("t1", child.id)
        assert tree.nodes[child.id]["kind"] == "query"
        assert tree.nodes[child.id]["status"] == "done"
    assert result.usage.model_calls == 2 + 8


async def test_in_cell_children_are_in_the_checkpoints_and_the_stored_tree(tmp_path):
    db = str(tmp_path / "runs.sqlite")
    thread = f"shape-{uuid.uuid4().hex[:6]}"
    model = repl_model([cell(BATCH_OF_EIGHT), "FINAL_VAR(replies)"], query=lambda p: "1")
    rlm = repl_rlm(model, db)
    await rlm.ainvoke(
        {"query": "What does each part say of ERROR lines?", "context": LOG},
        {"configurable": {"thread_id": thread}},
    )
    children = [f"t1.{i}" for i in range(1, 9)]
    async with open_backend(db) as backend:
        graph = build_rlm_graph().compile(checkpointer=backend.saver)
        config = {"configurable": {"thread_id": thread}}
        history = [s async for s in graph.aget_state_history(config)]
        # query children are one model call each: no checkpoint namespace of their own.
        assert await checkpoint_namespaces(backend.saver, thread) == [""]
    # Two checkpoints with the cell paused: its batch sent (one Send per pending call), then
    # every answer in, before merge resumes the cell.
    waiting, answered = reversed([s for s in history if s.values.get("repl_pending")])
    assert waiting.next == tuple(["recurse"] * 8)
    assert answered.next == ("merge",)
    results = answered.values["child_results"]
    assert sorted(r["call_id"] for r in results) == children
    pending = waiting.values["repl_pending"]
    assert [p["call_id"] for p in pending] == children
    assert [p["function"] for p in pending] == ["llm_query_batched"] * 8
    assert len({p["id"] for p in pending}) == 8  # the sandbox's ids, one per batch item
    assert waiting.values["repl_state"].startswith(b"RLMREPL1")  # the paused session
    records = waiting.values["records"]
    for child in children:  # written when the child starts: in the tree before it answers
        assert records[child]["status"] == "running" and records[child]["parent_id"] == "t1"
        assert records[child]["kind"] == "query" and records[child]["depth"] == 1
    final = history[0].values
    assert not final["repl_pending"] and final["status"] == "done"
    assert all(final["records"][child]["status"] == "done" for child in children)
    stored = await aload(thread, db)
    assert sorted(stored.successors("t1")) == sorted(children)
    assert {stored.nodes[c]["kind"] for c in children} == {"query"}
    # The root's conversation is shown under the REPL system prompt it ran with.
    assert stored.nodes["t1"]["prompt"].startswith("[system]\nYou answer a question about a")
    assert "```repl" in stored.nodes["t1"]["prompt"].split("[model]")[0]
    # ... with the sub-call's reading limit filled in as the model read it.
    limit = f"reads about {rlm.runtime().reading_tokens():,} tokens at most"
    assert (
        limit in stored.nodes["t1"]["prompt"] and "{sub_tokens}" not in stored.nodes["t1"]["prompt"]
    )


async def test_rlm_query_on_a_slice_is_a_child_whose_finding_grounds_the_answer():
    text = make_haystack(12_000, seed=3, position=0.5)
    at = text.index("7391-ALPHA")
    code = """
start = context.find("7391-ALPHA") - 200
code = rlm_query("What is the vault access code?", context[start:start + 400])
print(code)
"""
    model = repl_model([cell(code), "FINAL_VAR(code)"])
    result = await repl_rlm(model).ainvoke(
        {"query": "What is the vault access code?", "context": text}
    )
    assert result.status == "done" and result.answer == "7391-ALPHA"
    child = next(r for r in result.records if r.id == "t1.1")
    assert child.kind == "leaf" and child.target.startswith("chars:")
    assert child.context_start <= at < child.context_end  # a span of the real context
    assert result.grounded and result.citations[0]["call_id"] == "t1.1"


async def test_a_lookup_read_off_printed_output_is_not_grounded():
    text = make_haystack(12_000, seed=3, position=0.5)
    code = 'import re\nprint(re.search(r"\\d{4}-ALPHA", context).group(0))'
    model = repl_model([cell(code), 'FINAL("7391-ALPHA")'])
    result = await repl_rlm(model).ainvoke(
        {"query": "What is the vault access code?", "context": text}
    )
    # What a cell printed is not located text: the answer is kept, never presented as found.
    assert result.status == "done" and not result.found and not result.grounded
    assert result.answer == "not found" and result.unverified_answer == "7391-ALPHA"


async def test_a_cell_error_is_shown_and_the_run_goes_on():
    model = repl_model(
        [
            cell("total = 0\nx = 1 / 0"),
            cell("total = len(context.splitlines())\nprint(total)"),
            "FINAL_VAR(total)",
        ]
    )
    result = await repl_rlm(model).ainvoke({"query": "How many lines?", "context": LOG})
    assert result.status == "done" and result.answer == "400"
    seen = transcripts(model)
    assert "ZeroDivisionError" in seen[1]
    assert shown(seen[2], "cell 2", "400")
    # A failed cell asks for a fix; a cell that printed asks whether that answers.
    assert "Write a corrected ```repl block" in seen[1] and "FINAL(" not in seen[1]
    assert "If this output answers the question" in seen[2]


async def test_a_cell_reaching_for_a_file_is_told_the_text_is_in_context():
    """The 0.5B model opened an imagined 'context.txt' six turns running; the error it is shown
    now says where the text is. A cell's own other errors get no such note."""
    model = repl_model(
        [
            cell("with open('context.txt') as f:\n    text = f.read()"),
            cell("x = 1 / 0"),
            cell("total = len(context.splitlines())"),
            "FINAL_VAR(total)",
        ]
    )
    result = await repl_rlm(model).ainvoke({"query": "How many lines?", "context": LOG})
    assert result.status == "done" and result.answer == "400"
    seen = transcripts(model)
    assert prompts.REPL_NO_FILES_HINT in seen[1]
    assert "ZeroDivisionError" in seen[2] and prompts.REPL_NO_FILES_HINT not in seen[2]


async def test_a_cell_cutting_context_down_is_not_run_and_says_why():
    # The 1.5B cut the text to lines it guessed: that changes what the code reads, so the cell
    # is refused, and `context` stays whole for the next one.
    code = "context = context.splitlines()[1000:1200]\nprint(len(context))"
    model = repl_model([cell(code), cell("total = len(context.splitlines())"), "FINAL_VAR(total)"])
    result = await repl_rlm(model).ainvoke({"query": "How many lines?", "context": LOG})
    seen = transcripts(model)
    assert prompts.REPL_CONTEXT_ASSIGNED in seen[1] and "cell 1" not in seen[1]
    assert "cell 1 printed:" in seen[2]  # the refused cell never ran
    assert result.status == "done" and result.answer == "400"


@pytest.mark.parametrize(
    ("load", "skipped"),
    [
        ('context = """Record 1 | pasted from the preview"""', 'context = """Record 1 | pasted'),
        ("with open('context.txt') as f:\n    context = f.read()", "with open('context.txt')"),
    ],
)
async def test_a_cell_loading_context_runs_without_the_load(load, skipped):
    # Small models load the input themselves first (the 0.5B: a file read in 4 of 4 first
    # cells, the rest of the cell a right count): the load is taken off and the rest runs on
    # the whole text, with a note naming the lines that did not run.
    code = f"{load}\n# count them\nprint(len(context.splitlines()))"
    model = repl_model([cell(code), "FINAL(400)"])
    result = await repl_rlm(model).ainvoke({"query": "How many lines?", "context": LOG})
    seen = transcripts(model)
    note = prompts.REPL_CONTEXT_LOAD_SKIPPED.split("{")[0]
    assert note in seen[1] and skipped in seen[1]
    assert shown(seen[1], "cell 1", "400")
    assert result.status == "done" and result.answer == "400"


async def test_the_same_cell_sent_again_is_not_run_and_the_next_turn_must_answer():
    # The 0.5B sent the cell that printed the right count back turn after turn: the repeat is
    # not run, and the next turn is asked for the answer apart from the transcript (with the
    # code and its output quoted), where a bare value is an answer.
    code = "n = sum(1 for line in context.splitlines() if line.startswith('ERROR'))\nprint(n)"
    model = repl_model([cell(code), cell(code), str(ERRORS)])
    result = await repl_rlm(model).ainvoke({"query": "How many errors?", "context": LOG})
    assert result.status == "done" and result.answer == str(ERRORS)
    turns = [call for call in model.calls if is_repl_turn(call)]
    assert len(turns) == 3 and not is_answer_now(turns[1]) and is_answer_now(turns[2])
    asked = content_text(turns[2][-1].content)
    assert "How many errors?" in asked and "startswith('ERROR')" in asked
    assert f"Printed:\ncell 1 printed:\n{ERRORS}" in asked
    assert f"FINAL({ERRORS})" in asked  # the repeat's note offers the line to write
    assert len(turns[2]) == 2  # system and one question: none of the model's own turns


async def test_an_answer_turn_that_writes_code_gives_up():
    # Made to answer, a model that still writes code is not going to: the run ends without an
    # answer nothing computed (the sandbox is not run again).
    code = "print(len(context))"
    model = repl_model([cell(code), cell(code), cell("print(1)")])
    result = await repl_rlm(model).ainvoke({"query": "How long?", "context": LOG})
    assert result.status == "budget_exhausted" and not result.answer
    assert sum(1 for call in model.calls if is_answer_now(call)) == 1


async def test_a_reply_without_code_is_told_and_variables_persist_across_turns():
    model = repl_model(["Let me think.", cell("n = 41"), cell("n += 1\nprint(n)"), "FINAL_VAR(n)"])
    result = await repl_rlm(model).ainvoke({"query": "How many things?", "context": LOG})
    assert result.answer == "42"
    assert NO_CODE_ERROR in transcripts(model)[1]


async def test_a_batch_beyond_the_budget_is_refused_whole_and_readably():
    code = """
try:
    replies = llm_query_batched(["q%d" % i for i in range(10)])
except RuntimeError as exc:
    print("refused:", exc)
    replies = []
print(len(replies))
"""
    model = repl_model([cell(code), "FINAL_VAR(replies)"])
    result = await repl_rlm(model, max_calls=5).ainvoke(
        {"query": "What replies come back?", "context": LOG}
    )
    seen = transcripts(model)[1]
    assert "refused: llm_query_batched() failed: item 0: not run: 10 sub-call(s) asked" in seen
    assert query_prompts(model) == []  # nothing was run, nothing was paid
    assert not [r for r in result.records if r.kind == "query"]
    assert result.status == "done" and "[]" in (result.answer, result.unverified_answer)


async def test_a_token_budget_refuses_an_oversized_call():
    code = """
try:
    llm_query(context[:2000])
except RuntimeError as exc:
    print("refused:", exc)
"""
    model = repl_model([cell(code), "FINAL(none)"])
    result = await repl_rlm(model, max_tokens=1000, sub_window_tokens=4000).ainvoke(
        {"query": "How many lines?", "context": LOG}
    )
    assert "refused: not run: they need ~" in transcripts(model)[1]
    assert query_prompts(model) == []
    assert result.status in ("done", "budget_exhausted")


# -- durability ------------------------------------------------------------------------------


class Crash(BaseException):
    """Stands in for the process dying: nothing in the graph catches it."""


def crash_after_queries(count: int):
    finished: list[str] = []

    def on_event(event):
        if event.get("event") == "call_finished" and event.get("kind") == "query":
            finished.append(event["id"])
            if len(finished) == count:
                raise Crash()

    return on_event


BATCH_CELLS = [
    cell("base = len(context.splitlines())"),
    cell(
        """
marker = "set before the batch"
replies = llm_query_batched(["item %d" % i for i in range(8)])
print(base, marker, replies)
"""
    ),
    "FINAL_VAR(replies)",
]


async def test_a_crash_mid_batch_resumes_the_same_cell(tmp_path):
    db = str(tmp_path / "runs.sqlite")
    thread = f"repl-crash-{uuid.uuid4().hex[:6]}"
    config = {"configurable": {"thread_id": thread}}
    options = {"concurrency": 2, "durability": "sync"}

    def slow(messages):
        return 0.0 if is_repl_turn(messages) else 0.05

    first = repl_model(BATCH_CELLS, latency=slow)
    rlm = repl_rlm(first, db, **options, on_event=crash_after_queries(3))
    with pytest.raises(Crash):
        await rlm.ainvoke({"query": "Summarize what the items say.", "context": LOG}, config)
    detail = await rlm.ashow(thread)
    assert detail.status == "crashed"
    done_before = {r.task for r in detail.records if r.kind == "query" and r.status == "done"}
    assert len(done_before) >= 3

    # A new process: a new RLM, model and runtime; the session comes back from its bytes.
    second = repl_model(lambda messages, turn: BATCH_CELLS[2])
    resumer = repl_rlm(second, db, **options)
    result = await resumer.aresume(thread)
    assert result.status == "done", result.error
    rerun = set(query_prompts(second))
    assert not rerun & done_before  # no finished sub-call paid twice
    assert rerun | done_before == {f"item {i}" for i in range(8)}
    expected = [f"ITEM {i}" for i in range(8)]
    assert result.answer == str(expected)
    # The resumed cell printed variables set before the crash (in it and in an earlier cell).
    assert f"400 set before the batch {expected}" in transcripts(second)[0]
    queries = [r for r in result.records if r.kind == "query"]
    assert len(queries) == 8 and all(r.status == "done" for r in queries)


async def test_checkpoints_hold_the_session_state_without_the_context(tmp_path):
    db = str(tmp_path / "runs.sqlite")
    big = LOG * 40  # ~800 KB
    model = repl_model([cell("n = len(context)\nx = llm_query('hi')"), "FINAL_VAR(n)"])
    query = {"query": "How many characters are there?", "context": big}
    result = await repl_rlm(model, db).ainvoke(query)
    assert result.answer == str(len(big))
    with sqlite3.connect(db) as conn:
        sizes = [len(row[0] or b"") for row in conn.execute("SELECT checkpoint FROM checkpoints")]
        writes = [len(row[0] or b"") for row in conn.execute("SELECT value FROM writes")]
    assert max(sizes + writes) < 64_000  # the context is 800 KB; no step stores it


async def test_rlm_query_children_plan_in_code_at_depth_two():
    text = make_haystack(20_000, seed=3, position=0.7)
    root_cell = cell(
        """
half = len(context) // 2
found = rlm_query_batched([("find the code", context[:half]), ("find the code", context[half:])])
answer = [x for x in found if x != "not found"][0]
FINAL_VAR(answer)
"""
    )
    child_cell = cell(
        """
parts = [context[i:i + 1800] for i in range(0, len(context), 1600)]
replies = [rlm_query("What is the vault access code?", p) for p in parts]
codes = [r for r in replies if r != "not found"]
answer = codes[0] if codes else "not found"
FINAL_VAR(answer)
"""
    )

    def turns(messages, turn):
        return child_cell if "Question: find the code" in str(messages[1].content) else root_cell

    model = repl_model(turns, latency=0.01)
    result = await repl_rlm(model, max_depth=2).ainvoke(
        {"query": "What is the vault access code?", "context": text}
    )
    assert result.status == "done" and result.answer == "7391-ALPHA"
    nodes = {r.id: r for r in result.records}
    assert nodes["t1.1"].kind == nodes["t1.2"].kind == "node"  # children that wrote code
    leaves = [r for r in result.records if r.depth == 2]
    assert leaves and all(r.kind == "leaf" and r.parent_id in nodes for r in leaves)
    # The finding travels up from a leaf over located text: the root's answer is grounded.
    assert result.grounded and nodes["t1.2"].verified


def test_sync_invoke_runs_cells_too():
    model = repl_model([cell("xs = llm_query_batched(['a', 'b'])"), "FINAL_VAR(xs)"])
    result = repl_rlm(model).invoke({"query": "Summarize the replies.", "context": LOG})
    assert result.status == "done" and result.answer == "['A', 'B']"


@pytest.mark.parametrize(
    ("question", "mode"),
    [
        ("How many records have label refund?", "repl"),
        ("Count the ERROR lines.", "repl"),
        ("What is the total of all invoices in March?", "repl"),
        ("How many times is the word 'ferry' used?", "repl"),
        ("How many functions call parse_args?", "repl"),
        # The text's own units counted, in other words.
        ("Give the number of records with the label invoice.", "repl"),
        ("In how many lines is the level WARNING?", "repl"),
        ("How many inquiry entries does the log hold?", "repl"),
        # A quantity the text states about one thing is a lookup.
        ("What is the number of passengers the ferry holds?", "calls"),
        ("What is the number of companies listed?", "calls"),
        ("How many employees does Acme have?", "calls"),
        ("How many people live in Ravensholm?", "calls"),
        ("What is the vault access code?", "calls"),
        ("Who reports to Ana Ruiz?", "calls"),
        ("For each section, say what it is about.", "calls"),
    ],
)
def test_auto_picks_the_mode_from_the_question(question, mode):
    assert mode_for(question) == mode
    assert RLM(model="x", mode="auto").mode_for(question) == mode
    # The map-reduce planner plans in CALLs, whatever the question.
    assert RLM(model="x", mode="auto", planner="map-reduce").mode_for(question) == "calls"
    assert build_parser().parse_args(["ask", question, "--mode", "auto"]).mode == "auto"


async def test_auto_runs_a_count_in_repl_and_a_lookup_in_calls_and_stores_which(tmp_path):
    code = "n = sum(1 for line in context.splitlines() if line.startswith('ERROR'))\nprint(n)"
    model = repl_model([cell(code), "FINAL_VAR(n)"])
    rlm = repl_rlm(model, checkpointer=str(tmp_path / "c.sqlite"), mode="auto")
    counted = await rlm.ainvoke({"query": "How many ERROR lines are there?", "context": LOG})
    assert counted.answer == str(ERRORS) and all(is_repl_turn(call) for call in model.calls)
    assert rlm.show(counted.thread_id).settings.mode == "repl"
    # A lookup on the same RLM plans in CALL actions (no REPL prompt is sent).
    lookup = await rlm.ainvoke({"query": "Which disk is full first?", "context": LOG})
    assert rlm.show(lookup.thread_id).settings.mode == "calls"
    assert len([call for call in model.calls if is_repl_turn(call)]) == 2
