"""Scoring an answer against a sample's computed truth, one rule per task.

- ``niah`` / ``multi-niah``: each planted value is named or not by its shape's rule
  (``needles.names_shape_value``: codes as whole normalised words, so ``**4821-kestrel**.``
  and ``4821 KESTREL`` name ``4821-KESTREL`` while ``14821-KESTREL`` does not; a person by
  first and last name; a date by year, month and day in any usual writing; a number as a
  whole number, separators allowed; a sentence by 60% of its content words). ``recall`` is
  the share named; right when all are.
- ``absent``: right when the answer says the text does not hold it (nothing, "not found",
  "the text does not mention ...") and names no value of the asked shape (the distractor's
  least of all).
- ``multi-hop``: right when the answer names the second hop's place (whole words) and not the
  distractor chain's.
- ``count``: right when the answer's first integer (digits, with optional thousands
  separators: ``1,204``) equals the truth: "There are 12 records." reads as 12. Number words
  are not read.
- ``per-part`` (``parts.score_parts``): recall of parts named by a key term; right at
  ``recall >= 0.7``.
- ``code`` (``code_tasks.score_code``): the defining file named, or recall of the callers,
  right when all are named.

A missing answer (a failed run) is wrong, except for ``absent`` where saying nothing claims
nothing.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from rlm_graph.bench.code_tasks import score_code
from rlm_graph.bench.needles import names_a_value, names_shape_value, says_not_found
from rlm_graph.bench.parts import score_parts
from rlm_graph.bench.samples import TaskSample
from rlm_graph.bench.text import names_value, normalise

__all__ = ["Score", "first_integer", "names_value", "normalise", "score_answer"]

# Thousands groups only when they are exactly three digits: "1,204" is 1204, "3,4" is 3.
_INTEGER = re.compile(r"(?<![\d.])-?\d{1,3}(?:,\d{3})+(?!\d)|(?<![\d.])-?\d+")


class Score(BaseModel):
    correct: bool
    recall: float | None = None  # share of the expected values / parts / callers named
    parsed: int | None = None  # count: the integer read from the answer


def first_integer(answer: str) -> int | None:
    match = _INTEGER.search(answer)
    return int(match.group(0).replace(",", "")) if match else None


def score_answer(sample: TaskSample, answer: str | None) -> Score:
    """Right or wrong (and recall / the parsed number) of ``answer`` for ``sample``."""
    text = answer or ""
    if sample.task == "count":
        parsed = first_integer(text)
        return Score(correct=parsed is not None and parsed == sample.count, parsed=parsed)
    if sample.task == "absent":
        planted = [n.value for n in sample.needles]
        shape = sample.shape or "code"
        return Score(correct=says_not_found(answer) and not names_a_value(shape, text, planted))
    if sample.task == "multi-hop":
        decoys = [n.value for n in sample.needles if n.role == "distractor" and n.shape == "place"]
        right = all(names_value(text, value) for value in sample.expected)
        return Score(correct=right and not any(names_value(text, d) for d in decoys))
    if sample.task == "per-part":
        correct, recall = score_parts(sample, answer)
        return Score(correct=correct, recall=recall)
    if sample.task == "code":
        correct, recall = score_code(sample, answer)
        return Score(correct=correct, recall=recall)
    facts = [n for n in sample.needles if n.role == "fact"]
    found = sum(names_shape_value(n.shape, n.value, text) for n in facts)
    recall = found / len(facts) if facts else 0.0
    return Score(correct=bool(facts) and found == len(facts), recall=recall)
