"""REPL mode on a small model's replies: a bare value with no FINAL, an error message given as
the answer, a placeholder copied from the instructions, a FINAL_VAR naming no variable. Each
gets a short correction the model can act on, never a final answer; and no example in the
REPL prompts is a reply that would be taken as an answer."""

from __future__ import annotations

import ast
import re

import pytest

from rlm_graph import prompts
from rlm_graph.protocol.context_loads import pastes_cut_off, take_off_context_loads
from rlm_graph.protocol.repl import (
    FINAL_IS_ERROR,
    FINAL_IS_PLACEHOLDER,
    FINAL_VAR_NOT_A_NAME,
    FINAL_WITH_CODE,
    NO_CODE_ERROR,
    assigned_names,
    bare_value_error,
    parse_repl,
)
from tests.unit.repl_fakes import LOG, cell, repl_model, repl_rlm, transcripts

pytest.importorskip("pydantic_monty")

LINES = len(LOG.splitlines())
COUNT_CELL = cell("n = len(context.splitlines())\nprint(n)")
QUESTION = {"query": "How many lines are there?", "context": LOG}

# -- the protocol ----------------------------------------------------------------------------


@pytest.mark.parametrize("reply", ["42", " 42. ", "12 records", "Paris"])
def test_a_bare_value_is_told_how_to_answer_with_it(reply):
    turn = parse_repl(reply)
    value = reply.strip().rstrip(".")
    assert not turn.has_final and turn.errors == [bare_value_error(value)]
    assert turn.errors[0].endswith(f"FINAL({value})")


@pytest.mark.parametrize("reply", ["Let me think.", "I think the answer is 4.", ""])
def test_prose_without_code_or_final_gets_the_general_correction(reply):
    assert parse_repl(reply).errors == [NO_CODE_ERROR]


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("FINAL(<answer>)", FINAL_IS_PLACEHOLDER.format(argument="<answer>")),
        ('FINAL("<answer>")', FINAL_IS_PLACEHOLDER.format(argument='"<answer>"')),
        ("FINAL(...)", FINAL_IS_PLACEHOLDER.format(argument="...")),
        ("FINAL_VAR(<variable>)", FINAL_VAR_NOT_A_NAME.format(argument="<variable>")),
        ("FINAL_VAR(len(xs))", FINAL_VAR_NOT_A_NAME.format(argument="len(xs)")),
    ],
)
def test_a_copied_placeholder_is_an_error_not_an_answer(reply, error):
    for text in (reply, cell(f"xs = [1]\n{reply}")):
        turn = parse_repl(text)
        assert not turn.has_final and turn.errors == [error], text
    # Inside a block the bad last line is taken off, so the rest of the cell still runs.
    assert parse_repl(cell(f"xs = [1]\n{reply}")).cells == ["xs = [1]\n"]


def test_final_with_a_bare_name_in_prose_may_mean_a_variable():
    turn = parse_repl("FINAL(count)")
    assert turn.final == "count" and turn.final_is_name
    beside_code = parse_repl(cell("count = 3") + "\nFINAL(count)")
    assert beside_code.final == "count" and not beside_code.errors  # read after the cell
    assert parse_repl("FINAL(42)").final == "42" and not parse_repl("FINAL(42)").final_is_name
    assert parse_repl(cell("x = 1") + "\nFINAL(5)").errors == [FINAL_WITH_CODE]


def test_no_example_in_the_repl_prompts_can_be_copied_as_an_answer():
    texts = [
        prompts.REPL_SYSTEM.format(sub_tokens="1,000"),
        prompts.REPL_FIRST_TURN.format(
            query="q",
            earlier="",
            description="d",
            scope=prompts.REPL_SCOPE_TEXT,
            budget="b",
            shape=prompts.REPL_COUNT_SHAPE.format(fields="record_fields"),
        ),
        prompts.REPL_SCOPE_FILES,
        prompts.REPL_OBSERVATIONS.format(observations="o", budget="b"),
        prompts.REPL_FORCE_FINAL.format(reason="r"),
    ]
    forms = [m for text in texts for m in re.findall(r"FINAL(?:_VAR)?\([^)]*\)", text)]
    assert {"FINAL(<answer>)", "FINAL_VAR(<variable>)"} <= set(forms)
    for form in forms:
        # Copied alone, or as the last line of a block: an error, never an answer.
        for reply in (form, cell(f"x = 1\n{form}")):
            turn = parse_repl(reply)
            assert not turn.has_final and turn.errors, reply
    # The prompts as a whole are no reply that answers either.
    assert not any(parse_repl(text).has_final for text in texts)
    # The shape of a count, copied without its conditions, is no program.
    (shape,) = parse_repl(prompts.REPL_COUNT_SHAPE.format(fields="record_fields")).cells
    with pytest.raises(SyntaxError):
        ast.parse(shape)


