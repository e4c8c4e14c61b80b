"""Evidence: a leaf's answer with the passages of its slice that support it, checked by us.

A leaf answers with ``{"found": ..., "answer": ..., "quotes": [...]}``: the answer and the
verbatim passages of its slice that support it, or a first-class "not found". The framework,
with no model involved, looks for every quote in the slice (case- and whitespace-tolerant) and
records where it stands. The answer is ``verified`` when a quote is there *and backs it* (the
answer stands in the quote, or its numbers and codes all do and enough of its words): a real
sentence quoted beside an invented answer proves nothing. A model that invents an answer is
caught by this check instead of winning by being first. A reply that is not in the evidence format still counts, as an unverified answer
(or a verified one, when its answer itself stands in the slice word for word).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from rlm_graph.context import ContextView

Outcome = Literal["found", "not_found"]

# Shorter quotes (a word, a number) would match by chance: they prove nothing.
MIN_QUOTE_CHARS = 6
MAX_QUOTES = 5
_NOT_FOUND = re.compile(r"^\W*not\s+found\W*$", re.IGNORECASE)
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…|\[\.\.\.\])\s*")
_QUOTE_MARKS = "\"'`“”‘’«»"


class LeafAnswer(BaseModel):
    """The evidence format: what a leaf is asked to reply (a JSON schema for constrained
    decoding where the model supports it)."""

    found: bool = Field(description="true if the text contains the answer")
    answer: str = Field(description="the answer, short; empty if not found")
    quotes: list[str] = Field(
        default_factory=list,
        description="the sentence or sentences of the text that contain the answer, copied "
        "word for word",
    )


class Evidence(BaseModel):
    """One quoted passage and where it stands in the context (absolute byte offsets; lines are
    1-based, counted in the file for a folder context, in the whole text otherwise)."""

    quote: str
    verified: bool
    start: int | None = None
    end: int | None = None
    file: str | None = None
    line: int | None = None
    line_end: int | None = None

    def where(self) -> str:
        if not self.verified:
            return "not in its text"
        lines = (
            f"line {self.line}"
            if self.line == self.line_end
            else f"lines {self.line}-{self.line_end}"
        )
        return f"{self.file}, {lines}" if self.file else lines


class LeafVerdict(BaseModel):
    """A leaf's reply, read and checked."""

    outcome: Outcome
    answer: str
    verified: bool
    evidence: list[Evidence] = Field(default_factory=list)
    formatted: bool = Field(description="the reply was in the evidence format")


def parse_reply(text: str) -> tuple[LeafAnswer | None, str]:
    """The reply as a ``LeafAnswer`` if it is one (a JSON object, perhaps fenced or in prose),
    and its plain text otherwise."""
    stripped = text.strip()
    for candidate in _json_candidates(stripped):
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict) and ("answer" in data or "found" in data):
            quotes = data.get("quotes") or data.get("quote") or []
            if isinstance(quotes, str):
                quotes = [quotes]
            answer = data.get("answer")
            return (
                LeafAnswer(
                    found=bool(data.get("found", bool(answer))),
                    answer="" if answer is None else str(answer),
                    quotes=[str(q) for q in quotes if q][:MAX_QUOTES],
                ),
                stripped,
            )
    return _cut_off_object(stripped), stripped


_STRING = r'"((?:[^"\\]|\\.)*)"'
_ANSWER_FIELD = re.compile(r'"answer"\s*:\s*' + _STRING)
_FOUND_FIELD = re.compile(r'"found"\s*:\s*(true|false)')
_QUOTES_FIELD = re.compile(r'"quotes?"\s*:\s*\[')


def _cut_off_object(text: str) -> LeafAnswer | None:
    """What can be read of an evidence object cut off mid-way (a reply that hit the output
    limit): its complete ``found``, ``answer`` and quotes, or None."""
    answer = _ANSWER_FIELD.search(text)
    if not text.startswith("{") or answer is None:
        return None
    found = _FOUND_FIELD.search(text)
    quotes: list[str] = []
    if (start := _QUOTES_FIELD.search(text)) is not None:
        quotes = [_unquote(q) for q in re.findall(_STRING, text[start.end() :])]
    value = _unquote(answer.group(1))
    return LeafAnswer(
        found=found.group(1) == "true" if found else bool(value),
        answer=value,
        quotes=[q for q in quotes if q][:MAX_QUOTES],
    )


def _unquote(body: str) -> str:
    try:
        return json.loads(f'"{body}"')
    except ValueError:
        return body


def _json_candidates(text: str) -> list[str]:
    first, last = text.find("{"), text.rfind("}")
    return [text] + ([text[first : last + 1]] if 0 <= first < last else [])


