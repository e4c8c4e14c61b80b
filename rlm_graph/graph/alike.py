"""Sentences stated alike: how a text states the items of one list.

The items of a list stand in one frame with another name or figure ("The choir of Fenby was
founded by Thessaly Lindqvist." beside "The choir of Kelholt was founded by Livia Varrow.").
``twins`` tells another item of a list from a backing passage, ``stated_alike`` admits a
sentence a thesaurus's words found only when another sentence opens as it does, and
``alike_groups`` gathers the text's own groups of such sentences for a list no word of the
question finds.
"""

from __future__ import annotations

import re
from collections import defaultdict

from rlm_graph.context import ContextView
from rlm_graph.context.regex import compile_pattern
from rlm_graph.evidence import Evidence, passage
from rlm_graph.graph.findings import names_marked

# Matches of a word looked at for sentences that hold it (a word that common says nothing
# about where the items are).
MAX_ANCHOR_HITS = 2000

# Frames shorter than this say too little to call two sentences twins by one other word.
MIN_TWIN_WORDS = 6
_SLOT = "\x00"


def frame(sentence: str) -> list[str]:
    """``sentence``'s words, lowercased, with each run of names (``capitalised_names``) and of
    words with a figure in them made one slot: "the observatory above _ stands _ metres above
    sea level" of "The observatory above Kelmere stands 1,478 metres above sea level."."""
    words: list[str] = []
    for token in names_marked(sentence, _SLOT).split():
        word = token.strip(".,;:!?()[]{}\"'")
        if not word:
            continue
        if _SLOT in word or any(c.isdigit() for c in word):
            if not words or words[-1] != _SLOT:
                words.append(_SLOT)
        else:
            words.append(word.casefold())
    return words


def twins(sentence: str, backing: str) -> bool:
    """Whether ``sentence`` says what ``backing`` says in the same words about another name or
    figure (or another one word, in a frame of at least ``MIN_TWIN_WORDS``: "The crate marked
    basalt carries ..." beside "The crate marked juniper carries ..."). A twin of a passage
    that answers a list question is another item of that list: the 1.5B reader, put the
    observatory above Kelmere after the one above Selwold, said it "only describes the
    altitude of a specific observatory" (seed 47, one item of three lost)."""
    a, b = frame(sentence), frame(backing)
    if _SLOT not in a or len(a) != len(b) or a == [_SLOT]:
        return False
    differ = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if not differ:
        return True
    return (
        len(differ) == 1 and len(a) >= MIN_TWIN_WORDS and _SLOT not in (a[differ[0]], b[differ[0]])
    )


# A sentence found by a thesaurus's words is read only when another sentence of the text opens
# as it does, this many words and then a name or figure: the items of a list stand alike.
MIN_OPENING_WORDS = 3


def opening(sentence: str) -> list[str]:
    """The words of ``sentence``'s frame before its first name or figure ("the first map of"
    of "The first map of Eskwick was drawn by Oren Ravensworth."); empty when it has none."""
    words = frame(sentence)
    return words[: words.index(_SLOT)] if _SLOT in words else []


def stated_alike(view: ContextView, item: Evidence) -> bool:
    """Whether another sentence of ``view`` opens with ``item``'s opening (at least
    ``MIN_OPENING_WORDS``) and a name or figure after it, as another item of one list does.
    Read for "the earliest chart credited to someone", the 1.5B answered "the one made by
    Raymond" off a regex tutorial's "(credits to Raymond Hettinger ...)" (tuning seed 13): a
    sentence like no other."""
    words = opening(item.quote)
    if len(words) < MIN_OPENING_WORDS:
        return False
    wanted = [*words, _SLOT]
    pattern = r"\b" + r"\W+".join(re.escape(word) for word in words) + r"\W"
    matches = view.store.iter_matches(compile_pattern(pattern), view.start, view.end)
    data = view.read_bytes()
    for count, (start, end) in enumerate(matches):
        if count >= MAX_ANCHOR_HITS:
            break
        if (item.start or 0) <= start < (item.end or 0):
            continue
        other = frame(passage(view, start, end, data).quote)
        if any(other[i : i + len(wanted)] == wanted for i in range(len(other))):
            return True
    return False