def test_assigned_names_are_the_module_level_ones():
    code = "import re\nn = 1\nrows, total = [], 0\nfor line in []:\n    seen = line\n"
    code += "def f(a):\n    inner = a\n    return inner\nxs = [y for y in range(3)]\n"
    assert assigned_names(code) == ["n", "rows", "total", "line", "seen", "xs"]
    assert assigned_names("x = (") == []


# -- on the graph, with a fake model making the mistakes -------------------------------------


@pytest.mark.parametrize(
    ("code", "kept", "skipped"),
    [
        # A load at the top, inside a loop's body, and as a with-block around other work.
        (
            "context = open('c.txt').read()\nprint(1)",
            "print(1)",
            ["context = open('c.txt').read()"],
        ),
        (
            "for _ in range(1):\n    context = 'pasted'\nprint(2)",
            "for _ in range(1):\n    pass\nprint(2)",
            ["context = 'pasted'"],
        ),
        (
            "with open('c.txt') as f:\n    context = f.read()\n    n = len(context)\nprint(n)",
            "n = len(context)\nprint(n)",
            ["with open('c.txt') as f:", "context = f.read()"],
        ),
    ],
)
def test_a_load_of_context_is_taken_off_and_named(code, kept, skipped):
    loads = take_off_context_loads(code, "context")
    assert loads.code.strip() == kept and loads.skipped == skipped


@pytest.mark.parametrize(
    "code",
    [
        "context = context[1000:2000]\nprint(len(context))",  # derived: the caller refuses it
        "def f(context):\n    context = 'x'\n    return context\n# a comment stays\nprint(f(1))",
        "with open('c.txt') as f:\n    text = f.read()",  # another name: the sandbox refuses
        "print(len(context)",  # does not parse
    ],
)
def test_code_without_a_load_of_context_is_left_as_written(code):
    loads = take_off_context_loads(code, "context")
    assert loads.code == code and not loads.skipped


def test_a_long_pasted_load_is_quoted_short():
    code = 'context = """' + "Record 1 | x\n" * 50 + '"""\nprint(1)'
    (quoted,) = take_off_context_loads(code, "context").skipped
    assert quoted.endswith(" ...") and len(quoted) <= 84


@pytest.mark.parametrize(
    ("code", "cut"),
    [
        ('import re\ncontext = """\n[2023-01-01] #1 a: x\n[2023-01-02] #2 b: y', True),
        ("context: str = r'''Record 1 | x\nRecord 2 |", True),
        ('context = """a"""\nprint(len(context))', False),  # closed: taken off, the rest runs
        ('text = """a\nb', False),  # not context
        ("x = (", False),
        ('lines = context.splitlines()\nprint("""done""")', False),
    ],
)
def test_a_paste_into_context_cut_off_is_told_apart(code, cut):
    assert pastes_cut_off(code, "context") is cut


async def test_a_paste_cut_off_is_not_run_and_says_why():
    pasted = '```repl\nimport re\ncontext = """\n' + "[2023-01-01] #1 x: words\n" * 30
    model = repl_model([pasted, COUNT_CELL, "FINAL_VAR(n)"])
    result = await repl_rlm(model).ainvoke(QUESTION)
    after = transcripts(model)[1]
    assert "was cut off before that string ended" in after and "SyntaxError" not in after
    assert result.answer == str(LINES)


async def test_a_collection_for_a_number_is_refused_and_its_size_said():
    # The 1.5B printed the right count, then answered FINAL_VAR with the list it counted.
    listing = cell("rows = context.splitlines()\nprint(len(rows))")
    model = repl_model([listing, "FINAL_VAR(rows)", f"FINAL({LINES})"])
    result = await repl_rlm(model).ainvoke(QUESTION)
    after = transcripts(model)[2]
    assert f"'rows' is a list of {LINES:,} items, and the question asks for a number" in after
    assert result.status == "done" and result.answer == str(LINES)