def check(view: ContextView, text: str) -> LeafVerdict:
    """Read a leaf's reply and verify its quotes against the slice it read."""
    reply, plain = parse_reply(text)
    if reply is None:  # not the evidence format: the whole reply is the answer
        if not plain or _NOT_FOUND.match(plain):
            return LeafVerdict(outcome="not_found", answer="", verified=False, formatted=False)
        evidence = _locate_all(view, [plain])
        return _verdict(view, plain, evidence, formatted=False)
    answer = reply.answer.strip()
    if not reply.found or not answer or _NOT_FOUND.match(answer):
        return LeafVerdict(outcome="not_found", answer="", verified=False, formatted=True)
    quotes = [q for q in reply.quotes if q.strip()]
    # The answer itself, word for word in the text, is evidence too (small models often quote
    # badly but answer with the exact span).
    evidence = _locate_all(view, [*quotes, answer])
    return _verdict(view, answer, evidence, formatted=True)


def _verdict(
    view: ContextView, answer: str, evidence: list[Evidence], *, formatted: bool
) -> LeafVerdict:
    backing = [item for item in evidence if item.verified and backs(answer, item.quote)]
    if not backing:
        # Small models wrap a right code in words of their own ("the archive1 archive is
        # 1259-STOAT") and misquote its sentence: the sentence of the slice around each of the
        # answer's codes is its evidence. An invented code is in no slice.
        codes = [locate(view, code) for code in fact_tokens(answer)]
        found = [item for item in codes if item.verified]
        backing = _unique([passage(view, item.start or 0, item.end or 0) for item in found])
        if backing and len(found) < len(codes):
            # Part of the answer stands nowhere in the text (an invented name, a second code):
            # the finding is what the text itself says there, never the invention.
            answer = " ".join(item.quote for item in backing)
    verified = bool(backing)
    # Keep what backs the answer; an unverified answer keeps every quote, to show.
    shown = backing if verified else evidence
    return LeafVerdict(
        outcome="found", answer=answer, verified=verified, evidence=shown, formatted=formatted
    )


# How far a passage reaches on either side of a code, and how many line breaks a sentence
# may wrap over (prose whose next line goes on in lower case).
PASSAGE_REACH = 200
PASSAGE_WRAPS = 2
_SENTENCE_END = re.compile(rb"[.!?](?=\s|$)|\n[ \t]*\n")


def _goes_on(line: bytes) -> bool:
    """A line that continues a wrapped sentence: it starts in lower case."""
    text = line.lstrip()
    return bool(text) and text[:1].islower()


def _passage_left(data: bytes, lo: int) -> int:
    reach = max(0, lo - PASSAGE_REACH)
    newline = data.rfind(b"\n", reach, lo)
    ends = [
        m.end()
        for m in _SENTENCE_END.finditer(data, reach, lo)
        if data.count(b"\n", m.end(), lo) <= PASSAGE_WRAPS
    ]
    if newline < 0:  # one long line: back to its sentence's start, or to a space
        if ends:
            return ends[-1]
        if not reach:
            return 0
        space = data.find(b" ", reach, lo)
        return space + 1 if space >= 0 else reach
    line = newline + 1
    if ends and (ends[-1] >= line or _goes_on(data[line:lo])):
        return ends[-1]
    return line


def _passage_right(data: bytes, hi: int) -> int:
    reach = min(len(data), hi + PASSAGE_REACH)
    newline = data.find(b"\n", hi, reach)
    limit = reach if newline < 0 or _goes_on(data[newline + 1 : newline + 80]) else newline
    stop = _SENTENCE_END.search(data, hi, limit)
    if stop is not None and data.count(b"\n", hi, stop.start()) <= PASSAGE_WRAPS:
        return stop.start() + (data[stop.start()] != ord("\n"))  # the full stop kept
    if newline >= 0:
        return newline
    if reach == len(data):
        return reach
    space = data.rfind(b" ", hi, reach)
    return space if space >= 0 else reach


def passage(view: ContextView, start: int, end: int) -> Evidence:
    """The sentence of ``view`` around the absolute span ``start:end``, within its line unless
    the sentence wraps onto a line that goes on in lower case (at most ``PASSAGE_REACH`` bytes
    either side), as verified evidence."""
    data = view.read_bytes()
    left = _passage_left(data, start - view.start)
    right = _passage_right(data, end - view.start)
    raw = data[left:right]
    left += len(raw) - len(raw.lstrip())
    right = left + len(raw.strip())
    quote = " ".join(data[left:right].decode("utf-8", "replace").split())
    first, last = view.start + left, view.start + right
    return Evidence(
        quote=quote, verified=True, start=first, end=last, **lines_of(view, first, last)
    )


def _unique(evidence: list[Evidence]) -> list[Evidence]:
    return list({(item.start, item.end): item for item in evidence}.values())


def _locate_all(view: ContextView, quotes: list[str]) -> list[Evidence]:
    seen: set[str] = set()
    found = []
    for quote in quotes:
        key = " ".join(quote.split()).casefold()
        if key in seen:
            continue
        seen.add(key)
        found.append(locate(view, quote))
    return found


