"""Bench tasks over real text, with the ground truth computed here, never written by hand.

- ``niah``: one generated needle ("The access code for the cobalt archive is 4821-KESTREL.")
  planted at a depth of the slice; samples cycle through ``NIAH_DEPTHS``.
- ``multi-niah``: ``k`` needles with distinct archives and codes, one at a random depth in each
  k-th of the slice (spread, never bunched); every code must be named.
- ``count`` (OOLONG-style aggregation): the slice is a list of records, one per line,
  ``Record 0412 | 2023-05-17 | label: invoice | <a real sentence of the corpus>``, labels and
  dates drawn at random; "how many records have label X" (odd samples: and a date range).

Every sample is a function of (seed, task, length, index) alone: adding a task, a length or a
method to a run never changes the other samples.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Literal

from pydantic import BaseModel, Field

from rlm_graph.bench.corpus import Corpus, sentences, take_slice, tokens_to_bytes
from rlm_graph.bench.options import BenchInputError
from rlm_graph.tokens import estimate_tokens

TaskName = Literal["niah", "multi-niah", "count"]

NIAH_DEPTHS = (0.1, 0.3, 0.5, 0.7, 0.9)
# Keys and code words: plain words a model cannot guess the pairing of.
ARCHIVES = (
    "amber", "aspen", "basalt", "birch", "canyon", "cedar", "cobalt", "coral", "ember", "falcon",
    "garnet", "granite", "harbor", "hazel", "indigo", "juniper", "lagoon", "lantern", "maple",
    "marble", "meadow", "nickel", "obsidian", "onyx", "orchid", "pebble", "quartz", "raven",
    "saffron", "sierra", "sparrow", "spruce", "tundra", "umber", "violet", "walnut", "willow",
    "zephyr", "cypress", "thistle",
)  # fmt: skip
CODE_WORDS = (
    "KESTREL", "HERON", "OSPREY", "PLOVER", "MARTEN", "BADGER", "LYNX", "OTTER", "EGRET",
    "FINCH", "IBIS", "CRANE", "WREN", "TERN", "STOAT", "VOLE", "BISON", "GECKO", "MOOSE",
    "CONDOR",
)  # fmt: skip
NEEDLE_TEMPLATE = "The access code for the {key} archive is {code}."
NIAH_QUESTION = "What is the access code for the {key} archive?"
# Worded with the needle's own words ("archive", "access code") so keyword retrieval has a fair
# chance; the model is not told how many there are. No template placeholder in it: given
# "(the access code for the NAME archive is ...)", 0.5B leaves answered "NAME archive".
MULTI_QUESTION = (
    "Which archives does the text mention, and what is the access code for each archive?"
)

LABELS = ("invoice", "complaint", "refund", "inquiry", "shipment", "feedback")
RECORD_YEAR_START = dt.date(2023, 1, 1)
RECORD_TEMPLATE = "Record {id} | {date} | label: {label} | {text}"
COUNT_PREAMBLE = (
    "The text is a list of records, one per line: Record ID | date (YYYY-MM-DD) | label: LABEL "
    "| text. "
)
COUNT_QUESTION = "How many records have label {label}? Answer with a number."
COUNT_RANGE_QUESTION = (
    "How many records have label {label} and a date from {first} to {last} (both included)? "
    "Answer with a number."
)


class Needle(BaseModel):
    """One planted fact and where it sits in the sample text."""

    key: str
    value: str
    sentence: str
    char_offset: int  # index of the sentence in the sample text (a Python str index)
    depth: float  # char_offset / len(text)
    target_depth: float


class TaskSample(BaseModel):
    """One generated question over one text, with its computed ground truth."""

    task: TaskName
    length: int  # target tokens
    index: int
    seed: int
    question: str
    answer: str  # the ground truth, as a person would write it
    expected: list[str]  # niah / multi-niah: the codes that must be named
    count: int | None = None  # count: the exact number
    label: str | None = None
    date_range: tuple[str, str] | None = None
    records: int | None = None  # count: records in the text
    needles: list[Needle] = Field(default_factory=list)
    chars: int
    tokens: int  # estimate_tokens(text): the actual size
    # niah / multi-niah: byte offset of the slice in the corpus; count: index of the first
    # record's sentence among the corpus's sentences.
    corpus_offset: int
    corpus_repeats: int = 0  # > 0: the corpus was shorter than asked and repeats
    text: str = Field(repr=False, exclude=True)


def sample_rng(seed: int, task: str, length: int, index: int) -> random.Random:
    # String seeds hash with SHA-512: stable across processes and Python versions.
    return random.Random(f"rlm-bench:{seed}:{task}:{length}:{index}")


def _codes(rng: random.Random, k: int) -> list[tuple[str, str]]:
    """k (archive, code) pairs: archives, digits and code words all distinct."""
    keys = rng.sample(ARCHIVES, k)
    digits = rng.sample(range(1000, 10000), k)
    words = rng.sample(CODE_WORDS, k)  # k <= MAX_NEEDLES == len(CODE_WORDS)
    return [(key, f"{d}-{w}") for key, d, w in zip(keys, digits, words, strict=True)]


def _line_boundary(text: str, pos: int) -> int:
    """The line start nearest ``pos``; else a sentence end; else ``pos`` itself."""
    if pos <= 0 or pos >= len(text):
        return max(0, min(pos, len(text)))
    reach = 4000
    before = text.rfind("\n", max(0, pos - reach), pos)
    after = text.find("\n", pos, pos + reach)
    options = [i + 1 for i in (before, after) if i >= 0]
    if not options:
        options = [i + 2 for i in (text.rfind(". ", 0, pos), text.find(". ", pos)) if i >= 0]
    return min(options, key=lambda i: abs(i - pos)) if options else pos


def plant(text: str, facts: list[tuple[str, str, float]]) -> tuple[str, list[Needle]]:
    """Insert each (key, code, depth) needle as its own line at the line boundary nearest its
    depth; returns the new text and where every needle ended up."""
    spots = [
        (_line_boundary(text, round(depth * len(text))), key, code, depth)
        for key, code, depth in facts
    ]
    spots.sort(key=lambda s: s[0])
    parts: list[str] = []
    cursor = 0
    placed: list[tuple[int, str, str, str, float]] = []
    length_so_far = 0
    for pos, key, code, depth in spots:
        parts.append(text[cursor:pos])
        length_so_far += pos - cursor
        sentence = NEEDLE_TEMPLATE.format(key=key, code=code)
        # Its own line: a needle is never glued to a neighbour's words.
        prefix = "" if pos == 0 or text[pos - 1] == "\n" else "\n"
        line = f"{prefix}{sentence}\n"
        placed.append((length_so_far + len(prefix), key, code, sentence, depth))
        parts.append(line)
        length_so_far += len(line)
        cursor = pos
    parts.append(text[cursor:])
    out = "".join(parts)
    needles = [
        Needle(
            key=key,
            value=code,
            sentence=sentence,
            char_offset=offset,
            depth=round(offset / max(1, len(out)), 4),
            target_depth=target,
        )
        for offset, key, code, sentence, target in placed
    ]
    return out, needles


def _needle_sample(
    task: TaskName, corpus: Corpus, length: int, index: int, seed: int, k: int
) -> TaskSample:
    rng = sample_rng(seed, task, length, index)
    pairs = _codes(rng, k)
    if task == "niah":
        depths = [NIAH_DEPTHS[index % len(NIAH_DEPTHS)]]
    else:  # one needle in each k-th of the text, at a random place within it
        depths = [round((i + rng.uniform(0.1, 0.9)) / k, 4) for i in range(k)]
    room = sum(len(NEEDLE_TEMPLATE.format(key=a, code=c)) + 2 for a, c in pairs)
    piece = take_slice(corpus, max(1, tokens_to_bytes(length) - room), rng)
    text, needles = plant(piece.text, [(a, c, d) for (a, c), d in zip(pairs, depths, strict=True)])
    if task == "niah":
        question, answer = NIAH_QUESTION.format(key=pairs[0][0]), pairs[0][1]
    else:
        question = MULTI_QUESTION
        answer = "; ".join(f"{n.key}: {n.value}" for n in needles)
    return TaskSample(
        task=task,
        length=length,
        index=index,
        seed=seed,
        question=question,
        answer=answer,
        expected=[n.value for n in needles],
        needles=needles,
        chars=len(text),
        tokens=estimate_tokens(text),
        corpus_offset=piece.offset,
        corpus_repeats=piece.repeats,
        text=text,
    )


def _count_sample(corpus: Corpus, length: int, index: int, seed: int) -> TaskSample:
    rng = sample_rng(seed, "count", length, index)
    pool = sentences(corpus)
    if not pool:
        raise BenchInputError(f"corpus {corpus.name} has no sentences or lines to make records of")
    label = rng.choice(LABELS)
    date_range: tuple[dt.date, dt.date] | None = None
    if index % 2 == 1:  # odd samples also filter by a date window of one to three months
        first = RECORD_YEAR_START + dt.timedelta(days=rng.randrange(0, 270))
        date_range = (first, first + dt.timedelta(days=rng.randrange(30, 95)))
    start = rng.randrange(len(pool))
    budget = tokens_to_bytes(length)
    rows: list[tuple[str, str, str]] = []  # (date, label, sentence)
    size = 0
    while size < budget or not rows:
        sentence = pool[(start + len(rows)) % len(pool)]
        date = RECORD_YEAR_START + dt.timedelta(days=rng.randrange(365))
        rows.append((date.isoformat(), rng.choice(LABELS), sentence))
        line = RECORD_TEMPLATE.format(id="0000", date=rows[-1][0], label=rows[-1][1], text=sentence)
        size += len(line.encode("utf-8")) + 1
    width = max(4, len(str(len(rows))))
    lines = [
        RECORD_TEMPLATE.format(id=f"{i + 1:0{width}d}", date=d, label=lab, text=s)
        for i, (d, lab, s) in enumerate(rows)
    ]
    text = "\n".join(lines) + "\n"

    def matches(date: str, lab: str) -> bool:
        if lab != label:
            return False
        return date_range is None or date_range[0].isoformat() <= date <= date_range[1].isoformat()

    count = sum(matches(d, lab) for d, lab, _ in rows)
    if date_range is None:
        question = COUNT_QUESTION.format(label=label)
    else:
        question = COUNT_RANGE_QUESTION.format(
            label=label, first=date_range[0].isoformat(), last=date_range[1].isoformat()
        )
    return TaskSample(
        task="count",
        length=length,
        index=index,
        seed=seed,
        question=COUNT_PREAMBLE + question,
        answer=str(count),
        expected=[str(count)],
        count=count,
        label=label,
        date_range=(date_range[0].isoformat(), date_range[1].isoformat()) if date_range else None,
        records=len(rows),
        chars=len(text),
        tokens=estimate_tokens(text),
        corpus_offset=start,
        corpus_repeats=(start + len(rows) - 1) // len(pool),
        text=text,
    )


def generate_sample(
    task: str, corpus: Corpus, length: int, index: int = 0, *, seed: int = 0, needles: int = 3
) -> TaskSample:
    """Sample ``index`` of ``task`` at ``length`` target tokens (reproducible from the seed)."""
    if task == "niah":
        return _needle_sample("niah", corpus, length, index, seed, 1)
    if task == "multi-niah":
        return _needle_sample("multi-niah", corpus, length, index, seed, needles)
    if task == "count":
        return _count_sample(corpus, length, index, seed)
    raise BenchInputError(f"unknown task {task!r}: use niah, multi-niah, count")