async def test_a_collection_is_an_answer_when_no_number_is_asked():
    listing = cell("names = sorted({line.split()[0] for line in context.splitlines()})")
    model = repl_model([listing, "FINAL_VAR(names)"])
    result = await repl_rlm(model).ainvoke(
        {"query": "Which words begin the lines?", "context": LOG}
    )
    words = str(sorted({line.split()[0] for line in LOG.splitlines()}))
    assert result.status == "done" and words in (result.answer, result.unverified_answer)


async def test_a_bare_number_gets_a_correction_then_the_answer_stands():
    model = repl_model([COUNT_CELL, str(LINES), f"FINAL({LINES})"])
    result = await repl_rlm(model).ainvoke(QUESTION)
    seen = transcripts(model)
    assert f"reply with exactly: FINAL({LINES})" in seen[2]
    assert result.status == "done" and result.answer == str(LINES)
    assert result.usage.model_calls == 3


async def test_final_var_of_an_unknown_name_is_an_error_listing_the_variables():
    model = repl_model([COUNT_CELL, "FINAL_VAR(name)", "FINAL_VAR(n)"])
    result = await repl_rlm(model).ainvoke(QUESTION)
    seen = transcripts(model)
    assert "no variable 'name' is set" in seen[2]
    assert "Variables your code set (latest first): n." in seen[2]
    assert result.status == "done" and result.answer == str(LINES)  # not "name", not an error


async def test_a_variable_a_failed_cell_never_set_is_not_listed():
    # The 1.5B's cell failed on `count = count + 1` (never set); it was told "no variable
    # 'count' is set. Variables your code set: count", and sent FINAL_VAR(count) again.
    failing = cell("for line in context.splitlines():\n    count = count + 1")
    model = repl_model([failing, "FINAL_VAR(count)", COUNT_CELL, "FINAL_VAR(n)"])
    result = await repl_rlm(model).ainvoke(QUESTION)
    seen = transcripts(model)
    # The loop ran once before the error: `line` is set, `count` never was.
    assert "no variable 'count' is set" in seen[2]
    assert "Variables your code set (latest first): line." in seen[2]
    assert result.answer == str(LINES)


async def test_a_failed_cell_asks_for_a_fix_even_when_a_final_note_follows_it():
    failing = cell("count = count + 1") + "\nFINAL_VAR(count)"
    model = repl_model([failing, COUNT_CELL, "FINAL_VAR(n)"])
    result = await repl_rlm(model).ainvoke(QUESTION)
    after = transcripts(model)[1]
    assert "NameError" in after and "no variable 'count' is set" in after
    assert after.endswith(prompts.REPL_OBSERVATIONS_FAILED.rsplit("\n", 1)[-1])
    assert result.answer == str(LINES)


async def test_final_var_before_any_code_says_there_are_no_variables():
    model = repl_model(["FINAL_VAR(result)", COUNT_CELL, "FINAL_VAR(n)"])
    result = await repl_rlm(model).ainvoke(QUESTION)
    assert "Your code has set no variables" in transcripts(model)[1]
    assert result.answer == str(LINES)


async def test_final_of_a_name_is_the_variable_or_else_a_placeholder_error():
    # ``FINAL(answer)`` copied from instructions, with no ``answer`` set: told, not answered.
    model = repl_model([COUNT_CELL, "FINAL(answer)", cell("answer = n * 2"), "FINAL(answer)"])
    result = await repl_rlm(model).ainvoke(QUESTION)
    seen = transcripts(model)
    assert FINAL_IS_PLACEHOLDER.format(argument="answer") in seen[2]
    assert "Variables your code set (latest first): n." in seen[2]
    # Once the code set ``answer``, the same reply answers with its value.
    assert result.status == "done" and result.answer == str(2 * LINES)


async def test_a_copied_error_message_is_not_an_answer():
    error = "NameError: name 'totl' is not defined"
    model = repl_model([cell("total = totl + 1"), f"FINAL({error})", COUNT_CELL, "FINAL_VAR(n)"])
    result = await repl_rlm(model).ainvoke(QUESTION)
    seen = transcripts(model)
    assert error in seen[1]  # the cell's own error, shown
    assert FINAL_IS_ERROR in seen[2]  # handing it back is refused
    assert result.status == "done" and result.answer == str(LINES)


