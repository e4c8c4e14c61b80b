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

import functools
import re
from bisect import bisect_right
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from rlm_graph import prompts
from rlm_graph.context.scopes import scope_of
from rlm_graph.protocol.reply_json import find_json
from rlm_graph.questions import asks_for_many, asks_for_number, fits_asked, task_kind

if TYPE_CHECKING:
    from rlm_graph.context import ContextView

Outcome = Literal["found", "not_found"]

# Shorter quotes (a word, a number) would match by chance: they prove nothing.
MIN_QUOTE_CHARS = 6
MAX_QUOTES = 5
# A reader that found nothing may say so in a sentence with "found": true ("The passage does
# not provide information about which towns ...", the 1.5B on "New in version 3.10.").
_NOT_FOUND = re.compile(
    r"^\W*(?:not\s+found|unknown|none|no answer"
    r"|(?:the )?(?:text|passage|context|document) (?:does not|doesn't|did not) (?:\w+ )?"
    r"(?:say|mention|contain|state|provide|give|specify|include|name|list|tell|answer)\b.*)\W*$",
    re.IGNORECASE | re.DOTALL,
)


def is_not_found(answer: str) -> bool:
    """An answer that says the text does not answer the question ("not found", "unknown",
    "the text does not say ...", "The passage does not provide ...")."""
    return bool(_NOT_FOUND.match(answer.strip()))


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
    # In code: the definition around it ("function send_signal", "class Queue").
    scope: str | None = None
    page: int | None = None
    line: int | None = None
    line_end: int | None = None
    # A LangChain Document's metadata (source, page, ...), so an app can link to it.
    metadata: dict[str, Any] | None = None
    # A passage in other words than its question's is about it only by a reader's judgement:
    # the question a reader given the passage alone answered the same way (``graph.judge``).
    read_for: str | None = None

    def place(self) -> str:
        """Where it stands, as words: ``file a.py, in function run`` ('' in a plain text)."""
        place = [f"file {self.file}"] if self.file else []
        if self.scope:
            place.append(f"in {self.scope}")
        return ", ".join(place)

    def located_text(self) -> str:
        """The quote with the file and the definition it stands in: where a passage is, is
        part of what it says ("which file defines `run`?" is answered by where ``def run():``
        stands, "which functions call `run`?" by the function around ``run()``)."""
        place = self.place()
        return f"{self.quote} ({place})" if place else self.quote

    def where(self) -> str:
        if not self.verified:
            return "not in its text"
        lines = (
            f"line {self.line}"
            if self.line == self.line_end
            else f"lines {self.line}-{self.line_end}"
        )
        page = f"page {self.page}, " if self.page is not None else ""
        return f"{self.file}, {page}{lines}" if self.file else lines


class LeafVerdict(BaseModel):
    """A leaf's reply, read and checked."""

    outcome: Outcome
    answer: str
    verified: bool
    evidence: list[Evidence] = Field(default_factory=list)
    formatted: bool = Field(description="the reply was in the evidence format")
    rejected: str | None = Field(default=None, description="why a located passage was refused")
    reworded: bool = Field(
        default=False,
        description="unverified, but a passage says the answer in words other than the "
        "question's: verified if a reader of the passage alone answers the question the same way",
    )


def _is_leaf_object(value: Any) -> bool:
    return isinstance(value, dict) and ("answer" in value or "found" in value)


def _has_answer(value: Any) -> bool:
    return isinstance(value, dict) and "answer" in value


def parse_reply(text: str) -> tuple[LeafAnswer | None, str]:
    """The reply as a ``LeafAnswer`` if it is one (a JSON object, perhaps in prose, or cut off
    by the output limit with its answer complete), and its plain text otherwise."""
    stripped = text.strip()
    data = find_json(stripped, _is_leaf_object, span=True)
    if data is None and stripped.startswith("{"):
        data = find_json(stripped, _has_answer, cut_off=True)
    if data is None:
        return None, stripped
    quotes = data.get("quotes") or data.get("quote") or []
    if isinstance(quotes, str):
        quotes = [quotes]
    answer = data.get("answer")
    answer = "" if answer is None else str(answer)
    return (
        LeafAnswer(
            found=bool(data.get("found", bool(answer))),
            answer=answer,
            quotes=[str(q) for q in quotes if q][:MAX_QUOTES] if isinstance(quotes, list) else [],
        ),
        stripped,
    )


def check(view: ContextView, text: str, question: str = "") -> LeafVerdict:
    """Read a leaf's reply and verify it against the slice it read: each quote (and the answer
    itself, where it stands in the text word for word) is located and widened to its whole
    sentence (its line, in a listing or code); the answer is verified when one of those passages
    is about ``question`` and says the answer. No model is involved here: a model judge, where
    one is used, looks at the passages this finds (``rlm_graph.graph.judge``)."""
    reply, plain = parse_reply(text)
    if reply is None:  # not the evidence format: the whole reply is the answer
        if _no_answer(plain, question):
            return LeafVerdict(outcome="not_found", answer="", verified=False, formatted=False)
        return _verdict(view, question, plain, [plain], formatted=False)
    answer = reply.answer.strip()
    if not reply.found or _no_answer(answer, question):
        return LeafVerdict(outcome="not_found", answer="", verified=False, formatted=True)
    quotes = [q for q in reply.quotes if q.strip()]
    return _verdict(view, question, answer, [*quotes, answer], formatted=True)


def _no_answer(answer: str, question: str) -> bool:
    """Empty, "not found", or only the question or the leaf's own instructions said back."""
    return (
        not answer
        or is_not_found(answer)
        or echoes(answer, question)
        or echoes(answer, prompts.LEAF_SYSTEM)
    )


_SENTENCES = re.compile(r"(?<=[.!?])\s+")


def sentences_of(text: str) -> list[str]:
    """The sentences of ``text`` (one line of an answer, one claim)."""
    return _SENTENCES.split(text.strip())


# The most sentences of a slice looked through for one that says an answer no quote located.
MAX_SCANNED_PASSAGES = 2000


