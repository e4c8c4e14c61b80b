"""Bench tasks over real text, with the ground truth computed here, never written by hand.

- ``niah``: one generated needle planted at a depth of the slice. Sample i asks for needle
  shape ``SHAPES[i % 5]`` (sentence, name, date, number, code: ``needles.py``) at depth
  ``NIAH_DEPTHS[(i + i // 5) % 5]``: samples 0-4 go through the depths in order, and over 25
  samples every shape meets every depth.
- ``multi-niah``: ``k`` needles of the sample's one shape and template, distinct keys and
  values, one at a random depth in each k-th of the slice (spread, never bunched); every value
  must be named. The question asks for all of them ("For each town whose clock tower ...").
- ``absent``: a niah question whose fact is not in the text; samples with ``index % 4 < 2``
  carry a distractor, another key's fact of the same template, at the niah depth. Right is
  "not found" (``needles.says_not_found``) naming no value.
- ``multi-hop``: "A reports to B." and "B works in the Z office." (or another of
  ``HOP_TEMPLATES``) planted in different halves; "In which office does A's manager work?" is
  Z. Even samples also plant a second chain with other people and another place, so the
  place facts alone do not give Z.
- ``count`` (OOLONG-style aggregation): the slice is a list of records, one per line, in one
  of three formats taken in turn a pair of samples each (``RECORD_FORMATS``): pipes,
  ``Record 0412 | 2023-05-17 | label: invoice | <a real sentence of the corpus>``; a table,
  tab-separated under a header line; a log, ``[2023-05-17] #0412 invoice: <sentence>``.
  Labels and dates drawn at random; "how many records have label X" (odd samples: and a date
  range).
- ``per-part``: k (4-8) whole parts of the corpus, each led by ``=== Part N ===``; say what
  each is about (``parts.py``).
- ``code``: whole Python files of a source tree; which file defines a function, or which
  functions call it, with the truth read from their syntax trees (``code_tasks.py``).

Odd samples of niah, multi-niah and absent ask in words other than the needle's (the
template's paraphrase). Every sample is a function of (seed, task, length, index) alone (and of
the corpus): adding a task, a length or a method to a run never changes the other samples.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import NamedTuple

from rlm_graph.bench.code_tasks import CodeTree, code_sample, default_code_corpus
from rlm_graph.bench.corpus import Corpus, sentences, take_slice, tokens_to_bytes
from rlm_graph.bench.needles import (
    HOP_TEMPLATES,
    SHAPES,
    Fact,
    draw_facts,
    draw_people,
    draw_towns,
)
from rlm_graph.bench.options import TASKS, BenchInputError
from rlm_graph.bench.parts import part_sample
from rlm_graph.bench.samples import (
    CodeQuestion,
    Needle,
    PartTruth,
    TaskName,
    TaskSample,
    sample_rng,
)

__all__ = [
    "CodeQuestion",
    "Needle",
    "PartTruth",
    "TaskName",
    "TaskSample",
    "generate_sample",
    "plant",
    "sample_rng",
]

NIAH_DEPTHS = (0.1, 0.3, 0.5, 0.7, 0.9)
ABSENT_ANSWER = "not found"

LABELS = ("invoice", "complaint", "refund", "inquiry", "shipment", "feedback")
RECORD_YEAR_START = dt.date(2023, 1, 1)


class RecordFormat(NamedTuple):
    """How the count task writes its records: users' records come as pipes, tables and logs,
    and a rule that reads one of them is not a rule for records."""

    name: str
    preamble: str  # what the question says of the format
    line: str  # a record: {id}, {date}, {label}, {text}
    header: str | None = None


RECORD_FORMATS = (
    RecordFormat(
        "pipe",
        "The text is a list of records, one per line: Record ID | date (YYYY-MM-DD) | "
        "label: LABEL | text. ",
        "Record {id} | {date} | label: {label} | {text}",
    ),
    RecordFormat(
        "tsv",
        "The text is a table of records, one per line, its fields separated by tabs under a "
        "header line: id, date (YYYY-MM-DD), label, text. ",
        "{id}\t{date}\t{label}\t{text}",
        header="id\tdate\tlabel\ttext",
    ),
    RecordFormat(
        "log",
        "The text is a log, one record per line: [date (YYYY-MM-DD)] #ID LABEL: text. ",
        "[{date}] #{id} {label}: {text}",
    ),
)


def record_format(index: int) -> RecordFormat:
    """Sample ``index``'s format: each format in turn for a pair of samples, one counting a
    label, the other a label in a date window."""
    return RECORD_FORMATS[index // 2 % len(RECORD_FORMATS)]


COUNT_QUESTION = "How many records have label {label}? Answer with a number."
COUNT_RANGE_QUESTION = (
    "How many records have label {label} and a date from {first} to {last} (both included)? "
    "Answer with a number."
)


def niah_depth(index: int) -> float:
    return NIAH_DEPTHS[(index + index // len(NIAH_DEPTHS)) % len(NIAH_DEPTHS)]


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


def plant(text: str, lines: list[tuple[str, float]]) -> tuple[str, list[int]]:
    """Insert each (sentence, depth) as its own line at the line boundary nearest its depth;
    returns the new text and where each sentence ended up (in the order given)."""
    spots = sorted(
        (_line_boundary(text, round(depth * len(text))), i) for i, (_, depth) in enumerate(lines)
    )
    parts: list[str] = []
    offsets = [0] * len(lines)
    cursor = 0
    size = 0
    for pos, i in spots:
        parts.append(text[cursor:pos])
        size += pos - cursor
        # Its own line: a needle is never glued to a neighbour's words.
        prefix = "" if pos == 0 or text[pos - 1] == "\n" else "\n"
        line = f"{prefix}{lines[i][0]}\n"
        offsets[i] = size + len(prefix)
        parts.append(line)
        size += len(line)
        cursor = pos
    parts.append(text[cursor:])
    return "".join(parts), offsets


def _planted(
    corpus: Corpus,
    length: int,
    rng: random.Random,
    facts: list[tuple[Fact, float, str]],
) -> tuple[str, list[Needle], int, int]:
    """A slice of ``length`` tokens with every (fact, depth, role) planted in it: the text, the
    needles in text order, the slice's corpus offset and repeats."""
    room = sum(len(fact.sentence.encode("utf-8")) + 2 for fact, _, _ in facts)
    piece = take_slice(corpus, max(1, tokens_to_bytes(length) - room), rng)
    text, offsets = plant(piece.text, [(fact.sentence, depth) for fact, depth, _ in facts])
    needles = [
        Needle(
            key=fact.key,
            value=fact.value,
            sentence=fact.sentence,
            char_offset=offset,
            depth=round(offset / max(1, len(text)), 4),
            target_depth=depth,
            shape=fact.shape,
            role=role,
        )
        for (fact, depth, role), offset in zip(facts, offsets, strict=True)
    ]
    needles.sort(key=lambda n: n.char_offset)
    return text, needles, piece.offset, piece.repeats