def locate(view: ContextView, quote: str) -> Evidence:
    """Where ``quote`` stands in ``view`` (case- and whitespace-tolerant; ``...`` may join
    parts quoted in order), or an unverified ``Evidence``."""
    cleaned = quote.strip().strip(_QUOTE_MARKS).strip()
    parts = [part for part in _ELLIPSIS.split(cleaned) if part.strip()]
    if not parts or sum(len(part.strip()) for part in parts) < MIN_QUOTE_CHARS:
        return Evidence(quote=quote, verified=False)
    data = view.read_bytes()
    pos, first, last = 0, None, None
    for part in parts:
        words = [re.escape(word.encode("utf-8")) for word in part.split()]
        pattern = re.compile(rb"\s+".join(words), re.IGNORECASE)
        match = pattern.search(data, pos)
        if match is None:
            return Evidence(quote=quote, verified=False)
        first = match.start() if first is None else first
        last, pos = match.end(), match.end()
    start, end = view.start + (first or 0), view.start + (last or 0)
    return Evidence(quote=quote, verified=True, start=start, end=end, **lines_of(view, start, end))


def lines_of(view: ContextView, start: int, end: int) -> dict:
    """``file``, ``line`` and ``line_end`` of an absolute byte span (lines 1-based, counted in
    the file for a folder context)."""
    store = view.store
    index = store.line_index()
    line, line_end = (
        1 + index.newlines_before(start),
        1 + index.newlines_before(max(start, end - 1)),
    )
    for entry in store.files():
        if entry.start <= start < max(entry.end, entry.start + 1):
            offset = index.newlines_before(entry.start)
            return {"file": entry.path, "line": line - offset, "line_end": line_end - offset}
    return {"file": None, "line": line, "line_end": line_end}


def normalized(text: str) -> str:
    """Lower case, punctuation and runs of spaces folded: for comparing answers."""
    return " ".join(re.sub(r"[^\w\s-]", " ", text.casefold()).split())


# Words that say nothing about what an answer claims.
_STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is",
    "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "were", "with", "which",
    "who", "what", "when", "where", "there", "their", "they", "he", "she", "his", "her", "not",
    "no", "yes",
))  # fmt: skip
# Prefix length for comparing words: "terminated" backs "terminate", "notices" "notice".
_STEM = 5
# Share of an answer's plain words a quote must hold (numbers and codes must all be there).
_WORD_SHARE = 1 / 3


def _words(text: str) -> list[str]:
    return [w for w in normalized(text).split() if w not in _STOPWORDS]


_FACT = re.compile(r"[\w][\w.:/-]*[\w]")


def fact_tokens(answer: str) -> list[str]:
    """The answer's codes: words of at least ``MIN_QUOTE_CHARS`` characters with a digit in
    them (``1259-STOAT``, ``2023-05-17``, ``v1.4.2``), once each, in order."""
    found = (t for t in _FACT.findall(answer) if len(t) >= MIN_QUOTE_CHARS)
    return list(dict.fromkeys(t for t in found if any(c.isdigit() for c in t)))


def backs(answer: str, quote: str) -> bool:
    """Whether a (verified) quote backs ``answer``: the answer stands in it, or every number and
    code of the answer does and at least a third of its other words (by their first letters).
    An answer with no such words (``yes``) is backed by any passage."""
    answer_n, quote_n = normalized(answer), normalized(quote)
    if answer_n and answer_n in quote_n:
        return True
    words = _words(answer)
    if not words:
        return True
    quoted = set(_words(quote))
    stems = {w[:_STEM] for w in quoted}
    codes = [w for w in words if any(c.isdigit() for c in w)]
    if any(code not in quoted and code not in quote_n for code in codes):
        return False
    plain = [w for w in words if w not in codes]
    if not plain:
        return True
    held = sum(1 for w in plain if w[:_STEM] in stems)
    return held >= max(1, round(len(plain) * _WORD_SHARE))


def supports(final: str, finding_answer: str, quotes: list[str]) -> bool:
    """Whether a verified finding backs a final answer: one contains the other (answers
    compared without case and punctuation), the codes of the finding's answer or of one of its
    quotes all stand in the final answer ("pebble: 1259-STOAT" backed by "the NAME archive is
    1259-STOAT", or by "granite archive" quoting "... granite archive is 4561-KESTREL."), or
    the final answer stands in its quotes."""
    final_n, answer_n = normalized(final), normalized(finding_answer)
    if len(final_n) < 2 or len(answer_n) < 2:
        return False
    if answer_n in final_n or final_n in answer_n:
        return True
    for source in (finding_answer, *quotes):  # its codes, or a quote's, all in the answer
        codes = fact_tokens(source)
        if codes and all(normalized(code) in final_n for code in codes):
            return True
    return any(final_n in normalized(quote) for quote in quotes)