def _said_by(
    answer: str,
    candidates: list[Evidence],
    everything: list[Evidence],
    backing_of: Callable[[str, list[Evidence]], list[Evidence]],
) -> tuple[str, list[Evidence]]:
    """The answer and the ``candidates`` that say it; or, for a right answer with talk of the
    model's own after it ("... In addition, it is known for ...") or a line of the slice it ran
    on into ("... 470 passengers on each crossing. This is a shortcut for
    'reversed(d.keys())'."), the sentences of it that a candidate says, when the rest is
    neither said by a candidate nor a second fact the slice says of a name it gives; else the
    answer and no backing."""
    backing = backing_of(answer, candidates)
    if backing:
        return answer, backing
    sentences = sentences_of(answer)
    said = [s for s in sentences if backing_of(s, candidates)]
    if not said or len(said) == len(sentences):
        return answer, []
    rest = [s for s in sentences if s not in said]
    # A sentence the slice says of a name the answer gives is a second fact (the next hop of a
    # chain), kept with it; one said of nothing the answer names is a line it ran on into.
    names = {w for s in said for m in _ANSWER_NAME.finditer(s) for w in words_of(m.group(0))}
    for sentence in rest:
        linked = any(
            holds_word(names, w)
            for m in _ANSWER_NAME.finditer(sentence)
            for w in words_of(m.group(0))
        )
        if backing_of(sentence, candidates) or (linked and backing_of(sentence, everything)):
            return answer, []
    return " ".join(said), _unique([p for s in said for p in backing_of(s, candidates)])


def _said_alike(
    answer: str,
    candidates: list[Evidence],
    backing_of: Callable[[str, list[Evidence]], list[Evidence]],
) -> tuple[str, list[Evidence]]:
    """For a question in other words: the sentences of the answer that candidates say, and
    those candidates, keeping after the first only facts of its kind (said by a passage in
    the same words as the first's, names and figures aside: the three observatories of a
    list). A line the answer ran on into is another kind, and is left out even when it names
    something ("... 4,530 metres above sea level. Return a copy of the string left filled
    with ASCII '0'", fresh seed 36). Each sentence is said by a passage of one sentence (the
    answer located whole can span the line it ran on into)."""
    sentences = sentences_of(answer)
    if len(sentences) <= 1:
        return answer, backing_of(answer, candidates)
    single = [item for item in candidates if len(sentences_of(item.quote)) == 1]
    kept: list[str] = []
    found: list[Evidence] = []
    for sentence in sentences:
        said = backing_of(sentence, single)
        if found:
            said = [item for item in said if _alike_passages(item.quote, found[0].quote)]
        if said:
            kept.append(sentence)
            found.extend(said[:1])
    return (" ".join(kept), _unique(found)) if kept else (answer, [])


def _alike_passages(one: str, other: str) -> bool:
    """Two sentences of one template: half the words of the shorter, names and figures
    aside, stand in the other."""

    def plain(text: str) -> set[str]:
        named = {w for m in _ANSWER_NAME.finditer(text) for w in words_of(m.group(0))}
        return {w for w in words_of(text) if w not in named and not _has_digit(w)}

    a, b = plain(one), plain(other)
    if not a or not b:
        return False
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    return sum(1 for w in shorter if holds_word(longer, w)) * 2 >= len(shorter)


def _verdict(
    view: ContextView, question: str, answer: str, quotes: list[str], *, formatted: bool
) -> LeafVerdict:
    located = _locate_all(view, quotes)
    passages = _unique(
        [passage(view, item.start or 0, item.end or 0) for item in located if item.verified]
    )
    open_task = task_kind(question) == "open"
    slice_words = words_in(view)

    def about(items: list[Evidence]) -> list[Evidence]:
        return [
            item
            for item in items
            if open_task
            or relevant(question, with_lead(view, item), slice_words, place=item.place())
        ]

    def backing_of(text: str, items: list[Evidence]) -> list[Evidence]:
        return [
            item
            for item in items
            if says(text, item.located_text(), open_task=open_task, question=question)
        ]

    # The slice's own sentences, and those about the question: read once, when first needed.
    @functools.cache
    def scanned() -> list[Evidence]:
        return passages_in(view, MAX_SCANNED_PASSAGES)

    @functools.cache
    def scanned_about() -> list[Evidence]:
        return about(scanned())

    candidates = about(passages)
    backing = backing_of(answer, candidates)
    sentences = sentences_of(answer)
    # Located whole across a sentence boundary, the answer ran on into the next line of the
    # slice ("... first opened on February 18, 1969. execution of the 'finally' clause.",
    # fresh seed 39): each sentence must be said by a sentence about the question, or the
    # answer is looked at sentence by sentence below.
    spans = bool(backing) and all(len(sentences_of(item.quote)) > 1 for item in backing)
    if (
        spans
        and len(sentences) > 1
        and view.size <= RELEVANCE_SLICE_BYTES
        and not all(backing_of(s, scanned_about()) for s in sentences)
    ):
        backing = []
    items = list_items(answer)
    if not backing and len(items) > 1 and view.size <= RELEVANCE_SLICE_BYTES:
        # A list of names read off several lines: each name backed by a line of its own.
        per_item = [backing_of(item, scanned_about()) for item in items]
        if all(per_item):
            backing = _unique([found[0] for found in per_item])
    if not backing and open_task and view.size <= RELEVANCE_SLICE_BYTES:
        # Open work in the text's own words, unquoted: backed when each of its sentences
        # restates one sentence of the slice (most of its words, as a lookup's answer must;
        # a third of them anywhere would back almost anything).
        per_sentence = [
            [item for item in scanned() if says(s, item.located_text())] for s in sentences
        ]
        if per_sentence and all(per_sentence):
            backing = _unique([item for items in per_sentence for item in items[:1]])
    reworded = False
    if not backing and not open_task and view.size <= RELEVANCE_SLICE_BYTES:
        # Misquoted or not quoted at all: the slice's own sentences are looked at for one about
        # the question that says the answer.
        answer, backing = _said_by(answer, scanned_about(), scanned(), backing_of)
        if not backing:
            # The question in other words than the text's ("a repaired public timepiece" for
            # "the clock tower ... was restored"): a passage that says the answer and fails
            # only for want of the question's words is left to a reader of it alone (the
            # leaf's judge).
            loose = [
                item
                for item in _unique([*passages, *scanned()])
                if relevance(question, with_lead(view, item), slice_words, place=item.place())
                == "reworded"
            ]
            answer, backing = _said_alike(answer, loose, backing_of)
            # What a reader is to confirm must be in the answer itself: "The crate" (fresh
            # seed 36) names no crate and no label, and any reading of its passage holds it.
            if claims_something(answer, question) and (
                not asks_for_many(question) or names_an_item(answer, backing, question)
            ):
                reworded = bool(backing)
            else:
                backing = []
    if backing and len(sentences := sentences_of(answer)) > 1:
        # Said as a whole by most of its words, the answer may still end in a scrap of the
        # next line it ran on into ("... 1,311 passengers on each crossing. names)", fresh
        # seed 51): the sentences its backing says are the answer.
        said = [s for s in sentences if backing_of(s, backing)]
        if said and len(said) < len(sentences):
            answer = " ".join(said)
    # A passage that says a name is no backing for a "how many" answered with that name.
    fits = bool(backing) and fits_asked(answer, question)
    verified, reworded = fits and not reworded, fits and reworded
    if not verified and not reworded and not open_task and slice_words is not None:
        missing = invented_terms(answer, question, view.text(), slice_words)
        if missing:
            # The answer names what its slice nowhere holds: made up (a small model asked for
            # a fact its slice lacks answers with a plausible one). That is "not found".
            return LeafVerdict(
                outcome="not_found",
                answer="",
                verified=False,
                formatted=formatted,
                rejected=f"invented: its slice nowhere holds {', '.join(missing)}",
            )
    # Keep what backs the answer; an unverified answer keeps what was located, to show.
    shown = (
        backing
        if verified or reworded
        else (passages or [item for item in located if not item.verified])
    )
    return LeafVerdict(
        outcome="found",
        answer=answer,
        verified=verified,
        evidence=shown,
        formatted=formatted,
        reworded=reworded,
    )


