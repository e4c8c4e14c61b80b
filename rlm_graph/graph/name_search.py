"""The names a question gives, searched for before the planner's first turn.

A question that names code (``which file defines `_sock_sendto`?``, ``who calls
parse_header?``) names a string that stands in the text word for word. Measured on the 0.5B
planner over a folder of 13 source files: told only the file list, it sent one CALL to the
first file and answered from it; the lines that name the function are what a person would look
at first. So the first turn carries a GREP for each such name, with each hit's file and the
function around it, and those lines count as text the planner saw (an answer read off them is
grounded like one read off its own GREP).
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from rlm_graph import prompts
from rlm_graph.context import ContextView
from rlm_graph.context.chunking import Chunking
from rlm_graph.evidence import identifiers
from rlm_graph.graph.call import GREP_REACH
from rlm_graph.graph.messages import SeenSpan

# Names searched at most, and hits shown per name: enough to place a definition and its callers.
MAX_NAMES = 3
MAX_HITS_PER_NAME = 12


def name_pattern(name: str) -> str:
    """A regex for ``name`` as a whole identifier (``_wait`` does not match ``_waiter``)."""
    return rf"(?:^|[^\w]){re.escape(name)}(?:[^\w]|$)"


class NameSearch(BaseModel):
    """What the first turn shows for the question's names, and what it comes to."""

    text: str = ""
    seen: list[SeenSpan] = []
    """The spans around each hit shown: text the planner saw."""
    chunks: list[int] = []
    """The chunks that hold a hit, in order: the targets to read first."""


def search_names(view: ContextView, question: str, chunking: Chunking) -> NameSearch:
    """GREP each code name the question gives (none: an empty search)."""
    blocks: list[str] = []
    seen: list[SeenSpan] = []
    chunks: set[int] = set()
    for name in identifiers(question)[:MAX_NAMES]:
        found = view.grep(name_pattern(name), chunking, max_hits=MAX_HITS_PER_NAME)
        once = {hit.line: hit for hit in found.hits}  # a line that names it twice, shown once
        found = found.model_copy(  # rendered as the name, not the regex
            update={"pattern": name, "hits": list(once.values())}
        )
        action = f'GREP("{name}")'
        blocks.append(prompts.NAME_SEARCH.format(name=f"`{name}`", hits=found.render()))
        for hit in found.hits:
            chunks.add(hit.chunk)
            start = view.start + max(0, hit.offset - GREP_REACH)
            end = view.start + min(view.size, hit.offset + GREP_REACH)
            seen.append(SeenSpan(action=action, start=start, end=end))
    return NameSearch(text="".join(blocks), seen=seen, chunks=sorted(chunks))
