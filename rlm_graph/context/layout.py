"""Whether a text's lines are records (a log, a CSV or TSV export, a table) and how they split.

REPL mode describes ``context`` to the model with its first characters. For records that is
not enough for a small model: shown "Record 0001 | 2023-01-05 | label: refund | ...", the
0.5B split on whitespace and tested ``parts[2] == "label refund"``; the 1.5B compared the
field "label: refund" with "refund". Told how a line splits, and what each field of a real
line holds by its index, the 1.5B counted 6 of 6 tuning samples right (2 of 6 before); on
fresh seeds both models gained (BENCHMARKS.md), most on tab-separated tables.

The code gets the reading ready-made: a function ``record_fields(line)`` (:func:`fields_code`)
bound in the REPL before the first cell, which splits a line or matches the expression and
returns the fields as a list. Shown the expression to copy, both models dropped its ``.groups()`` or
used ``m.group(2)`` for the field shown as ``parts[2]`` (the 1.5B, 4 of 5 log samples of the
tuning seed); a list indexed as it is shown leaves nothing to translate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from rlm_graph.context.view import ContextView

# Tried in this order: a spaced delimiter before its bare form, so fields come without blanks.
DELIMITERS = (" | ", "|", "\t", ", ", ",", ";")
SAMPLE_LINES = 12
# How much of a text's beginning is read to tell whether its lines are records.
LAYOUT_SAMPLE_CHARS = 4000
MIN_LINES = 3
MIN_FIELDS = 3
# A field longer than this is shown cut in the description.
SHOWN_FIELD_CHARS = 40
# How far into the text a record the question names a value of is looked for (question_record).
QUESTION_RECORD_SEARCH_CHARS = 200_000
# A record with this many fields the question names is taken without looking further.
MAX_NAMED_FIELDS = 2
_QUESTION_WORD = re.compile(r"[\w.@/-]*\w")
# A date as YYYY-MM-DD: such dates compare in date order as strings.
ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")
# How a date field is tested, told to a model whose count leaves a date of the question out.
DATE_FIELD_TEST = "holds dates as 'YYYY-MM-DD' text, which compares in date order with <, <=, >, >="
DATE_WINDOW_TEST = (
    "(from the first date to the last, both included: such dates compare in order as text)"
)
# The function the REPL binds for records (fields_code).
FIELDS_FUNCTION = "record_fields"
# A field that is a short key and a value: "label: refund", "level=INFO", "status = open".
KEYED_FIELD = re.compile(r"(?P<key>[A-Za-z_][\w.-]{0,30})(?P<sep>\s?[:=]\s?)(?P<value>\S.{0,30})$")


class RecordLayout(BaseModel):
    """Lines that all split into the same number of fields on one delimiter."""

    delimiter: str
    header: list[str] | None = None  # the first line's fields, when they name the columns
    example: list[str]  # the first record's fields, or those of the line `example_line` names
    example_line: int | None = None  # 1-based; None: the first record


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
    where = _example_where(layout, "On its second line" if layout.header else "On its first line")
    if layout.header:
        where = f"Its first line is a header, {layout.header!r}. {where}"
    return (
        f"Its lines are records of {len(layout.example)} fields separated by "
        f"{layout.delimiter!r}. {_fields_sentence(where, layout)}"
    )


def _fields_sentence(where: str, found: Records) -> str:
    return (
        f"This function is defined already (use it, do not define it again); it gives a "
        f"line's fields as a list, None for a line of another shape:\n```python\n"
        f"{fields_code(found)}```\n{where}, `f = {FIELDS_FUNCTION}(line)` gives {_indexed(found.example)}."
    )


def _indexed(fields: list[str]) -> str:
    return ", ".join(
        f"f[{i}] == {_shown(field)}{_value_alone(i, field)}" for i, field in enumerate(fields)
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
    return f" (its value alone: f[{index}].split({match['sep']!r}, 1)[1] == {match['value']!r})"


def _shown(field: str) -> str:
    if len(field) <= SHOWN_FIELD_CHARS:
        return repr(field)
    return repr(field[:SHOWN_FIELD_CHARS]) + "..."


class LinePattern(BaseModel):
    """Lines of one shape that no delimiter splits (a log: "[2023-05-17] #0412 refund: ..."):
    a regular expression whose groups are a line's fields."""

    pattern: str
    example: list[str]  # the groups of the first line, or of the line `example_line` names
    example_line: int | None = None  # 1-based; None: the first line


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
    """Sentences for the model: what each field of a real line holds, by its index in the list
    ``record_fields(line)`` returns (its source is shown: the function, not an expression to
    copy into the model's own code)."""
    return f"Its lines are records of {len(found.example)} fields. " + _fields_sentence(
        _example_where(found, "On its first line"), found
    )


