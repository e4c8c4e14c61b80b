"""The names a question gives, searched for before the planner's first turn.

A question that names code (``which file defines `_sock_sendto`?``, ``who calls
parse_header?``) names a string that stands in the text word for word. Measured on the 0.5B
planner over a folder of 13 source files: told only the file list, it sent one CALL to the
first file and answered from it; the lines that name the function are what a person would look
at first. So the first turn carries a GREP for each such name, with each hit's file and the
function around it, and those lines count as text the planner saw (an answer read off them is
grounded like one read off its own GREP).

A name in prose (a person, a place: capitalised words inside the question) is searched the same
way when it is rare enough to key something (a name on more than a few lines, "Python" in
Python's docs, says nothing about where to look). The names the found lines add are searched
once more: "In which office does Ann Hale's manager work?" finds "Ann Hale reports to Tom
Reed.", and then "Tom Reed works in the Leeds office.", the two facts a person would put
together (``observed.observed_findings`` grounds the answer on the pair).
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from rlm_graph import prompts
from rlm_graph.context import ContextView
from rlm_graph.context.chunking import Chunking
from rlm_graph.context.grep import GrepResult
from rlm_graph.evidence import identifiers, is_stopword
from rlm_graph.graph.call import GREP_REACH
from rlm_graph.graph.messages import SeenSpan

# Names searched at most, and hits shown per name: enough to place a definition and its callers.
MAX_NAMES = 3
MAX_HITS_PER_NAME = 12
# A prose name on more lines than this keys nothing; the names found lines add, searched at most.
MAX_PROSE_NAME_HITS = 6
MAX_LINKED_NAMES = 2

# Capitalised words in a row ("Maelis Thistlewood", "Kelwold"), each with a lower-case letter
# after its first (not an acronym or a code).
_CAPITALISED_RUN = r"\b[A-Z][a-z][\w-]*(?:\s+[A-Z][a-z][\w-]*)*"
# In a question, never its first word or one after a sentence's end ("Which", "In").
_QUESTION_NAME = re.compile(rf"(?<![.!?]\s)(?<!^){_CAPITALISED_RUN}")
_LINE_NAME = re.compile(_CAPITALISED_RUN)


def name_pattern(name: str) -> str:
    """A regex for ``name`` as a whole identifier (``_wait`` does not match ``_waiter``)."""
    return rf"(?:^|[^\w]){re.escape(name)}(?:[^\w]|$)"


def prose_pattern(name: str) -> str:
    """A regex for a name of words, wrapped or spaced in any way (``Maelis\\s+Thistlewood``)."""
    return r"\b" + r"\s+".join(re.escape(word) for word in name.split()) + r"\b"


def question_names(question: str) -> list[str]:
    """The names of people, places and things a question gives in capitals, less any word
    the question's code names already cover."""
    code = {name.casefold() for name in identifiers(question)}
    names = (m.group(0) for m in _QUESTION_NAME.finditer(question.strip()))
    return list(dict.fromkeys(n for n in names if n.casefold() not in code))


def line_names(text: str, known: set[str]) -> list[str]:
    """The names a found line adds: capitalised words in a row, not a lone common word
    ("The", "When") and not one ``known`` (case-folded) already."""
    found = []
    for match in _LINE_NAME.finditer(text):
        name = match.group(0)
        if name.casefold() in known or (" " not in name and is_stopword(name)):
            continue
        found.append(name)
    return list(dict.fromkeys(found))


class NameSearch(BaseModel):
    """What the first turn shows for the question's names, and what it comes to."""

    text: str = ""
    seen: list[SeenSpan] = []
    """The spans around each hit shown: text the planner saw."""
    chunks: list[int] = []
    """The chunks that hold a hit, in order: the targets to read first."""
    prose_hits: list[int] = []
    """Where the hits of names in prose stand (absolute offsets, in the text's order)."""


class _Search:
    def __init__(self, view: ContextView, chunking: Chunking) -> None:
        self.view, self.chunking = view, chunking
        self.blocks: list[str] = []
        self.seen: list[SeenSpan] = []
        self.chunks: set[int] = set()
        self.shown: set[int] = set()  # lines shown already: never twice
        self.prose_hits: set[int] = set()

    def run(self, name: str, pattern: str, template: str, *, rare: bool) -> GrepResult | None:
        """GREP one name and show its lines; a ``rare`` name (prose) only when it stands on
        at most ``MAX_PROSE_NAME_HITS`` lines."""
        limit = MAX_PROSE_NAME_HITS + 1 if rare else MAX_HITS_PER_NAME
        found = self.view.grep(pattern, self.chunking, max_hits=limit)
        once = {hit.line: hit for hit in found.hits}  # a line that names it twice, shown once
        if rare and (found.capped or found.truncated or len(once) > MAX_PROSE_NAME_HITS):
            return None
        if once and once.keys() <= self.shown:
            return None  # its lines are shown above already
        above = once.keys() & self.shown
        once = {line: hit for line, hit in once.items() if line not in above}
        self.shown.update(once)
        found = found.model_copy(  # rendered as the name, not the regex; counted as shown
            update={"pattern": name, "hits": list(once.values()), "total": found.total - len(above)}
        )
        action = f'GREP("{name}")'
        self.blocks.append(template.format(name=f"`{name}`", hits=found.render()))
        for hit in found.hits:
            self.chunks.add(hit.chunk)
            if rare:
                self.prose_hits.add(self.view.start + hit.offset)
            start = self.view.start + max(0, hit.offset - GREP_REACH)
            end = self.view.start + min(self.view.size, hit.offset + GREP_REACH)
            self.seen.append(SeenSpan(action=action, start=start, end=end))
        return found

    def result(self) -> NameSearch:
        return NameSearch(
            text="".join(self.blocks),
            seen=self.seen,
            chunks=sorted(self.chunks),
            prose_hits=sorted(self.prose_hits),
        )


def search_names(view: ContextView, question: str, chunking: Chunking) -> NameSearch:
    """GREP each name the question gives (none: an empty search), code names first, then
    prose names and the names their lines add."""
    search = _Search(view, chunking)
    code = identifiers(question)[:MAX_NAMES]
    for name in code:
        search.run(name, name_pattern(name), prompts.NAME_SEARCH, rare=False)
    prose = question_names(question)[: MAX_NAMES - len(code)]
    known = {word.casefold() for name in prose for word in (name, *name.split())}
    lines: list[str] = []
    for name in prose:
        if found := search.run(name, prose_pattern(name), prompts.NAME_SEARCH, rare=True):
            lines.extend(hit.text for hit in found.hits)
    linked = 0
    for name in line_names("\n".join(lines), known):
        if linked == MAX_LINKED_NAMES:
            break
        pattern = prose_pattern(name)
        linked += search.run(name, pattern, prompts.LINKED_NAME_SEARCH, rare=True) is not None
    return search.result()
