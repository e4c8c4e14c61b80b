"""Records told apart from other text, and described to the REPL model by a real line's split."""

from __future__ import annotations

import inspect
import json
import re

import pytest

from rlm_graph.context.layout import describe_layout, record_layout
from tests.unit.repl_fakes import cell, repl_model, repl_rlm

PIPES = "\n".join(
    f"Record {i:04d} | 2024-0{i}-1{i} | label: {lab} | Some words, and more; here."
    for i, lab in enumerate(["refund", "invoice", "refund", "shipment", "refund"], 1)
)
CSV = "name,age,city\n" + "\n".join(f"person{i},{30 + i},Town {i}" for i in range(8))
TSV = "\n".join(f"{i}\tlevel=INFO\tworker-{i}\tstarted job {i}" for i in range(6))
SEMICOLONS = "\n".join(f"{i};{i * 3};ok" for i in range(5))


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


def test_a_last_line_cut_short_does_not_hide_the_records():
    assert record_layout(PIPES[:-20]) is not None


def test_the_description_says_what_the_split_and_a_value_read_really_give():
    layout = record_layout(PIPES + "\n")
    said = describe_layout(layout)
    line = PIPES.splitlines()[0]
    split = re.search(r"`parts = (line\.split\('.*?'\))`", said).group(1)
    parts = eval(split, {"line": line})
    for index, shown in re.findall(r"parts\[(\d)\] == ('[^']*')", said):
        assert parts[int(index)] == eval(shown)
    # The key-value field's value alone, as the description writes the expression.
    alone = re.search(r"its value alone: (.+?) == ('[^']*')\)", said)
    assert eval(alone.group(1), {"parts": parts}) == eval(alone.group(2)) == "refund"
    assert said.endswith("parts[3] == 'Some words, and more; here.'.")  # a sentence is a value


def test_a_header_is_named_and_the_first_record_shown():
    said = describe_layout(record_layout(CSV + "\n"))
    assert "header, ['name', 'age', 'city']" in said
    assert "parts[0] == 'person0'" in said and "parts[1] == '30'" in said


async def test_the_repl_first_turn_describes_records_and_only_records():
    seen: list[str] = []

    def turns(messages, turn):
        seen.append(str(messages[-1].content))
        return cell("print(len(context))") if turn == 0 else "FINAL(done)"

    for text in ("\n".join([PIPES] * 40), inspect.getdoc(inspect) * 4):
        seen.clear()
        await repl_rlm(repl_model(turns)).ainvoke({"query": "How many lines?", "context": text})
        first = seen[0]
        if text.startswith("Record"):
            assert "records of 4 fields separated by ' | '" in first
            assert "parts[2] == 'label: refund'" in first
        else:
            assert "records of" not in first