# Sentence openings looked at for the text's groups of sentences stated alike, at most (one
# pattern match each): a scan of a huge text stays bounded.
MAX_OPENINGS_SCANNED = 20_000
# A sentence that opens with a word, at least two lowercase words and then a name or figure
# (RE2 has no lookbehind: the end of the sentence before is part of the match).
_OPENING = (
    r"(?-i)(?:^|[.!?][\"')\]]?[ \t]+)[ \t]*[A-Z][\w'’-]*"
    r"(?:[ \t]+[a-z][\w'’-]*){2,}[ \t]+[\"'(]?[A-Z0-9]"
)
_BEFORE_SENTENCE = re.compile(rb"[\s.!?\"')\]]*")


def list_key(sentence: str) -> tuple[str, ...] | None:
    """What the items of one list share: ``sentence``'s ``opening`` (at least
    ``MIN_OPENING_WORDS`` words), its first name or figure, and the word after it ("" at the
    end): "the choir of _ was" of "The choir of Fenby was founded by Thessaly Lindqvist.".
    "Changed in version 3.2: Allow giving ..." and "Changed in version 3.8: Prior to ..."
    open alike and say unlike things: the 1.5B read the first as "The earliest chart credited
    to someone is in the version 3.2 ..." (tuning seed 47, the list's items taken out). None
    for a sentence with no such opening."""
    words = opening(sentence)
    if len(words) < MIN_OPENING_WORDS:
        return None
    after = frame(sentence)[len(words) + 1 : len(words) + 2] or [""]
    return (*words, _SLOT, *after)


def alike_groups(view: ContextView) -> list[list[Evidence]]:
    """The groups of at least two sentences of ``view`` that open alike (the same
    ``list_key``: an opening of at least ``MIN_OPENING_WORDS`` words, a name or figure, and
    the word after it), larger groups first, each in the text's order, a sentence said more
    than once kept once (where it first stands). Asked "Which towns' singing groups have a known
    starter?", the 1.5B thesaurus gave "ensemble", "band", "beginner", never "choir" or
    "founded" (tuning seed 65): the text's own lists are where such items stand."""
    groups: dict[tuple[str, ...], dict[int, Evidence]] = defaultdict(dict)
    data = view.read_bytes()
    matches = view.store.iter_matches(compile_pattern(_OPENING), view.start, view.end)
    for count, (start, end) in enumerate(matches):
        if count >= MAX_OPENINGS_SCANNED:
            break
        skipped = _BEFORE_SENTENCE.match(data, start - view.start)  # matches, if empty
        at = view.start + (skipped.end() if skipped else start - view.start)
        item = passage(view, at, end, data)
        key = list_key(item.quote)
        if key is not None:
            groups[key].setdefault(item.start or at, item)
    found = []
    for group in groups.values():
        # One sentence said twice is one item (a text repeated, a note printed on each page):
        # the 1.5B read 'Missing slice items are always filled in with "None".', there twice,
        # as what newcomers to a town learn to do (fresh seed 68, the items taken out).
        unique = {group[at].quote: group[at] for at in sorted(group, reverse=True)}
        if len(unique) > 1:
            found.append(sorted(unique.values(), key=lambda item: item.start or 0))
    found.sort(key=lambda group: (-len(group), group[0].start or 0))
    return found


def stated_as(view: ContextView, quotes: list[str], known: list[tuple[int, int]]) -> list[Evidence]:
    """The sentences of ``view`` stated as one of ``quotes`` is (one ``list_key``, in a group
    of ``alike_groups``), other than the ``known`` spans, in the text's order: the other items
    of a list a backed passage is an item of. "On feast days the people of Fenmere gather to
    ski down the slopes behind the quarry." shares no word but its frame with "... of Selby
    gather to climb the old signal tower ...": the words every backing passage holds find
    no other item of a list of sentences."""
    keys = {key for key in map(list_key, quotes) if key is not None}
    if not keys:
        return []
    return [
        item
        for group in alike_groups(view)
        if list_key(group[0].quote) in keys
        for item in group
        if not any(a <= (item.start or 0) < b for a, b in known)
    ]
