"""Whether a text's lines are records (a log, a CSV or TSV export, a table) and how they split.

REPL mode describes ``context`` to the model with its first characters. For records that is
not enough for a small model: shown "Record 0001 | 2023-01-05 | label: refund | ...", the
0.5B split on whitespace and tested ``parts[2] == "label refund"``; the 1.5B compared the
field "label: refund" with "refund". Told how a line splits, and what each field of a real
line holds by its index, the 1.5B counted 6 of 6 tuning samples right (2 of 6 before); on
fresh seeds both models gained (BENCHMARKS.md), most on tab-separated tables.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

# Tried in this order: a spaced delimiter before its bare form, so fields come without blanks.
DELIMITERS = (" | ", "|", "\t", ", ", ",", ";")
SAMPLE_LINES = 12
MIN_LINES = 3
MIN_FIELDS = 3
# A field longer than this is shown cut in the description.
SHOWN_FIELD_CHARS = 40
# A field that is a short key and a value: "label: refund", "level=INFO", "status = open".
KEYED_FIELD = re.compile(r"(?P<key>[A-Za-z_][\w.-]{0,30})(?P<sep>\s?[:=]\s?)(?P<value>\S.{0,30})$")


class RecordLayout(BaseModel):
    """Lines that all split into the same number of fields on one delimiter."""

    delimiter: str
    header: list[str] | None = None  # the first line's fields, when they name the columns
    example: list[str]  # the first record's fields


def record_layout(head: str) -> RecordLayout | None:
    """The layout of the records ``head`` begins with, or None when its lines are not records
    (prose, code, lines that split unevenly). The last line of ``head`` may be cut, so it is
    not looked at."""
    lines = [line for line in head.splitlines()[:-1] if line.strip()][:SAMPLE_LINES]
    if len(lines) < MIN_LINES:
        return None
    for delimiter in DELIMITERS:
        counts = {line.count(delimiter) for line in lines}
        if len(counts) == 1 and counts.pop() + 1 >= MIN_FIELDS:
            first, second = (line.split(delimiter) for line in lines[:2])
            if _is_header(lines[0], lines[1]):
                return RecordLayout(delimiter=delimiter, header=first, example=second)
            return RecordLayout(delimiter=delimiter, example=first)
    return None


def describe_layout(layout: RecordLayout) -> str:
    """Sentences for the model: the delimiter, and what each field of a real record holds, by
    its index (a small model indexes the fields it is shown, not ones it counts itself)."""
    fields = ", ".join(
        f"parts[{i}] == {_shown(field)}{_value_alone(i, field)}"
        for i, field in enumerate(layout.example)
    )
    split = f"`parts = line.split({layout.delimiter!r})`"
    if layout.header:
        where = f"Its first line is a header, {layout.header!r}. On its second line, {split}"
    else:
        where = f"On its first line, {split}"
    return (
        f"Its lines are records of {len(layout.example)} fields separated by "
        f"{layout.delimiter!r}. {where} gives {fields}."
    )


def _is_header(first: str, second: str) -> bool:
    """Column names: no digit in the first line, some in the record after it."""
    return not any(c.isdigit() for c in first) and any(c.isdigit() for c in second)


def _value_alone(index: int, field: str) -> str:
    """How to read the value of a field that holds a key and its value ("level=INFO",
    "label: refund"): both models tested the value alone against the whole field."""
    match = KEYED_FIELD.match(field)
    if not match:
        return ""
    return f" (its value alone: parts[{index}].split({match['sep']!r}, 1)[1] == {match['value']!r})"


def _shown(field: str) -> str:
    if len(field) <= SHOWN_FIELD_CHARS:
        return repr(field)
    return repr(field[:SHOWN_FIELD_CHARS]) + "..."