# How far a passage reaches on either side of a code, and how many line breaks a sentence
# may wrap over (prose whose next line goes on in lower case).
PASSAGE_REACH = 200
PASSAGE_WRAPS = 2
_SENTENCE_END = re.compile(rb"[.!?](?=\s|$)|\n[ \t]*\n")


# How a line of code ends (a call, a block's opening or end, a statement): no sentence goes on
# from it onto the next line, so each line of code is a passage of its own.
_CODE_LINE_ENDS = (b")", b":", b"{", b"}", b";", b"]")


# How a line whose sentence is over ends: what follows it starts a sentence of its own.
_SENTENCE_ENDS = (b".", b"!", b"?")


def _goes_on(line: bytes, before: bytes = b"") -> bool:
    """A line that continues a wrapped sentence: it starts in lower case, and the line
    ``before`` it is no line of code and does not end its sentence (a sentence planted as a
    line of its own runs on into no next line, "... weir." / "definition of formatting.")."""
    text = line.lstrip()
    return (
        bool(text)
        and text[:1].islower()
        and not before.rstrip().endswith(_CODE_LINE_ENDS + _SENTENCE_ENDS)
    )


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
    above = data[data.rfind(b"\n", 0, newline) + 1 : newline]
    if ends and (ends[-1] >= line or _goes_on(data[line:lo], above)):
        return ends[-1]
    return line


def _passage_right(data: bytes, hi: int) -> int:
    reach = min(len(data), hi + PASSAGE_REACH)
    newline = data.find(b"\n", hi, reach)
    # A sentence wraps onto each next line only while that line goes on in lower case: a line
    # that starts anew ("... overriding its own" / "Everyone who moves to ...", a line planted
    # inside a wrapped sentence) ends the passage at the break before it.
    limit, at, line_start = reach, newline, data.rfind(b"\n", 0, hi) + 1
    while at >= 0:
        if not _goes_on(data[at + 1 : at + 80], data[line_start:at]):
            limit = at
            break
        line_start, at = at + 1, data.find(b"\n", at + 1, reach)
    stop = _SENTENCE_END.search(data, hi, limit)
    if stop is not None and data.count(b"\n", hi, stop.start()) <= PASSAGE_WRAPS:
        return stop.start() + (data[stop.start()] != ord("\n"))  # the full stop kept
    if limit < reach and data.count(b"\n", hi, limit) <= PASSAGE_WRAPS:
        return limit  # the wrapped lines, up to the line that starts anew
    if newline >= 0:
        return newline
    if reach == len(data):
        return reach
    space = data.rfind(b" ", hi, reach)
    return space if space >= 0 else reach


# A list of names written in one line ("send_signal, terminate and kill"): items of a few words
# each, between commas or a last "and".
_LIST_SEPARATOR = re.compile(r",\s+(?:and\s+)?|\s+and\s+")
_MAX_ITEM_WORDS = 3


def list_items(text: str) -> list[str]:
    """The items of a one-line list of short names (``a, b and c``), or ``[text]`` when it is
    not one: a sentence, or any part of more than a few words or with sentence punctuation."""
    parts = [part.strip(" .`'\"") for part in _LIST_SEPARATOR.split(text.strip())]
    if len(parts) < 2 or any(
        not part or len(part.split()) > _MAX_ITEM_WORDS or re.search(r"[.!?:;]\s", part)
        for part in parts
    ):
        return [text]
    return parts


def passage(view: ContextView, start: int, end: int, data: bytes | None = None) -> Evidence:
    """The sentence of ``view`` around the absolute span ``start:end``, within its line unless
    the sentence wraps onto a line that goes on in lower case (at most ``PASSAGE_REACH`` bytes
    either side), as verified evidence. ``data``: the view's bytes, when the caller has read
    them once for many passages."""
    data = view.read_bytes() if data is None else data
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


def passages_in(view: ContextView, limit: int = 200) -> list[Evidence]:
    """The passages (sentences, or lines of a listing) of a small view, in order: located
    text an answer read off a GREP or a PEEK can be backed by."""
    found: list[Evidence] = []
    pos = view.start
    while pos < view.end and len(found) < limit:
        item = passage(view, pos, pos)
        if (item.end or 0) <= pos:  # an empty stretch (blank lines): step over it
            pos += 1
            continue
        if item.quote:
            found.append(item)
        pos = item.end or pos + 1
    return _unique(found)


