"""Records told apart from other text, described to the REPL model by a real line's fields, and
read by the ``record_fields`` function the REPL binds."""

from __future__ import annotations

import inspect
import json
import re

import pytest

from rlm_graph.context import open_context
from rlm_graph.context.layout import (
    FIELDS_FUNCTION,
    describe_layout,
    describe_pattern,
    describe_records,
    fields_code,
    find_records,
    line_pattern,
    question_values,
    record_layout,
)
from rlm_graph.graph.repl_turn import describe_context
from rlm_graph.protocol.repl import untested_values
from tests.unit.repl_fakes import cell, repl_model, repl_rlm

PIPES = "\n".join(
    f"Record {i:04d} | 2024-0{i}-1{i} | label: {lab} | Some words, and more; here."
    for i, lab in enumerate(["refund", "invoice", "refund", "shipment", "refund"], 1)
)
CSV = "name,age,city\n" + "\n".join(f"person{i},{30 + i},Town {i}" for i in range(8))
TSV = "\n".join(f"{i}\tlevel=INFO\tworker-{i}\tstarted job {i}" for i in range(6))
SEMICOLONS = "\n".join(f"{i};{i * 3};ok" for i in range(5))
# Logs: no delimiter splits them, but every line has the same marks in the same order.
BRACKETED = "\n".join(
    f"[2024-03-{10 + i}] #{i:04d} {lab}: Customer wrote {'at length, ' * i}about it."
    for i, lab in enumerate(["refund", "invoice", "refund", "shipment"])
)
PYTHON_LOGGING = "\n".join(
    f"2024-03-0{i} 12:0{i}:33,12{i} {lvl} worker.{i}: job {i} {'done' if i % 2 else 'failed: x'}"
    for i, lvl in enumerate(["INFO", "WARNING", "INFO", "ERROR", "INFO"], 1)
)
ACCESS_LOG = "\n".join(
    f'10.0.0.{i} - - [10/Oct/2000:13:5{i}:36 -0700] "GET /p/{i}.html HTTP/1.0" {200 + i} {2326 * i}'
    for i in range(1, 5)
)
SYSLOG = "\n".join(
    f"Dec {day:>2} 0{i}:11:22 host sshd[{40 + i}]: Accepted key for user{i} from 10.1.1.{i}"
    for i, day in enumerate([4, 14, 4, 5], 1)
)


@pytest.mark.parametrize(
    ("text", "delimiter", "header", "example"),
    [
        (
            PIPES,
            " | ",
            None,
            ["Record 0001", "2024-01-11", "label: refund", "Some words, and more; here."],
        ),
        (CSV, ",", ["name", "age", "city"], ["person0", "30", "Town 0"]),
        (TSV, "\t", None, ["0", "level=INFO", "worker-0", "started job 0"]),
        (SEMICOLONS, ";", None, ["0", "0", "ok"]),
    ],
)
def test_records_are_split_on_their_delimiter(text, delimiter, header, example):
    layout = record_layout(text + "\n")
    assert layout is not None
    assert (layout.delimiter, layout.header, layout.example) == (delimiter, header, example)


@pytest.mark.parametrize(
    "text",
    [
        inspect.getsource(json),  # code
        inspect.getdoc(inspect),  # prose
        "\n".join(f"{'x, ' * i}done" for i in range(1, 8)),  # uneven, and no date or id
        "a | b | c\nd | e | f\n",  # too few lines to tell
    ],
)
def test_other_text_is_not_taken_for_records(text):
    assert record_layout(text) is None


@pytest.mark.parametrize(
    ("text", "example"),
    [
        (BRACKETED, ["2024-03-10", "0000", "refund", "Customer wrote about it."]),
        (PYTHON_LOGGING, ["2024-03-01", "12:01:33", "121", "INFO", "worker.1", "job 1 done"]),
        (
            ACCESS_LOG,
            ["10.0.0.1", "-", "-", "10/Oct/2000:13:51:36", "-0700", "GET", "/p/1.html"]
            + ["HTTP/1.0", "201 2326"],
        ),
        (
            SYSLOG,
            ["Dec", "4", "01:11:22", "host", "sshd", "41", "Accepted key for user1 from 10.1.1.1"],
        ),
    ],
)
def test_lines_of_one_shape_are_read_by_one_expression(text, example):
    found = line_pattern(text + "\n")
    assert found is not None and found.example == example
    for line in text.splitlines():  # every line, not only the first, is read by it
        assert re.match(found.pattern, line) is not None


