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
    fields = _indexed(layout.example)
    split = f"`parts = line.split({layout.delimiter!r})`"
    if layout.header:
        where = f"Its first line is a header, {layout.header!r}. On its second line, {split}"
    else:
        where = f"On its first line, {split}"
    return (
        f"Its lines are records of {len(layout.example)} fields separated by "
        f"{layout.delimiter!r}. {where} gives {fields}."
    )


def _indexed(fields: list[str]) -> str:
    return ", ".join(
        f"parts[{i}] == {_shown(field)}{_value_alone(i, field)}" for i, field in enumerate(fields)
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


class LinePattern(BaseModel):
    """Lines of one shape that no delimiter splits (a log: "[2023-05-17] #0412 refund: ..."):
    a regular expression whose groups are a line's fields."""

    pattern: str
    example: list[str]  # the groups of the first line


# A line's pieces: a value (no blank, no mark; a colon or "=" inside it, as in "21:51:56", is
# part of it), a run of blanks, or one mark. Lines of one shape have the same marks in turn.
_PIECE = re.compile(
    r"(?P<value>(?:[^\s\[\](){}<>\"'#|,;:=]|[:=](?=\S))+)|(?P<blank>\s+)|(?P<mark>.)"
)
MIN_VALUES = 2
# Marks escaped in the expression shown (re.escape would also escape "#", " " and "-", which
# a model copies for nothing).
REGEX_SPECIALS = frozenset("\\.^$*+?{}[]|()")


def line_pattern(head: str) -> LinePattern | None:
    """The shape the lines ``head`` begins with share, as a regular expression, or None when
    they share none with a mark in it (prose, code). The shared part ends at its last mark, so
    words that happen to line up are left to the last field, which takes the rest of the line."""
    # As written, indent and all: the expression is applied to the text's own lines.
    lines = [line for line in head.splitlines()[:-1] if line.strip()][:SAMPLE_LINES]
    if len(lines) < MIN_LINES:
        return None
    pieces = [[(m.lastgroup, m.group()) for m in _PIECE.finditer(line)] for line in lines]
    shared = 0
    for column in zip(*pieces, strict=False):
        kinds = {kind for kind, _ in column}
        if len(kinds) > 1 or (kinds == {"mark"} and len({text for _, text in column}) > 1):
            break
        shared += 1
    marks = [i for i, (kind, _) in enumerate(pieces[0][:shared]) if kind == "mark"]
    if not marks:
        return None
    shared = marks[-1] + 1
    if all(len(p) > shared and p[shared][0] == "blank" for p in pieces):
        shared += 1  # the blank before the rest belongs to the shape, not to the last field
    parts: list[str] = []
    for i, (kind, text) in enumerate(pieces[0][:shared]):
        if kind == "value":
            parts.append(r"(\S+)")
        elif kind == "blank":
            parts.append(" " if all(p[i][1] == " " for p in pieces) else r"\s+")
        else:
            parts.append("\\" + text if text in REGEX_SPECIALS else text)
    values = sum(kind == "value" for kind, _ in pieces[0][:shared])
    rest = any(len(p) > shared for p in pieces)
    if rest:
        parts.append("(.*)")
    if values + rest < MIN_FIELDS or values < MIN_VALUES:
        return None
    pattern = "".join(parts)
    if "'" in pattern and '"' in pattern:
        return None  # no raw string literal shows it as it is
    matches = [re.match(pattern, line) for line in lines]
    # The pattern is shown as reading each line into its pieces; one it misreads is not shown.
    for match, line_pieces in zip(matches, pieces, strict=True):
        expected = [text for kind, text in line_pieces[:shared] if kind == "value"]
        if rest:
            expected.append("".join(text for _, text in line_pieces[shared:]))
        if match is None or list(match.groups()) != expected:
            return None
    return LinePattern(pattern=pattern, example=list(matches[0].groups()))


def describe_pattern(found: LinePattern) -> str:
    """Sentences for the model: the expression, and what each field of a real line holds, by
    its index in the match's groups: indexed from 0 as a split's fields are, in one expression
    to copy (shown ``m.group(3) == 'feedback'``, the 0.5B tested ``m.group(2)``, the third
    field; shown ``m`` and ``parts = m.groups()`` apart, it split the line on blanks)."""
    quote = "'" if "'" not in found.pattern else '"'
    return (
        f"Its lines are records of {len(found.example)} fields. On its first line, "
        f"`parts = re.match(r{quote}{found.pattern}{quote}, line).groups()` gives "
        f"{_indexed(found.example)} (on a line of another shape, re.match gives None)."
    )


def describe_records(head: str) -> str | None:
    """How the records ``head`` begins with split, for the model; None for other text."""
    layout = record_layout(head)
    if layout is not None:
        return describe_layout(layout)
    found = line_pattern(head)
    return describe_pattern(found) if found is not None else None