def words_in(view: ContextView) -> set[str] | None:
    """Every word a slice holds (None: too big to read whole), read once: which of a
    question's words stand in it at all (the others are paraphrase, not evidence)."""
    return set(words_of(view.text())) if view.size <= RELEVANCE_SLICE_BYTES else None


def backed_by(
    question: str,
    claim: str,
    item: Evidence,
    view: ContextView,
    slice_words: set[str] | None = None,
) -> bool:
    """Whether a located passage backs one claim of an answer to ``question``: it says the
    claim and, for a lookup, it is about the question (judged among ``slice_words``, the
    words of the text it was read in, when given)."""
    open_task = task_kind(question) == "open"
    if not says(claim, item.located_text(), open_task=open_task, question=question):
        return False
    if open_task:
        return True
    return relevant(question, with_lead(view, item), slice_words, place=item.place())


# How far back the sentence before a passage is looked for.
LEAD_BYTES = 400


def with_lead(view: ContextView, item: Evidence) -> tuple[str, str]:
    """A passage and the sentence before it ("The Halden observatory stands on the hill. It
    first opened in 1987."): what judging what a passage is about reads."""
    start = item.start or view.start
    before = view.store.read_bytes(max(view.start, start - LEAD_BYTES), start).rstrip()
    if not before:
        return item.quote, ""
    end = (
        start - LEAD_BYTES + len(before)
        if start - LEAD_BYTES > view.start
        else view.start + len(before)
    )
    lead = passage(view, end - 1, end - 1)
    return item.quote, lead.quote if (lead.end or 0) <= start else ""


def _unique(evidence: list[Evidence]) -> list[Evidence]:
    return list({(item.start, item.end): item for item in evidence}.values())


# Slices up to this size are read whole to tell a question's paraphrase words (nowhere in the
# slice) from the words a passage about it must hold.
RELEVANCE_SLICE_BYTES = 4 << 20
# The answer itself may stand in the text several times (a number, a name): each place is a
# candidate passage, up to this many.
MAX_ANSWER_PLACES = 8


def _locate_all(view: ContextView, quotes: list[str]) -> list[Evidence]:
    """Every quote located once; the last item (the answer itself) at each place it stands."""
    seen: set[str] = set()
    found = []
    for position, quote in enumerate(quotes):
        key = " ".join(quote.split()).casefold()
        if key in seen:
            continue
        seen.add(key)
        if position == len(quotes) - 1:
            found += locate_each(view, quote, MAX_ANSWER_PLACES) or [
                Evidence(quote=quote, verified=False)
            ]
        else:
            found.append(locate(view, quote))
    return found


def locate_each(view: ContextView, quote: str, limit: int) -> list[Evidence]:
    """Every place (up to ``limit``) where ``quote`` stands in ``view``, in order."""
    places: list[Evidence] = []
    offset = 0
    while len(places) < limit:
        item = locate(view, quote, offset, whole_words=True)
        if not item.verified:
            break
        places.append(item)
        offset = (item.end or 0) - view.start
    return places


def locate(
    view: ContextView, quote: str, offset: int = 0, *, whole_words: bool = False
) -> Evidence:
    """Where ``quote`` stands in ``view`` (case- and whitespace-tolerant; ``...`` may join
    parts quoted in order), from ``offset`` bytes into the slice on, or an unverified
    ``Evidence``. ``whole_words``: it must not start or end inside a word ("312" is not in
    "13124"), and then a short text (a number, a name) may be looked for too: where it stands
    is only a candidate, its passage must still be about the question."""
    cleaned = quote.strip().strip(_QUOTE_MARKS).strip()
    parts = [part for part in _ELLIPSIS.split(cleaned) if part.strip()]
    shortest = 1 if whole_words else MIN_QUOTE_CHARS
    if not parts or sum(len(part.strip()) for part in parts) < shortest:
        return Evidence(quote=quote, verified=False)
    data = view.read_bytes()
    pos, first, last, loose = offset, None, None, False
    for part in parts:
        words = [re.escape(word.encode("utf-8")) for word in part.split()]
        body = rb"\s+".join(words)
        if whole_words:
            body = (rb"(?<!\w)" if part.strip()[:1].isalnum() else b"") + body
            body += rb"(?!\w)" if part.strip()[-1:].isalnum() else b""
        pattern = re.compile(body, re.IGNORECASE)
        match = pattern.search(data, pos)
        if match is None and (match := _loosely(part, data, pos)) is not None:
            loose = True
        if match is None:
            return Evidence(quote=quote, verified=False)
        first = match.start() if first is None else first
        last, pos = match.end(), match.end()
    if loose:  # the text's own words stand, not the model's punctuation
        quote = " ".join(data[first:last].decode("utf-8", "replace").split())
    start, end = view.start + (first or 0), view.start + (last or 0)
    return Evidence(quote=quote, verified=True, start=start, end=end, **lines_of(view, start, end))


# A quote copied with its punctuation changed ("execution frames, they" for "execution
# frames.  They", 'append()' for "append()") is found by its words when it has this many.
LOOSE_QUOTE_WORDS = 4
# At most this many bytes of punctuation and space between two of those words.
_LOOSE_GAP = rb"[\W_]{1,8}"


def _loosely(part: str, data: bytes, pos: int) -> re.Match[bytes] | None:
    """Where ``part``'s words stand in ``data`` in the same order with only other punctuation
    or spacing between them, or None (and None for fewer than ``LOOSE_QUOTE_WORDS`` words: a
    short text is a value, and its punctuation is part of it)."""
    words = re.findall(rb"[^\W_]+", part.encode("utf-8"))
    if len(words) < LOOSE_QUOTE_WORDS:
        return None
    body = rb"(?<![^\W_])" + _LOOSE_GAP.join(map(re.escape, words)) + rb"(?![^\W_])"
    return re.compile(body, re.IGNORECASE).search(data, pos)


