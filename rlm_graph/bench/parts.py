"""``per-part``: k whole parts of the corpus, each led by a marker line; say what each is about.

A part is one natural unit of the corpus, never cut: a help topic of the default corpus, a
file of a folder, and in a single file a section under a heading (Markdown ``#`` lines or
underlined titles) or, without enough headings, a group of blank-line paragraphs of about the
sample's length over k. A sample takes k = 4-8 (from the rng) parts, in corpus order, whose
size is 70-100% of the length: drawn from the rng, a larger part more likely up to a k-th of the
length (``_draw``). Runs of consecutive parts alone gave few samples: at 4x the 0.5B's window
Python's help text has 2-9 such runs, and 4 of the 12 samples of two seeds were repeats. When
no draw fits, the run of consecutive parts nearest the length is taken. Parts are whole, so a
sample is as long as its parts are: at lengths beyond k parts of the corpus it is shorter than
asked (``text_tokens`` says how long; on Python's help text, at most about 37k tokens).

Truth per part is computed: its key terms are the content words of its title (the topic name,
the file name without extension, the heading or first line) and its ``TOP_TERMS`` most
distinctive words by tf-idf against the sample's other parts (stems of five letters, stop
words dropped). An answer names part k right when its segment for part k (from a mention of
"Part k" or a line starting "k." up to the next such mention; without any, the k-th non-empty
line) holds one of part k's key terms (as a stem). ``recall`` is the share of parts named
right; ``correct`` is ``recall >= PASS_RECALL`` (0.7).
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from pathlib import PurePosixPath

from pydantic import BaseModel

from rlm_graph.bench.corpus import Corpus, tokens_to_bytes
from rlm_graph.bench.options import BenchInputError
from rlm_graph.bench.samples import PartTruth, TaskSample, sample_rng
from rlm_graph.bench.text import content_words, stem, stems

MIN_PARTS, MAX_PARTS = 4, 8
TOP_TERMS = 5
PASS_RECALL = 0.7
FIT_FROM = 0.7  # a run of parts "fits" a length when it is 70-100% of it
PART_MARKER = "=== Part {n} ==="
PER_PART_QUESTION = (
    "The text holds {n} parts, each starting with a line '=== Part k ==='. For each part, say "
    "in one line what it is mainly about."
)
# A heading section shorter than this is merged into the next (a title over a sub-title).
_MIN_SECTION_CHARS = 200
_ATX = re.compile(r"^#{1,6}\s+\S")
_UNDERLINE = re.compile(r"^\s*([=\-~^*#+])\1{2,}\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_PART_REF = re.compile(r"\bpart\s*#?\s*(\d+)\b", re.IGNORECASE)
_NUMBERED = re.compile(r"^[ \t]*(?:[-*#>]+[ \t]*)?(?:\*\*)?(\d+)(?:\*\*)?[.):](?!\d)", re.MULTILINE)
_MARKER_WORD = stem("part")  # "Part 3" in an answer names no topic


class Unit(BaseModel):
    """One part before it is numbered: its title, where key terms come from, its text."""

    title: str
    title_text: str
    text: str


def _heading_sections(text: str) -> list[Unit]:
    """Sections under headings (Markdown ``#`` outside code fences, or underlined lines)."""
    lines = text.splitlines()
    starts: list[tuple[int, str]] = []
    fenced = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
        if fenced:
            continue
        if _ATX.match(line):
            starts.append((i, line.lstrip("#").strip()))
        elif (
            i + 1 < len(lines)
            and line.strip()
            and not _UNDERLINE.match(line)
            and _UNDERLINE.match(lines[i + 1])
        ):
            starts.append((i, line.strip()))
    if not starts or starts[0][0] > 0:  # the text before the first heading is a part too
        first = next((line.strip() for line in lines if line.strip()), "")
        starts.insert(0, (0, first))
    units: list[Unit] = []
    pending: tuple[str, list[str]] | None = None
    for (begin, title), (end, _) in zip(starts, [*starts[1:], (len(lines), "")], strict=True):
        body = lines[begin:end]
        if pending is not None:
            title, body = pending[0], pending[1] + body
            pending = None
        chunk = "\n".join(body).strip("\n")
        if len(chunk) < _MIN_SECTION_CHARS and end < len(lines):
            pending = (title, body)
            continue
        if chunk.strip():
            units.append(Unit(title=title, title_text=title, text=chunk))
    return units


def _paragraphs(text: str) -> list[str]:
    return [p.strip("\n") for p in re.split(r"\n[ \t]*\n", text) if p.strip()]


def _paragraph_groups(text: str, part_chars: int, k: int) -> list[Unit]:
    """Consecutive blank-line paragraphs grouped to about ``part_chars`` each (at most a
    k-th of the text, so there are k parts); single paragraphs when grouping leaves fewer."""
    paragraphs = _paragraphs(text)
    part_chars = min(part_chars, len(text) // k)
    units: list[Unit] = []
    group: list[str] = []
    for paragraph in paragraphs:
        group.append(paragraph)
        if sum(len(p) + 2 for p in group) >= part_chars:
            units.append(_group_unit(group))
            group = []
    if group:
        units.append(_group_unit(group))
    if len(units) < k:
        units = [_group_unit([p]) for p in paragraphs]
    return units


def _group_unit(group: list[str]) -> Unit:
    first = next(line.strip() for line in group[0].splitlines() if line.strip())
    return Unit(title=first, title_text=first, text="\n\n".join(group))


def corpus_units(corpus: Corpus, part_chars: int, k: int = MIN_PARTS) -> list[Unit]:
    """The corpus's parts in order: its sections (help topics, files) when it has enough,
    else its heading sections, else paragraph groups of about ``part_chars``."""
    if len(corpus.sections) >= MIN_PARTS:
        return [
            Unit(
                title=s.title,
                # A file's name says what it holds; its folders and extension do not.
                title_text=PurePosixPath(s.title).stem if corpus.files > 1 else s.title,
                text=corpus.text[s.start : s.end],
            )
            for s in corpus.sections
        ]
    units = _heading_sections(corpus.text)
    if len(units) >= MIN_PARTS:
        return units
    return _paragraph_groups(corpus.text, max(1, part_chars), k)


def check_parts(corpus: Corpus) -> None:
    """Refuse, before a run, a corpus with too few parts for ``per-part``."""
    if len(corpus.sections) >= MIN_PARTS or len(_heading_sections(corpus.text)) >= MIN_PARTS:
        return
    if len(_paragraphs(corpus.text)) < MIN_PARTS:
        raise BenchInputError(
            f"corpus {corpus.name} has fewer than {MIN_PARTS} parts (topics, files, headings or "
            "paragraphs) for per-part"
        )


def key_terms(units: list[Unit], top: int = TOP_TERMS) -> list[list[str]]:
    """Per unit: the content words of its title, then its ``top`` words by tf-idf against the
    other units (as stems; shown as the stem's most frequent word in the unit)."""
    counts: list[Counter[str]] = []
    shown: list[dict[str, str]] = []
    for unit in units:
        words = content_words(unit.text)
        counts.append(Counter(stem(w) for w in words))
        by_stem: dict[str, Counter[str]] = {}
        for w in words:
            by_stem.setdefault(stem(w), Counter())[w] += 1
        # Ties go to the alphabetically first word: deterministic.
        shown.append(
            {s: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for s, c in by_stem.items()}
        )
    df: Counter[str] = Counter()
    for c in counts:
        df.update(c.keys())
    n = len(units)
    terms: list[list[str]] = []
    for unit, c, surface in zip(units, counts, shown, strict=True):
        total = sum(c.values()) or 1
        scored = {s: (k / total) * math.log(n / df[s]) for s, k in c.items() if s != _MARKER_WORD}
        best = [s for s in sorted(scored, key=lambda s: (-scored[s], s)) if scored[s] > 0][:top]
        title: list[str] = []
        for w in content_words(unit.title_text):
            if stem(w) != _MARKER_WORD and all(stem(t) != stem(w) for t in title):
                title.append(w)
        title_stems = {stem(w) for w in title}
        terms.append(title + [surface[s] for s in best if s not in title_stems])
    return terms


# Draws of k parts tried before the run nearest the length is taken instead.
DRAW_TRIES = 200


def _draw(sizes: list[int], k: int, target: int, rng: random.Random) -> list[int] | None:
    """Indices (in corpus order) of k parts whose sizes sum to 70-100% of ``target``, drawn
    without replacement with a weight of each part's size capped at a k-th of the target (a
    long part is likelier, as the length needs long parts; past that, all alike)."""
    cap = max(1.0, target / k)
    eligible = [i for i, size in enumerate(sizes) if 0 < size <= target]
    if len(eligible) < k:
        return None
    for _ in range(DRAW_TRIES):
        # Weighted sampling without replacement: the k largest of u ** (1 / weight).
        keys = {i: rng.random() ** (1 / min(sizes[i], cap)) for i in eligible}
        picked = sorted(sorted(eligible, key=keys.__getitem__, reverse=True)[:k])
        if FIT_FROM * target <= sum(sizes[i] for i in picked) <= target:
            return picked
    return None


def part_sample(corpus: Corpus, length: int, index: int, seed: int) -> TaskSample:
    rng = sample_rng(seed, "per-part", length, index)
    k = rng.randint(MIN_PARTS, MAX_PARTS)
    target = tokens_to_bytes(length)
    check_parts(corpus)
    units = corpus_units(corpus, target // k, k)
    k = min(k, len(units))
    marker = len(PART_MARKER.format(n=k)) + 3
    sizes = [len(u.text.encode("utf-8")) + marker for u in units]
    picked = _draw(sizes, k, target, rng)
    if picked is None:  # no draw fits: the run nearest the length (log scale), earliest on ties
        runs = [(start, sum(sizes[start : start + k])) for start in range(len(units) - k + 1)]
        first = min(runs, key=lambda r: (abs(math.log(r[1] / max(1, target))), r[0]))[0]
        picked = list(range(first, first + k))
    first = picked[0]
    chosen = [units[i] for i in picked]
    terms = key_terms(chosen)
    pieces: list[str] = []
    parts: list[PartTruth] = []
    offset = 0
    for n, (unit, unit_terms) in enumerate(zip(chosen, terms, strict=True), start=1):
        piece = f"{PART_MARKER.format(n=n)}\n{unit.text.strip(chr(10))}\n"
        parts.append(
            PartTruth(number=n, title=unit.title, key_terms=unit_terms, char_offset=offset)
        )
        pieces.append(piece)
        offset += len(piece) + 1
    text = "\n".join(pieces)
    return TaskSample(
        task="per-part",
        length=length,
        index=index,
        seed=seed,
        question=PER_PART_QUESTION.format(n=k),
        answer="\n".join(f"Part {p.number}: {', '.join(p.key_terms)}" for p in parts),
        expected=[", ".join(p.key_terms) for p in parts],
        parts=parts,
        corpus_offset=first,
        text=text,
    )


def answer_segments(answer: str | None, parts: int) -> dict[int, str]:
    """What an answer says about each part: the text from each mention of "Part k" (or a line
    starting "k.") to the next mention; with no mention at all, the k-th non-empty line."""
    text = answer or ""
    refs = sorted(
        [(m.start(), m.end(), int(m.group(1))) for m in _PART_REF.finditer(text)]
        + [(m.start(), m.end(), int(m.group(1))) for m in _NUMBERED.finditer(text)]
    )
    segments: dict[int, str] = {}
    if not refs:
        lines = [line for line in text.splitlines() if line.strip()]
        return {n: lines[n - 1] for n in range(1, min(parts, len(lines)) + 1)}
    reach = 0
    for i, (start, end, number) in enumerate(refs):
        if start < reach:  # "1." inside a "Part 1" already read
            continue
        stop = next((s for s, _, _ in refs[i + 1 :] if s >= end), len(text))
        if 1 <= number <= parts:
            segments[number] = segments.get(number, "") + " " + text[end:stop]
        reach = end
    return segments


def score_parts(sample: TaskSample, answer: str | None) -> tuple[bool, float]:
    """(correct, recall): the share of parts whose segment holds one of their key terms."""
    segments = answer_segments(answer, len(sample.parts))
    right = 0
    for part in sample.parts:
        wanted = {stem(t) for t in part.key_terms}
        right += bool(wanted & stems(segments.get(part.number, "")))
    recall = right / len(sample.parts) if sample.parts else 0.0
    return recall >= PASS_RECALL - 1e-9, recall