Records = RecordLayout | LinePattern


def find_records(head: str) -> Records | None:
    """How the records ``head`` begins with read: a delimiter first, else a line pattern;
    None for other text."""
    return record_layout(head) or line_pattern(head)


def view_records(view: ContextView, question: str | None = None) -> Records | None:
    """How a text context's records read (None for a folder: its files are not records), shown
    on the first record the question names a value of, when ``question`` is given."""
    if view.whole_folder:
        return None
    found = find_records(view.text(0, LAYOUT_SAMPLE_CHARS))
    if found is None or not question:
        return found
    named = question_record(found, view.text(0, QUESTION_RECORD_SEARCH_CHARS), question)
    if named is None:
        return found
    line, fields = named
    return found.model_copy(update={"example": fields, "example_line": line})


def view_question_values(view: ContextView, question: str) -> list[NamedValue]:
    """:func:`question_values` of a text context's records (none for other text)."""
    found = view_records(view)
    if found is None:
        return []
    return question_values(found, view.text(0, QUESTION_RECORD_SEARCH_CHARS), question)


def read_fields(found: Records, line: str) -> list[str] | None:
    """A line's fields as ``record_fields`` (:func:`fields_code`) gives them, None for a line
    of another shape."""
    if isinstance(found, RecordLayout):
        count = len(found.example)
        parts = line.split(found.delimiter, count - 1)
        return parts if len(parts) == count else None
    match = re.match(found.pattern, line)
    return list(match.groups()) if match else None


def _records_of(found: Records, head: str) -> Iterator[tuple[int, list[str]]]:
    """The records of ``head`` (line number, 1-based, and fields), its header and lines of
    another shape left out; its last line may be cut, so it is not read."""
    for number, line in enumerate(head.splitlines()[:-1], 1):
        fields = read_fields(found, line)
        if fields is not None and not (isinstance(found, RecordLayout) and fields == found.header):
            yield number, fields


def question_record(found: Records, head: str, question: str) -> tuple[int, list[str]] | None:
    """The first record of ``head`` (its line number, 1-based, and its fields) with the most
    short fields whose value the question names ("label: refund" for "... label refund?"),
    or None when no record has one. Dates are left out: a record on the first day of a window
    shown as the example was copied as an equality test.

    Why: the description shows what each field of a real record holds, and a small model
    copies the values it is shown. Shown the first record ("label: feedback"), the 0.5B tested
    ``== 'feedback'`` for "How many records have label shipment?" on 2 of 6 tuning samples; a
    record with the question's own value makes the copy right."""
    named_values = question_values(found, head, question)
    words = {v.value.lower() for v in named_values if not ISO_DATE.fullmatch(v.value)}
    best: tuple[int, int, list[str]] | None = None  # (named fields, line, fields)
    for number, fields in _records_of(found, head):
        named = sum(_field_value(field).lower() in words for field in fields)
        if named and (best is None or named > best[0]):
            best = (named, number, fields)
            if named >= MAX_NAMED_FIELDS:
                break
    return None if best is None else (best[1], best[2])


class NamedValue(BaseModel):
    """A value a question names that a field of the records holds, and how code reads it."""

    value: str
    field: int  # its index in the list record_fields gives
    test: str  # how the code tests it, for the model: "f[2] == 'refund'"