def lines_of(view: ContextView, start: int, end: int) -> dict:
    """``file``, ``line``, ``line_end`` and ``scope`` of an absolute byte span (lines 1-based, counted in
    the file for a folder context, in the page for a PDF), with the part's ``page`` and
    ``metadata`` (a LangChain Document's) where it has them."""
    store = view.store
    index = store.line_index()
    line, line_end = (
        1 + index.newlines_before(start),
        1 + index.newlines_before(max(start, end - 1)),
    )
    parts = store.parts()
    at = bisect_right([part.start for part in parts], start) - 1
    if at >= 0 and start < max(parts[at].end, parts[at].start + 1):
        part = parts[at]
        offset = index.newlines_before(part.start)
        found = {
            "file": part.path,
            "line": line - offset,
            "line_end": line_end - offset,
            "scope": scope_of(store.read_bytes, start, part.start) or None,
        }
        extra = {"page": part.page, "metadata": part.metadata}
        return found | {key: value for key, value in extra.items() if value is not None}
    return {
        "file": None,
        "line": line,
        "line_end": line_end,
        "scope": scope_of(store.read_bytes, start) or None,
    }


# Punctuation, folded to spaces wherever words are compared.
_PUNCTUATION = re.compile(r"[^\w\s-]")


def normalized(text: str) -> str:
    """Lower case, punctuation and runs of spaces folded: for comparing answers."""
    return " ".join(_PUNCTUATION.sub(" ", text.casefold()).split())


# Words that say nothing about what an answer claims or a question asks.
_STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "been", "by", "can", "could", "did", "do", "does",
    "for", "from", "had", "has", "have", "he", "her", "his", "i", "if", "in", "into", "is", "it",
    "its", "no", "not", "of", "on", "or", "our", "she", "so", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "those", "to", "was", "we", "were", "what",
    "when", "where", "which", "while", "who", "whom", "whose", "why", "will", "with", "would",
    "yes", "you", "your", "how", "about", "any", "all", "each", "every", "some", "also", "only",
    "one", "just", "very", "more", "most", "other", "such", "s",
    # particles of a phrasal verb ("pick up", "find out"): "looking up a name" is no habit
    # picked up (fresh seed 35)
    "up", "out", "off", "down", "over",
))  # fmt: skip
# Words of a question that ask rather than name what is asked about.
_ASKING_WORDS = frozenset((
    "many", "much", "text", "document", "context", "say", "says", "said", "mention",
    "mentions", "mentioned", "tell", "name", "give", "find", "answer", "according", "please",
    "passage", "write", "list", "state", "stated", "kind", "type", "exactly", "number",
))  # fmt: skip
# Prefix length for comparing words: "terminated" matches "terminate", "restoration"
# "restored"; words shorter than four letters must match whole.
_STEM = 5
# An answer is said by a passage when this share of its words stands there (a lookup), and
# every number of it; an open answer (a summary) in the text's own words needs less.
_SAYS_SHARE = 0.75
_OPEN_SHARE = 1 / 3
# A passage is about the question when it holds this share of the question's words that
# occur in the slice at all (words nowhere in the slice are paraphrase, not evidence).
_RELEVANT_SHARE = 0.5
# A question of this many words is not matched by the one of them its slice holds.
_FEW_TERMS = 4


def is_stopword(word: str) -> bool:
    """A word that names nothing ("The", "when"), whatever its case."""
    return word.casefold() in _STOPWORDS


def words_of(text: str) -> list[str]:
    """The words of ``text`` that say something (stop words left out), normalised."""
    return [w for w in normalized(text).replace("-", " ").split() if w not in _STOPWORDS]


def _same_word(a: str, b: str) -> bool:
    """Two words the same up to their ending: equal, or sharing their first letters (five, or
    all of a four-letter word: "open" and "opened", "restoration" and "restored"). Code
    identifiers only equal (``_proc`` is not ``_process_exited``)."""
    if a == b:
        return True
    if "_" in a or "_" in b:  # an identifier is a name: no ending of it is another form
        return False
    n = min(len(a), len(b), _STEM)
    return n >= 4 and a[:n] == b[:n]


def holds_word(words: set[str], word: str) -> bool:
    """Whether ``words`` hold ``word`` up to its ending."""
    return word in words or any(_same_word(word, w) for w in words)


def _has_digit(word: str) -> bool:
    return any(c.isdigit() for c in word)


# An answer whose words are this much the question's own repeats the question.
_ECHO_SHARE = 0.8


def echoes(answer: str, question: str) -> bool:
    """Whether ``answer`` only repeats the question (or an instruction in it): nearly all its
    words are the question's; or it quotes text this system wrote for the model (a note, an
    instruction: :func:`repeats_system_text`). An echo is never an answer, whatever it
    quotes. One word of the question answers only a question that offers a choice ("Mars or
    Venus?")."""
    if repeats_system_text(answer):
        return True
    words = words_of(answer)
    if not words or not question.strip():
        return False
    if len(words) < 2 and re.search(r"\bor\b", question, re.IGNORECASE):
        return False  # a choice the question offers
    asked = set(words_of(question))
    return sum(1 for w in words if holds_word(asked, w)) / len(words) >= _ECHO_SHARE


# A run of this many words of one of our own texts, in an answer, is that text copied.
_SYSTEM_RUN_WORDS = 6
_RUN_WORD = re.compile(r"[\w']+")


def _runs_of(text: str) -> set[tuple[str, ...]]:
    """Every ``_SYSTEM_RUN_WORDS`` consecutive words of ``text``, case folded."""
    words = _RUN_WORD.findall(text.casefold())
    n = _SYSTEM_RUN_WORDS
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@functools.cache
def _system_runs() -> frozenset[tuple[str, ...]]:
    """The runs of ``_SYSTEM_RUN_WORDS`` words of every text the model is shown
    (``prompts.py``'s strings), none of them across a ``{field}``, a line or a sentence."""
    runs: set[tuple[str, ...]] = set()
    for name, value in vars(prompts).items():
        if isinstance(value, str) and not name.startswith("__"):  # not its docstring
            # Each sentence or line of it on its own: a model copies one, not the text.
            for piece in re.split(r"\{[^{}]*\}|\n|(?<=[.;!?])\s", value):
                runs |= _runs_of(piece)
    return frozenset(runs)


def repeats_system_text(answer: str) -> bool:
    """Whether ``answer`` copies a run of words from a text this system wrote for the model
    (measured on the 0.5B: a count question answered "18 CALLs repeat earlier calls (same
    question, same target); their results are above", a note it had been shown; a per-part
    leaf began its line with "The part holds the answer about the part as a whole", a piece of
    its instructions, fresh seed 80). Any ``_SYSTEM_RUN_WORDS`` words in a row count: a model
    copies a piece of a sentence as often as a whole one."""
    return not _runs_of(answer).isdisjoint(_system_runs())