def test_an_indented_log_is_read_as_written():
    indented = "\n".join("  " + line for line in BRACKETED.splitlines())
    found = line_pattern(indented + "\n")
    assert found is not None and found.example[2] == "refund"
    assert all(re.match(found.pattern, line) for line in indented.splitlines())


@pytest.mark.parametrize(
    "text",
    [
        inspect.getsource(json),
        inspect.getdoc(inspect),
        inspect.getsource(inspect)[20000:30000],
        inspect.getdoc(json).replace("\n", "\n- "),  # a bulleted list of sentences
        "\n".join(["alpha beta gamma", "delta epsilon", "zeta eta theta iota", "kappa"]),
    ],
)
def test_prose_code_and_lists_have_no_line_pattern(text):
    assert line_pattern(text) is None
    assert find_records(text) is None


def _described(said: str, line: str) -> tuple[list[str], list[tuple[int, str]]]:
    """What the function shown in a description gives for ``line``, and the description's
    claims about it (index, value)."""
    code = re.search(r"```python\n(.*?)```", said, re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)
    claims = [(int(i), eval(v)) for i, v in re.findall(r"f\[(\d)\] == ('[^']*')", said)]
    return namespace[FIELDS_FUNCTION](line), claims


def test_the_pattern_description_says_what_a_real_line_gives():
    found = line_pattern(BRACKETED + "\n")
    said = describe_pattern(found)
    assert fields_code(found) in said  # the function shown is the one the REPL binds
    fields, claims = _described(said, BRACKETED.splitlines()[0])
    assert len(claims) == 4
    for index, shown in claims:
        assert fields[index] == shown
    # A line of another shape gives None, as the description says.
    assert _described(said, "not a record")[0] is None
    # A delimiter, when there is one, is the simpler read and is the one described.
    assert "line.split(' | ', 3)" in describe_records(find_records(PIPES + "\n"))


def test_a_last_line_cut_short_does_not_hide_the_records():
    assert record_layout(PIPES[:-20]) is not None


def test_the_description_says_what_the_split_and_a_value_read_really_give():
    layout = record_layout(PIPES + "\n")
    said = describe_layout(layout)
    assert fields_code(layout) in said
    fields, claims = _described(said, PIPES.splitlines()[0])
    assert len(claims) == 4 and all(fields[index] == shown for index, shown in claims)
    # The key-value field's value alone, as the description writes the expression.
    alone = re.search(r"its value alone: (.+?) == ('[^']*')\)", said)
    assert eval(alone.group(1), {"f": fields}) == eval(alone.group(2)) == "refund"
    assert said.endswith("f[3] == 'Some words, and more; here.'.")  # a sentence is a value
    # The last field takes the rest of the line, delimiters and all; a short line is not one.
    assert _described(said, "a | b | c | d | e")[0] == ["a", "b", "c", "d | e"]
    assert _described(said, "a | b")[0] is None


def test_a_header_is_named_and_the_first_record_shown():
    said = describe_layout(record_layout(CSV + "\n"))
    assert "header, ['name', 'age', 'city']" in said
    assert "f[0] == 'person0'" in said and "f[1] == '30'" in said


async def test_the_repl_first_turn_describes_records_and_only_records():
    seen: list[str] = []
    # The model's code calls the function it was told of: the REPL has it, for records only.
    probe = (
        "n = 0\nfor line in context.splitlines():\n    f = record_fields(line)\n"
        "    if f and f[2].endswith('refund'):\n        n += 1\nprint('matched', n)"
    )

    def turns(messages, turn):
        seen.append(str(messages[-1].content))
        return cell(probe) if turn == 0 else "FINAL(done)"

    for text in ("\n".join([PIPES] * 40), "\n".join([BRACKETED] * 40), inspect.getdoc(inspect) * 4):
        seen.clear()
        await repl_rlm(repl_model(turns)).ainvoke({"query": "Which lines?", "context": text})
        first, output = seen[0], seen[1]
        if text.startswith("Record"):
            assert "records of 4 fields separated by ' | '" in first
            assert "f[2] == 'label: refund'" in first
            assert "matched 120" in output  # 3 of 5 lines, 40 times
        elif text.startswith("["):
            assert "`f = record_fields(line)` gives f[0] == '2024-03-10'" in first
            assert "f[2] == 'refund'" in first
            assert "matched 80" in output
        else:
            assert "records of" not in first
            assert "NameError" in output and "record_fields" in output