async def test_a_variable_holding_an_error_is_not_an_answer_either():
    code = "try:\n    n = int('many')\nexcept ValueError as exc:\n    n = 'ValueError: ' + str(exc)"
    model = repl_model([cell(code), "FINAL_VAR(n)", COUNT_CELL, "FINAL_VAR(n)"])
    result = await repl_rlm(model).ainvoke(QUESTION)
    assert FINAL_IS_ERROR in transcripts(model)[2]
    assert result.answer == str(LINES)


async def test_a_plain_word_in_final_is_still_a_literal_answer():
    model = repl_model([COUNT_CELL, "FINAL(four_hundred)"])
    result = await repl_rlm(model).ainvoke({**QUESTION, "query": "Describe the length."})
    assert result.status == "done" and result.answer == "four_hundred"


BROKEN_CELL = cell("import re\nlines = context.splitlines()\nn = len(re.findall('x', lines))")


async def test_the_same_failing_cell_is_not_run_again_and_says_why():
    # A small model at temperature 0 resends the cell that failed, word for word (with blank
    # lines or trailing spaces of its own too): refused with the error it raised, not run.
    respaced = BROKEN_CELL.replace("splitlines()", "splitlines()   ").replace("\nn =", "\n\nn =")
    model = repl_model([BROKEN_CELL, respaced, COUNT_CELL, "FINAL_VAR(n)"])
    result = await repl_rlm(model).ainvoke(QUESTION)
    seen = transcripts(model)
    assert "cell 1 printed:" in seen[1] and "TypeError" in seen[1]
    same = prompts.REPL_SAME_FAILED_CODE.split("{error}")[0]
    assert same in seen[2] and "TypeError: expected string" in seen[2]
    # Not run: the next cell the sandbox runs is its second.
    assert "cell 2 printed:" in seen[3] and "cell 3" not in seen[3]
    assert result.status == "done" and result.answer == str(LINES)


async def test_a_changed_cell_after_a_failure_runs():
    fixed = BROKEN_CELL.replace("lines))", "context))")
    model = repl_model([BROKEN_CELL, fixed, "FINAL_VAR(n)"])
    result = await repl_rlm(model).ainvoke(QUESTION)
    assert "cell 2 printed:" in transcripts(model)[2]
    assert result.status == "done" and result.answer == str(LOG.count("x"))


async def test_a_final_value_nothing_computed_is_not_an_answer():
    # Every cell failed, then a number: nothing computed it. Told so; then answered by code.
    model = repl_model([BROKEN_CELL, "FINAL(1)", COUNT_CELL, "FINAL_VAR(n)"])
    result = await repl_rlm(model).ainvoke(QUESTION)
    assert "FINAL(1) was not taken: none of your code has run" in transcripts(model)[2]
    assert result.status == "done" and result.answer == str(LINES)


async def test_a_number_no_output_showed_is_not_an_answer():
    # The code printed the matches, one a line; the model answered with a number it did not
    # see. Told so, it answers with the count of lines it was shown.
    matches = cell("for line in context.splitlines():\n    print(line[:3])")
    model = repl_model([matches, "FINAL(3)", f"FINAL({LINES})"])
    result = await repl_rlm(model).ainvoke(QUESTION)
    seen = transcripts(model)
    assert f"the cell printed {LINES} lines" in seen[1]
    assert "FINAL(3) was not taken: no output of your code shows 3" in seen[2]
    assert result.status == "done" and result.answer == str(LINES)


async def test_a_number_the_code_only_wrote_out_is_not_shown():
    # print(129) writes a number, it does not compute one.
    model = repl_model([cell("print(129)"), "FINAL(129)", COUNT_CELL, f"FINAL({LINES})"])
    result = await repl_rlm(model).ainvoke(QUESTION)
    assert "FINAL(129) was not taken" in transcripts(model)[2]
    assert result.status == "done" and result.answer == str(LINES)