def says(answer: str, passage_text: str, *, open_task: bool = False, question: str = "") -> bool:
    """Whether ``passage_text`` says ``answer``: the answer stands in it, or every number of
    the answer does and most of its other words (by their first letters; a third of them for
    an open answer such as a summary). Holds for every answer shape: names, dates, numbers,
    codes, sentences, lists. An answer with no such words (``yes``) is said by any passage.
    Given the ``question``, an answer in a sentence that restates it ("The function `run` is
    defined in the file `a.py`.") is said too when every word it adds to the question's is,
    and at least half of those it restates: it must add something."""
    answer_n, passage_n = normalized(answer), normalized(passage_text)
    if answer_n and answer_n in passage_n:
        return True
    words = words_of(answer)
    if not words:
        return True
    held = set(words_of(passage_text))
    if any(w not in held for w in words if _has_digit(w)):
        return False
    plain = [w for w in words if not _has_digit(w)]
    if not plain:
        return True
    if not open_task and _names_elsewhere(answer, held, question):
        return False
    share = sum(1 for w in plain if holds_word(held, w)) / len(plain)
    if share >= (_OPEN_SHARE if open_task else _SAYS_SHARE):
        return True
    if not question:
        return False
    # Words that ask ("text", "mentions") are neither added nor restated: "The text mentions
    # the canyon archive, which is 3712-HERON." restates "archive" and adds the rest.
    asked = set(words_of(question))
    told = [w for w in plain if w not in _ASKING_WORDS]
    added = [w for w in told if not holds_word(asked, w)]
    restated = [w for w in told if holds_word(asked, w)]
    # All it adds: an answer of two facts is not said by a passage that says one of them. And
    # half of what it restates: "Ann's manager works in the office of Tom" is not said by "Ann
    # reports to Tom", which holds both names and no office.
    return (
        bool(added)
        and bool(restated)
        and all(holds_word(held, w) for w in added)
        and sum(1 for w in restated if holds_word(held, w)) * 2 >= len(restated)
    )


def _names_elsewhere(answer: str, held: set[str], question: str) -> bool:
    """Whether the answer names what neither the passage (its words ``held``) nor the question
    holds: a name is said as a number is, or not at all ("Selby celebrates ..., while Wencombe
    celebrates ..." is not said by the sentence about Wencombe alone)."""
    asked = set(words_of(question))
    for match in _ANSWER_NAME.finditer(answer):
        # A sentence's first word is a name too ("Selby celebrates ..."), unless it is a stop
        # word ("The", "On"): words_of leaves those out.
        for word in words_of(match.group(0)):
            if not holds_word(held, word) and not holds_word(asked, word):
                return True
    return False


def names_only_from(answer: str, passage_text: str, question: str) -> bool:
    """Whether every name and figure of ``answer`` stands in ``passage_text`` or the question:
    what a reader of that passage alone could have given, however it worded the rest."""
    held = set(words_of(passage_text))
    figures = {w for w in words_of(answer) if _has_digit(w)}
    asked = set(words_of(question))
    if any(w not in held and w not in asked for w in figures):
        return False
    return not _names_elsewhere(answer, held, question)


def added_phrase(answer: str, question: str) -> str:
    """What an answer that restates the question adds to it ("Ann Hale's manager works in the
    office of Tom Reed." -> "Tom Reed"): its words in order less the question's and stop
    words; the answer itself when it restates fewer than two of the question's words."""
    asked = set(words_of(_asked(question)))  # asking words too: "stated" adds nothing
    tokens = [t.strip(".,;:!?\"'()[]") for t in answer.split()]
    named = [[w for w in words_of(t) if not is_stopword(w)] for t in tokens]
    restated = {w for words in named for w in words if holds_word(asked, w)}
    if len(restated) < 2:
        return answer
    kept = [
        t
        for t, words in zip(tokens, named, strict=True)
        if words and not all(holds_word(asked, w) for w in words)
    ]
    return " ".join(kept) or answer


# The words of an answer that must stand in the text it was read from: names (capitalised) and
# figures. Digit runs of one or two digits are left out: days, months and small counts are often
# written another way ("03" for "March") or worked out.
_ANSWER_NAME = re.compile(r"\b[A-Z][\w-]*")
_DIGIT_RUN = re.compile(r"\d+")
_YES_NO = {"yes", "no", "true", "false", "none"}


def _starts_sentence(text: str, at: int) -> bool:
    before = text[:at].rstrip(" \t\"'(")
    return not before or before[-1] in ".!?:\n"


def invented_terms(answer: str, question: str, text: str, text_words: set[str]) -> list[str]:
    """The names and figures of ``answer`` that neither ``text`` nor the question holds, when
    they show it made up: any long figure (unless the question asks for one, which may be
    worked out), or most of its names. Empty for an answer the text could have given."""
    asked = set(words_of(question))
    text_runs = {run.lstrip("0") for run in _DIGIT_RUN.findall(text)}
    asked_runs = {run.lstrip("0") for run in _DIGIT_RUN.findall(question)}
    missing: list[str] = []
    if not asks_for_number(question):
        for run in _DIGIT_RUN.findall(answer):
            figure = run.lstrip("0")
            if len(figure) > 2 and figure not in text_runs and figure not in asked_runs:
                missing.append(run)
    if missing:
        return missing
    # A capital that only starts a sentence ("Yes", "It was ...") names nothing; a one-word
    # answer ("Paris") is a name.
    one_word = len(answer.split()) == 1
    names = [
        word
        for match in _ANSWER_NAME.finditer(answer)
        if one_word or not _starts_sentence(answer, match.start())
        for word in words_of(match.group(0))
        if not _has_digit(word) and word not in _YES_NO
    ]
    absent = [w for w in names if not holds_word(text_words, w) and not holds_word(asked, w)]
    return absent if names and len(absent) * 2 > len(names) else []