def _needle_sample(
    task: TaskName, corpus: Corpus, length: int, index: int, seed: int, k: int
) -> TaskSample:
    rng = sample_rng(seed, task, length, index)
    shape = SHAPES[index % len(SHAPES)]
    paraphrased = index % 2 == 1
    template, facts = draw_facts(rng, shape, k)
    if task == "niah":
        depths = [niah_depth(index)]
    else:  # one needle in each k-th of the text, at a random place within it
        depths = [round((i + rng.uniform(0.1, 0.9)) / k, 4) for i in range(k)]
    text, needles, offset, repeats = _planted(
        corpus, length, rng, [(f, d, "fact") for f, d in zip(facts, depths, strict=True)]
    )
    if task == "niah":
        asked = template.paraphrase if paraphrased else template.question
        question, answer = asked.format(key=facts[0].key), facts[0].value
    else:
        question = template.multi_paraphrase if paraphrased else template.multi
        answer = "; ".join(f"{n.key}: {n.value}" for n in needles)
    return TaskSample(
        task=task,
        length=length,
        index=index,
        seed=seed,
        question=question,
        answer=answer,
        expected=[n.value for n in needles],
        shape=shape,
        shapes=[n.shape for n in needles],
        paraphrased=paraphrased,
        needles=needles,
        corpus_offset=offset,
        corpus_repeats=repeats,
        text=text,
    )


def _absent_sample(corpus: Corpus, length: int, index: int, seed: int) -> TaskSample:
    rng = sample_rng(seed, "absent", length, index)
    shape = SHAPES[index % len(SHAPES)]
    paraphrased = index % 2 == 1
    distractor = index % 4 < 2  # samples 0, 1, 4, 5, ...: with; 2, 3, 6, 7, ...: without
    template, (asked, decoy) = draw_facts(rng, shape, 2)  # distinct keys and values
    planted = [(decoy, niah_depth(index), "distractor")] if distractor else []
    text, needles, offset, repeats = _planted(corpus, length, rng, planted)
    question = (template.paraphrase if paraphrased else template.question).format(key=asked.key)
    return TaskSample(
        task="absent",
        length=length,
        index=index,
        seed=seed,
        question=question,
        answer=ABSENT_ANSWER,
        expected=[],
        shape=shape,
        shapes=[n.shape for n in needles],
        paraphrased=paraphrased,
        distractor=distractor,
        needles=needles,
        corpus_offset=offset,
        corpus_repeats=repeats,
        text=text,
    )