def question_values(found: Records, head: str, question: str) -> list[NamedValue]:
    """The values the question names that the records of ``head`` hold, in the question's
    order: its words that are a short field's value in some record ("refund" of "label:
    refund"), and its dates (YYYY-MM-DD) when a field holds dates. Code that counts the
    records the question asks about tests each of them."""
    tests: dict[str, NamedValue] = {}  # by the value in lower case
    date_field: int | None = None
    for _, fields in _records_of(found, head):
        for index, field in enumerate(fields):
            if ISO_DATE.fullmatch(field.strip()):
                date_field = index if date_field is None else date_field
            elif (value := _field_value(field)) and value.lower() not in tests:
                test = f"f[{index}]{_value_read(field)} == {value!r}"
                tests[value.lower()] = NamedValue(value=value, field=index, test=test)
    words = list(dict.fromkeys(_QUESTION_WORD.findall(question)))
    dates = [word for word in words if ISO_DATE.fullmatch(word)] if date_field is not None else []
    date_test = _date_test(dates, date_field) if date_field is not None else ""
    named: list[NamedValue] = []
    for word in words:
        if word in dates:
            named.append(NamedValue(value=word, field=date_field, test=date_test))
        elif (known := _held(word, tests)) is not None and known not in named:
            named.append(known)
    return named


def _held(word: str, values: dict[str, NamedValue]) -> NamedValue | None:
    """The value a question's word names, as a record holds it: the word, or its singular
    ("refunds" for the label "refund")."""
    word = word.lower()
    forms = [word]
    if word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if word.endswith("es"):
        forms.append(word[:-2])
    if word.endswith("s"):
        forms.append(word[:-1])
    return next((values[form] for form in forms if form in values), None)


def _date_test(dates: list[str], field: int) -> str:
    """How code tests the question's dates on the date field: a window for two, as two
    comparisons (the 0.5B, told only that such dates compare in order, sent its count without
    them again; shown ``'A' <= f[1] <= 'B'``, it kept ``f[1] <= 'B'`` on 3 of 3 tuning
    samples, and shown the two comparisons it kept both)."""
    if len(dates) == 2:
        first, last = sorted(dates)
        return f"f[{field}] >= {first!r} and f[{field}] <= {last!r} {DATE_WINDOW_TEST}"
    return f"f[{field}] {DATE_FIELD_TEST}"


def _value_read(field: str) -> str:
    """What reads a key-value field's value alone: ".split(': ', 1)[1]" for "label: refund"."""
    match = KEYED_FIELD.match(field.strip())
    return f".split({match['sep']!r}, 1)[1]" if match and field == field.strip() else ""


def _field_value(field: str) -> str:
    """A short field's value ("refund" of "label: refund"), "" for a long field or a date."""
    field = field.strip()
    if len(field) > SHOWN_FIELD_CHARS or ISO_DATE.match(field):
        return ""
    match = KEYED_FIELD.match(field)
    return match["value"].strip() if match else field


def _example_where(found: Records, first: str) -> str:
    return first if found.example_line is None else f"On its line {found.example_line}"


def describe_records(found: Records) -> str:
    """How the records read, for the model."""
    if isinstance(found, RecordLayout):
        return describe_layout(found)
    return describe_pattern(found)


def fields_code(found: Records) -> str:
    """The source of ``record_fields(line)``, bound in the REPL before the first cell: a line's
    fields as a list (the last one takes the rest of the line), None for a line of another shape."""
    if isinstance(found, RecordLayout):
        count = len(found.example)
        return (
            f"def {FIELDS_FUNCTION}(line):\n"
            f"    parts = line.split({found.delimiter!r}, {count - 1})\n"
            f"    return parts if len(parts) == {count} else None\n"
        )
    return (
        "import re\n"
        f"def {FIELDS_FUNCTION}(line):\n"
        f"    match = re.match({_raw_literal(found.pattern)}, line)\n"
        "    return list(match.groups()) if match else None\n"
    )


def _raw_literal(pattern: str) -> str:
    """``pattern`` as a raw string literal, as a person writes one (repr doubles every
    backslash), or its repr when no raw literal can hold it."""
    if not pattern.endswith("\\"):
        for quote in ("'", '"'):
            if quote not in pattern:
                return f"r{quote}{pattern}{quote}"
    return repr(pattern)