_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w-]*|\b\w*\d\w*\b")
# The object a method is called on (`self.scan_once`): not a word a passage must hold.
_RECEIVER = re.compile(r"\b(?:self|cls|this)\.(?=\w)")
# Code identifiers: quoted in backticks, or snake_case / camelCase. Lower case or not, they
# are names: no paraphrase changes them.
_IDENTIFIER = re.compile(r"`([^`\n]+)`|\b_*[A-Za-z]\w*_\w+\b|\b_+[A-Za-z]\w*\b|\b[a-z]+[A-Z]\w*\b")


# A reference to where in the text to look ("chunk 6", "lines 10-20", "part 3") names no fact.
_PLACE_REFERENCE = re.compile(
    r"\b(?:chunks?|parts?|lines?|sections?|pages?|files?)\s*[:#]?\s*\d+(?:\s*-\s*\d+)?", re.I
)


def _asked(question: str) -> str:
    return _RECEIVER.sub("", _PLACE_REFERENCE.sub(" ", question))


def question_terms(question: str) -> list[str]:
    """What a question asks about: its words less the asking ones and place references."""
    return list(dict.fromkeys(w for w in words_of(_asked(question)) if w not in _ASKING_WORDS))


def named_terms(question: str) -> list[str]:
    """Names and numbers of a question (capitalised inside it, or with a digit, or a code
    identifier): what a passage about it must name too, since no paraphrase changes them."""
    found = [m.group(0) for m in _NAME.finditer(_asked(question).strip())]
    terms = [w for token in found for w in words_of(token) if w not in _ASKING_WORDS]
    return list(dict.fromkeys([*terms, *identifiers(question)]))


def identifiers(question: str) -> list[str]:
    """The code identifiers a question names (``run_one_coro``, `sleep`, ``getEventLoop``):
    held by a passage about it word for word, never up to an ending (``_wait`` is not
    ``_waiter``)."""
    found = [m.group(1) or m.group(0) for m in _IDENTIFIER.finditer(_asked(question).strip())]
    terms = [w for token in found for w in words_of(token) if w not in _ASKING_WORDS]
    return list(dict.fromkeys(terms))


# Two tasks that share this much of all their words (shared / either's) ask the same thing.
_REWORDING_SHARE = 0.6


def rewords(task: str, earlier: str) -> bool:
    """Whether ``task`` asks what ``earlier`` asked in other words: the same names and numbers,
    and most of their other words shared (of all the words either uses). A planner that re-sends a
    CALL on the same part with new wording is fishing for another answer."""
    names, earlier_names = set(named_terms(task)), set(named_terms(earlier))
    if not all(holds_word(earlier_names, n) for n in names) or not all(
        holds_word(names, n) for n in earlier_names
    ):
        return False
    mine, theirs = question_terms(task), question_terms(earlier)
    if not mine or not theirs:
        return not mine and not theirs
    shared = sum(1 for w in mine if holds_word(set(theirs), w))
    return shared / (len(mine) + len(theirs) - shared) >= _REWORDING_SHARE


class Contrast(BaseModel):
    """A place where a passage says what the question asks in the same words, of something
    else: the question's phrase and the passage's (``asked``, ``said``: a few words each)."""

    asked: str
    said: str


def _base(word: str) -> str:
    """A word without its plural or verb ending ("carries" -> "carry", "marked" -> "mark")."""
    for ending, instead in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ing", "")):
        if word.endswith(ending) and len(word) - len(ending) >= 3 and not word.endswith("ss"):
            return word[: -len(ending)] + instead
    return word


def _alike(a: str, b: str) -> bool:
    return _same_word(a, b) or _same_word(_base(a), _base(b))


# Words that place or relate rather than name ("near", "above"): a question's "near X" said
# as "above X" is a paraphrase, not another thing.
_RELATION_WORDS = frozenset((
    "near", "above", "below", "under", "over", "behind", "beside", "across", "between",
    "after", "before", "around", "inside", "outside", "within", "without", "upon", "through",
    "during", "against", "among", "beyond", "toward", "towards", "onto", "off", "out", "up",
    "down", "first", "last", "next", "new", "old",
))  # fmt: skip


def _tokens(text: str) -> list[str]:
    """The words of ``text`` as written (case kept), punctuation folded as ``normalized``."""
    return _PUNCTUATION.sub(" ", text).split()


def _is_name(token: str) -> bool:
    """A name as written: capitalised, or a code identifier (``_wait``, ``parse_header``)."""
    return token[:1].isupper() or "_" in token or any(c.isdigit() for c in token)


def _names_something(word: str) -> bool:
    return word not in _STOPWORDS and word not in _ASKING_WORDS and word not in _RELATION_WORDS


def contrasted(
    question: str, passage_text: str, links: frozenset[str] = frozenset()
) -> Contrast | None:
    """Where the passage says what the question asks in the same words, but of something
    else: a word of the question is missing from the passage, and the passage puts another
    word in its place before the same noun ("the south quay" asked, "the north quay" said;
    "Ann Hale's manager" and "Tom Reed's manager"; "the box labelled red holds" and "the box
    labelled blue holds"). Only the words *before* a shared noun count: a different noun
    before the same "of Lisbon" or after the same "city" is how a question is reworded ("the
    chart of Lisbon", "the map of Lisbon"). A word of ``links`` (a name another passage gave
    for the question's: "Tom Reed" for "Ann Hale's manager") is the same thing, not another."""
    written = _tokens(_RECEIVER.sub("", question))
    asked = [w.casefold() for w in written]
    code = set(identifiers(question))  # `readuntil`: a name, though written in lower case
    # An identifier's parts stand for it too ("parse_header" says "header").
    said = [
        part.casefold()
        for w in _tokens(passage_text)
        for part in ((w, *w.split("_")) if "_" in w else (w,))
        if part
    ]
    for i, word in enumerate(asked):
        if not _names_something(word) or any(_alike(word, w) for w in said):
            continue
        # The noun after it, or the possessive's "s" and the noun after that; never a name
        # (what stands before a name, "sold Ilsa", "implemented Ilsa", is not a key of it).
        width = 2 if i + 1 < len(asked) and asked[i + 1] == "s" else 1
        anchor = asked[i + 1 : i + 1 + width]
        if len(anchor) < width or not _names_something(anchor[-1]):
            continue
        if _is_name(written[i + width]) or anchor[-1] in code:
            continue
        for start in range(1, len(said) - width + 1):
            window = said[start : start + width]
            if not all(_alike(a, b) for a, b in zip(anchor, window, strict=True)):
                continue
            other = said[start - 1]
            if not _names_something(other) or _has_digit(other) != _has_digit(word):
                continue
            if any(_alike(other, w) for w in asked) or other in links:
                continue
            return Contrast(
                asked=" ".join(asked[i : i + 1 + width]),
                said=" ".join(said[start - 1 : start + width]),
            )
    return None


