"""Scoring an answer against a sample's computed truth.

Codes are matched after normalising both sides the same way: lower case, every run of
characters other than letters and digits becomes one space. So ``**4821-kestrel**.``,
``4821 KESTREL`` and ``Code: 4821-Kestrel`` all name ``4821-KESTREL``, while ``14821-KESTREL``
or ``4821-KESTRELS`` do not (the match must start and end at a word edge).

A count answer is right when its first integer (digits, with optional thousands separators:
``1,204``) equals the truth: "There are 12 records." reads as 12. Number words are not read.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from rlm_graph.bench.tasks import TaskSample

_NON_WORD = re.compile(r"[^0-9a-z]+")
# Thousands groups only when they are exactly three digits: "1,204" is 1204, "3,4" is 3.
_INTEGER = re.compile(r"(?<![\d.])-?\d{1,3}(?:,\d{3})+(?!\d)|(?<![\d.])-?\d+")


class Score(BaseModel):
    correct: bool
    recall: float | None = None  # share of the expected values named (needle tasks)
    parsed: int | None = None  # count: the integer read from the answer


def normalise(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def names_value(answer: str, value: str) -> bool:
    """Whether ``answer`` names ``value`` (normalised; whole words only)."""
    needle = normalise(value)
    return bool(needle) and f" {needle} " in f" {normalise(answer)} "


def first_integer(answer: str) -> int | None:
    match = _INTEGER.search(answer)
    return int(match.group(0).replace(",", "")) if match else None


def score_answer(sample: TaskSample, answer: str | None) -> Score:
    """Right or wrong (and recall / the parsed number) of ``answer`` for ``sample``; a missing
    answer (a failed run) is wrong."""
    text = answer or ""
    if sample.task == "count":
        parsed = first_integer(text)
        return Score(correct=parsed is not None and parsed == sample.count, parsed=parsed)
    found = sum(names_value(text, value) for value in sample.expected)
    recall = found / len(sample.expected) if sample.expected else 0.0
    return Score(correct=bool(sample.expected) and found == len(sample.expected), recall=recall)