@pytest.mark.parametrize(
    ("query", "final"),
    [
        ("How many lines are there?", f"FINAL({LINES})"),  # printed by the code
        ("How many lines are there?", f"FINAL(There are {LINES} lines.)"),
        ("Which line comes second?", "FINAL(INFO request 1 ok)"),  # no number asked for
    ],
)
async def test_a_written_answer_the_code_backs_stands(query, final):
    model = repl_model([COUNT_CELL, final])
    result = await repl_rlm(model).ainvoke({**QUESTION, "query": query})
    assert result.status == "done" and "was not taken" not in "".join(transcripts(model))
    assert len(transcripts(model)) == 2  # taken on the turn it was given


async def test_a_guess_on_the_last_turn_after_failed_code_ends_without_an_answer():
    model = repl_model([BROKEN_CELL, BROKEN_CELL, "FINAL(1)"])
    result = await repl_rlm(model, max_iterations=3).ainvoke(QUESTION)
    assert result.status == "budget_exhausted" and result.error == "planner turn limit reached"
    assert result.answer != "1"


async def test_the_same_lines_indented_otherwise_are_another_program_and_run():
    inside = cell("n = 0\nfor line in context.splitlines():\n    n += 1\n    assert n > 1")
    after = cell("n = 0\nfor line in context.splitlines():\n    n += 1\nassert n > 1")
    model = repl_model([inside, after, "FINAL_VAR(n)"])
    result = await repl_rlm(model).ainvoke(QUESTION)
    seen = transcripts(model)
    assert "AssertionError" in seen[1] and "cell 2 printed:" in seen[2]
    assert result.status == "done" and result.answer == str(LINES)


async def test_final_called_inside_the_code_answers_with_what_the_code_computed():
    computed = cell("n = len(context.splitlines())\nprint(FINAL(n))")
    model = repl_model([computed, "FINAL(1)"])
    result = await repl_rlm(model).ainvoke(QUESTION)
    assert result.status == "done" and result.answer == str(LINES)
    assert result.usage.model_calls == 1


async def test_final_inside_code_that_then_fails_is_not_taken():
    broken = cell("n = len(context.splitlines())\nFINAL(n)\nprint(undefined_name)")
    model = repl_model([broken, COUNT_CELL, "FINAL_VAR(n)"])
    result = await repl_rlm(model).ainvoke(QUESTION)
    assert "NameError" in transcripts(model)[1]
    assert result.status == "done" and result.answer == str(LINES)
    assert result.usage.model_calls == 3


async def test_the_first_turn_says_how_to_reach_all_of_the_context(tmp_path):
    # The 1.5B sliced the text at line numbers it guessed in 6 of 6 first cells until told how
    # to reach all of it: a text's every line, a folder's every file.
    model = repl_model([COUNT_CELL, "FINAL_VAR(n)"])
    await repl_rlm(model).ainvoke(QUESTION)
    first = transcripts(model)[0]
    assert prompts.REPL_SCOPE_TEXT in first and prompts.REPL_SCOPE_FILES not in first
    (tmp_path / "a.log").write_text(LOG)
    (tmp_path / "b.log").write_text(LOG)
    model = repl_model([cell("n = len(context)\nprint(n)"), "FINAL_VAR(n)"])
    result = await repl_rlm(model).ainvoke({"query": "How many files?", "context": str(tmp_path)})
    first = transcripts(model)[0]
    assert prompts.REPL_SCOPE_FILES in first and prompts.REPL_SCOPE_TEXT not in first
    assert result.answer == "2"


RECORDS = "\n".join(
    f"Record {i:04d} | 2024-0{i % 5 + 1}-1{i % 5} | label: {('refund', 'invoice')[i % 2]} | words"
    for i in range(1, 101)
)
WINDOWED = "How many records have label refund and a date from 2024-01-01 to 2024-03-31?"


def _counter(condition: str) -> str:
    return cell(
        "count = 0\nfor line in context.splitlines():\n    f = record_fields(line)\n"
        f"    if f and {condition}:\n        count += 1\nprint(count)"
    )