Relevance = Literal["about", "reworded", "not_about"]


def relevant(
    question: str,
    window: tuple[str, str] | str,
    slice_words: set[str] | None = None,
    *,
    place: str = "",
    links: frozenset[str] = frozenset(),
) -> bool:
    """Whether a passage (``window``: the passage and the sentence before it) is about
    ``question``: the two name the question's names and numbers; the passage itself holds one
    of the question's other words, and the two at least half of those that occur in the slice
    at all (``slice_words``; every word counts when it is not given, or when the slice holds
    only one of four or more); and the passage does not
    say the question's words of another thing (:func:`contrasted`). A verbatim string proves
    nothing when its passage is about something else. Its ``place`` (its file, the
    definition around it) counts as its words, but a code name the question gives must stand
    in the passage itself. ``links``: words the passage may put for the question's own
    (:func:`contrasted`)."""
    return relevance(question, window, slice_words, place=place, links=links) == "about"


def relevance(
    question: str,
    window: tuple[str, str] | str,
    slice_words: set[str] | None = None,
    *,
    place: str = "",
    links: frozenset[str] = frozenset(),
) -> Relevance:
    """:func:`relevant`'s reading, with ``reworded`` for a passage that fails only for want of
    the question's words while the question uses a word its slice nowhere holds (the question
    is asked in other words than the text's): nothing in the words says it is about the
    question, and only a reader of it can (``graph.judge``). Names, numbers, code names and a
    contrast still refuse it."""
    own, lead = (window, "") if isinstance(window, str) else window
    if contrasted(question, own, links) is not None:
        return "not_about"  # the same words, said of another thing
    quoted = set(words_of(own))
    mine = quoted | set(words_of(place))
    held = mine | set(words_of(lead))
    if not all(holds_word(held, term) for term in named_terms(question)):
        return "not_about"
    # A line of code about a name holds the name itself (the line before is another line).
    if not all(term in quoted for term in identifiers(question)):
        return "not_about"
    terms = question_terms(question)
    if not terms:
        return "about"
    in_slice = terms
    if slice_words is not None:
        in_slice = [t for t in terms if holds_word(slice_words, t)]
        if not in_slice or (len(in_slice) < 2 and len(terms) >= _FEW_TERMS):
            # The question is in other words than this slice's but for one word, and one
            # word of four ("pick" of "towns ... habit ... newcomers pick") is in any text.
            # (Two or more are kept: the first hop of a chain holds only its own words.)
            in_slice = terms
    share = sum(1 for t in in_slice if holds_word(held, t)) / len(in_slice)
    if any(holds_word(mine, t) for t in in_slice) and share >= _RELEVANT_SHARE:
        return "about"
    unknown = slice_words is not None and not all(holds_word(slice_words, t) for t in terms)
    # In other words, the passage itself names the question's names (not the one before it);
    # a question that names nothing is answered in other words only by a passage that states
    # something a reader can check, a name or a figure (measured on the 0.5B, fresh seeds 31
    # and 33: its judge agreed that "These are known as *soft keywords*." and
    # "__defaults__ = (None, None, ...)" list every records store).
    names = named_terms(question)
    specific = all(holds_word(mine, t) for t in names) if names else states_something(own)
    return "reworded" if unknown and specific else "not_about"


# Words beyond the question's that make a phrase with neither name nor figure a claim ("to
# join the midnight procession of paper lanterns"), not a label ("the crate").
_CLAIM_WORDS = 3


def claims_something(answer: str, question: str) -> bool:
    """Whether ``answer`` says something a reader of its passage can confirm: a name or figure,
    or a phrase of its own (``_CLAIM_WORDS`` words the question does not hold)."""
    if states_something(answer):
        return True
    asked = set(words_of(question))
    return sum(1 for w in words_of(answer) if not holds_word(asked, w)) >= _CLAIM_WORDS


# A proper name: capitalised, inside its sentence, letters alone with no capital inside
# ("Fenmere", "Livia"; not "ValueError", "StringIO", "str.join").
_PROPER_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)(?<![\w.])[A-Z][a-z]+(?:-[A-Z][a-z]+)*\b(?![.(]\w)")


def names_an_item(answer: str, backing: list[Evidence], question: str) -> bool:
    """For a list question, whether an item read in other words is told apart from others:
    its answer states a figure, or it or its passage names a proper name the question does
    not. Echoes of text about something else name none: the 1.5B, reading a passage alone
    for "For each town the text names the best thing to do in, what is it?", answered
    "raise ValueError" and "To illustrate, the following examples all return a dictionary
    equal to" from the passages themselves (fresh seed 44), and both were verified."""
    asked = {normalized(word) for word in question.split()}
    if any(any(c.isdigit() for c in w) for w in answer.split()) and any(
        _tells_of(item.quote, answer) for item in backing
    ):
        return True
    for text in (answer, *(item.quote for item in backing)):
        names = (m.group(0) for m in _PROPER_NAME.finditer(text.strip()))
        if any(normalized(n) not in asked and not is_stopword(n) for n in names):
            return True
    return False


def _tells_of(passage_text: str, value: str) -> bool:
    """Whether a passage says of something that it has ``value``: words of its own beside the
    value's (a line of code's output, "'2010-07-04 12:15:58'", says of nothing; fresh seed 47,
    where the 1.5B reader read it as a bridge's completion date)."""
    own = set(words_of(value))
    return len({w for w in words_of(passage_text) if w not in own and w.isalpha()}) >= _CLAIM_WORDS


def states_something(text: str) -> bool:
    """Whether ``text`` states what a reader can check: a name or a figure (None, True and
    False, and a capitalised stop word opening a sentence, are none)."""
    return any(
        normalized(m.group(0)) not in _YES_NO and not is_stopword(m.group(0))
        for m in _NAME.finditer(text.strip())
    )