def _halves(rng: random.Random) -> tuple[float, float]:
    """Two depths in different halves of the text, in random order."""
    early, late = round(rng.uniform(0.05, 0.45), 4), round(rng.uniform(0.55, 0.95), 4)
    return (early, late) if rng.random() < 0.5 else (late, early)


def _multi_hop_sample(corpus: Corpus, length: int, index: int, seed: int) -> TaskSample:
    rng = sample_rng(seed, "multi-hop", length, index)
    template = rng.choice(HOP_TEMPLATES)
    distractor = index % 2 == 0
    a, b, c, d = draw_people(rng, 4)
    z, y = draw_towns(rng, 2)

    def chain(who: str, boss: str, town: str, decoy: bool) -> list[tuple[Fact, float, str]]:
        link = Fact(shape="link", key=who, value=boss, sentence=template.link.format(a=who, b=boss))
        place = Fact(
            shape="place", key=boss, value=town, sentence=template.place.format(b=boss, z=town)
        )
        link_depth, place_depth = _halves(rng)
        roles = ("distractor", "distractor") if decoy else ("hop1", "hop2")
        return [(link, link_depth, roles[0]), (place, place_depth, roles[1])]

    facts = chain(a, b, z, decoy=False)
    if distractor:  # another chain: the place facts alone no longer give the answer
        facts += chain(c, d, y, decoy=True)
    text, needles, offset, repeats = _planted(corpus, length, rng, facts)
    return TaskSample(
        task="multi-hop",
        length=length,
        index=index,
        seed=seed,
        question=template.question.format(a=a),
        answer=z,
        expected=[z],
        shapes=[n.shape for n in needles],
        distractor=distractor,
        needles=needles,
        corpus_offset=offset,
        corpus_repeats=repeats,
        text=text,
    )


def _count_sample(corpus: Corpus, length: int, index: int, seed: int) -> TaskSample:
    rng = sample_rng(seed, "count", length, index)
    pool = sentences(corpus)
    if not pool:
        raise BenchInputError(f"corpus {corpus.name} has no sentences or lines to make records of")
    label = rng.choice(LABELS)
    form = record_format(index)
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
        line = form.line.format(id="0000", date=rows[-1][0], label=rows[-1][1], text=sentence)
        size += len(line.encode("utf-8")) + 1
    width = max(4, len(str(len(rows))))
    lines = [form.header] if form.header else []
    lines += [
        form.line.format(id=f"{i + 1:0{width}d}", date=d, label=lab, text=s)
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
        question=form.preamble + question,
        answer=str(count),
        expected=[str(count)],
        count=count,
        label=label,
        date_range=(date_range[0].isoformat(), date_range[1].isoformat()) if date_range else None,
        record_format=form.name,
        records=len(rows),
        corpus_offset=start,
        corpus_repeats=(start + len(rows) - 1) // len(pool),
        text=text,
    )


def generate_sample(
    task: str,
    corpus: Corpus,
    length: int,
    index: int = 0,
    *,
    seed: int = 0,
    needles: int = 3,
    code_corpus: CodeTree | None = None,
) -> TaskSample:
    """Sample ``index`` of ``task`` at ``length`` target tokens (reproducible from the seed).
    ``code`` reads ``code_corpus`` (default: ``code_tasks.default_code_corpus()``)."""
    if task == "niah":
        return _needle_sample("niah", corpus, length, index, seed, 1)
    if task == "multi-niah":
        return _needle_sample("multi-niah", corpus, length, index, seed, needles)
    if task == "absent":
        return _absent_sample(corpus, length, index, seed)
    if task == "multi-hop":
        return _multi_hop_sample(corpus, length, index, seed)
    if task == "count":
        return _count_sample(corpus, length, index, seed)
    if task == "per-part":
        return part_sample(corpus, length, index, seed)
    if task == "code":
        return code_sample(code_corpus or default_code_corpus(), length, index, seed)
    raise BenchInputError(f"unknown task {task!r}: use {', '.join(TASKS)}")