async def test_a_count_that_leaves_out_a_condition_of_the_question_is_not_taken():
    fields = [line.split(" | ") for line in RECORDS.splitlines()]
    refunds = [f for f in fields if f[2] == "label: refund"]
    in_window = [f for f in refunds if "2024-01-01" <= f[1] <= "2024-03-31"]
    assert 0 < len(in_window) < len(refunds)
    label = "f[2] == 'label: refund'"
    both = label + " and '2024-01-01' <= f[1] <= '2024-03-31'"
    turns = [_counter(label), f"FINAL({len(refunds)})", _counter(both), f"FINAL({len(in_window)})"]
    model = repl_model(turns)
    result = await repl_rlm(model).ainvoke({"query": WINDOWED, "context": RECORDS})
    first, seen = transcripts(model)[0], transcripts(model)[1:]
    # The first turn shows how the fields hold the question's values, and the shape of a
    # count over the records with the conditions left out.
    assert "if f and <conditions>:" in first and "f = record_fields(line)" in first
    named = "f[2].split(': ', 1)[1] == 'refund'; f[1] >= '2024-01-01' and f[1] <= '2024-03-31'"
    assert named in first
    # The count that left out the dates is not taken; the next turn is the opening prompt
    # again with that cell and why, not the conversation (whose reply a small model repeats).
    assert seen[0].startswith(first) and _counter(label) in seen[0]
    assert "not taken: your code does not test '2024-01-01', '2024-03-31'" in seen[0]
    assert f"FINAL({len(refunds)}) was not taken" in seen[1]
    assert result.status == "done" and result.answer == str(len(in_window))


async def test_no_count_shape_for_a_question_that_does_not_count():
    model = repl_model([_counter("f[2] == 'label: refund'"), "FINAL(50)"])
    await repl_rlm(model).ainvoke({"query": "Which label comes first?", "context": RECORDS})
    assert "<conditions>" not in transcripts(model)[0]
    assert "not taken" not in transcripts(model)[1]  # only a count is held to its values


@pytest.mark.parametrize("tag", ["repl", "python", "Python"])
def test_a_code_tag_on_the_line_after_a_bare_fence_tags_the_block(tag):
    # The 1.5B wrote "```" and then "repl" on a line of its own: the cell ran "repl" as a
    # name and failed, then was refused as the same failing cell to its turn limit.
    turn = parse_repl(f"```\n{tag}\ncount = len(context)\nprint(count)\n```")
    assert turn.cells == ["count = len(context)\nprint(count)\n"] and not turn.errors
    # A program whose first line is a name of another kind is left as it is.
    assert parse_repl("```\nrepl_count = 1\nprint(repl_count)\n```").cells == [
        "repl_count = 1\nprint(repl_count)\n"
    ]


@pytest.mark.parametrize(
    "answer_with",
    [
        "FINAL_VAR(count)",  # the variable the count that was not taken set
        None,  # FINAL called inside that cell
    ],
)
async def test_the_count_of_a_cell_that_was_not_taken_is_no_answer_in_any_form(answer_with):
    fields = [line.split(" | ") for line in RECORDS.splitlines()]
    refunds = [f for f in fields if f[2] == "label: refund"]
    in_window = [f for f in refunds if "2024-01-01" <= f[1] <= "2024-03-31"]
    label = "f[2] == 'label: refund'"
    both = label + " and '2024-01-01' <= f[1] <= '2024-03-31'"
    dropped = _counter(label)
    if answer_with is None:
        dropped = dropped.replace("print(count)", "print(FINAL(count))")
    turns = [dropped, answer_with or "FINAL(1)", _counter(both), f"FINAL({len(in_window)})"]
    model = repl_model(turns)
    result = await repl_rlm(model).ainvoke({"query": WINDOWED, "context": RECORDS})
    seen = transcripts(model)
    assert "not taken: your code does not test" in seen[1]
    if answer_with:
        assert f"'count' holds {len(refunds)}, the count of a cell that was not taken" in seen[2]
    assert result.status == "done" and result.answer == str(len(in_window))


async def test_a_variable_with_no_number_is_no_answer_to_a_number_question():
    # The 1.5B answered a count with its function: "<function 'record_fields' at 0x2c>".
    count_all = _counter("f[2] == 'label: refund'")
    model = repl_model([count_all, "FINAL_VAR(record_fields)", "FINAL_VAR(count)"])
    question = "How many records have label refund?"
    result = await repl_rlm(model).ainvoke({"query": question, "context": RECORDS})
    assert "'record_fields' holds \"<function 'record_fields'" in transcripts(model)[2]
    assert result.status == "done" and result.answer == "50"