def test_records_are_shown_on_a_record_the_question_names_a_value_of():
    # A small model copies the values it is shown: the record shown is one whose label is the
    # question's own, so a copy tests the right value.
    view = open_context("\n".join([PIPES] * 3) + "\n")
    said = describe_context(view, "How many records have label shipment? Answer with a number.")
    assert "On its line 4, " in said and "f[2] == 'label: shipment'" in said
    fields, claims = _described(said, PIPES.splitlines()[3])
    assert len(claims) == 4 and all(fields[index] == shown for index, shown in claims)
    # No value named, or only a date (shown, it was copied as an equality test): the first.
    for question in ("How many records are there?", "How many are dated 2024-04-14?"):
        said = describe_context(view, question)
        assert "On its first line" in said and "f[2] == 'label: refund'" in said
    # Logs read by a pattern too, under a header-less first line.
    logs = open_context("\n".join([BRACKETED] * 3) + "\n")
    assert "On its line 4, " in describe_context(logs, "How many shipment lines are there?")


def test_the_values_a_counting_question_names_are_the_ones_the_records_hold():
    text = PIPES + "\n"
    asked = "How many records have label shipment and a date from 2024-02-01 to 2024-03-31?"
    named = question_values(find_records(text), text, asked)
    assert [(value.value, value.field) for value in named] == [
        ("shipment", 2),
        ("2024-02-01", 1),
        ("2024-03-31", 1),
    ]
    # How the code tests them, as the model is told: each test holds on a record it names.
    shipment = PIPES.splitlines()[3].split(" | ")
    assert eval(named[0].test, {"f": shipment})
    window = named[1].test.split(" (")[0]
    assert window == "f[1] >= '2024-02-01' and f[1] <= '2024-03-31'" == named[2].test.split(" (")[0]
    assert [eval(window, {"f": line.split(" | ")}) for line in PIPES.splitlines()] == [
        False,
        True,
        True,
        False,
        False,
    ]
    # A plural names the value its records hold, and the record shown is one with it.
    asked = "How many shipments and refunds are there?"
    named = question_values(find_records(text), text, asked)
    assert [value.value for value in named] == ["shipment", "refund"]
    said = describe_context(open_context(text), "How many shipments are there?")
    assert "On its line 4, " in said
    # Words no field holds are no values; a date is one only where a field holds dates.
    csv = CSV + "\n"
    asked = "How many people of age 33 live in Town 3 since 2024-01-01?"
    assert [(v.value, v.test) for v in question_values(find_records(csv), csv, asked)] == [
        ("33", "f[1] == '33'")
    ]


@pytest.mark.parametrize(
    ("code", "untested"),
    [
        ("n = sum(1 for l in x if 'shipment' in l and '2024-02-01' <= l <= '2024-03-31')", []),
        # Named in a comment or in what it prints, a value is not tested.
        ("# shipment from 2024-02-01 to 2024-03-31\nn = len(x)\nprint('shipment', n)", None),
        # A date written as numbers is tested; the label tested in another case is too.
        (
            "n = [l for l in x if l[2] == 'SHIPMENT' and date(2024, 2, 1) <= l[1] <= (2024, 3, 31)]",
            [],
        ),
        ("if f[2] == 'label: shipment':\n    n += 1", ["2024-02-01", "2024-03-31"]),
        ("this does not parse (", None),
    ],
)
def test_a_value_is_tested_only_by_the_code_s_own_logic(code, untested):
    values = ["shipment", "2024-02-01", "2024-03-31"]
    assert untested_values(code, values) == (values if untested is None else untested)
