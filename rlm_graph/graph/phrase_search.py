"""The text's own words for a list question whose leaves found no item at all.

"Which towns have an earliest chart credited to someone, and which cartographer made each?"
asks, in other words, for "The first map of Yarby was drawn by Fennick Greywell." and its
twins. The 0.5B leaves, each given a chunk that held one of them, answered nothing (fresh seed
51: two of three such questions "not found"); the review's sweep (``review``) completes a list
from one backed item and had none to start from. A person would search for the words a text
uses for such a fact: "map", "drawn by". So the reader of other words (the one that confirms
each item, ``RLMRuntime.rewording_judge``) is asked, as a thesaurus, for other words for each
of the question's words and two-word phrases (given the whole question, the 1.5B answered with
examples: "Boulder, Colorado" for "telescope"; given the word alone, "chart" gave "graph,
diagram, map"). The sentences that hold words of the most of them, a word on too many
sentences counting for nothing, are read one at a time by that reader, as the sweep reads its
sentences (``review``).

The words only choose which sentences are read. An item joins on a reader's answer taken from
its sentence alone, and only where the text states another sentence alike and the answer names
nothing the sentence does not: a word that keys the wrong sentences costs reads.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from langchain_core.messages import HumanMessage, SystemMessage

from rlm_graph import prompts
from rlm_graph.configuration import RLMRuntime
from rlm_graph.context import ContextView
from rlm_graph.context.regex import compile_pattern
from rlm_graph.evidence import (
    Evidence,
    is_stopword,
    named_terms,
    normalized,
    passage,
    question_terms,
    words_of,
)
from rlm_graph.graph.events import ModelCallEvents
from rlm_graph.graph.model_call import call_model
from rlm_graph.models import ResolvedModel
from rlm_graph.state import Usage

# Words of the question looked up, other words taken for each, and the longest reply read
# (a small model asked for synonyms can repeat a list without end).
MAX_TERMS = 6
MAX_PAIRS = 3
MAX_OTHER_WORDS = 4
MAX_REPLY_TOKENS = 40
# A phrase on more sentences than this says nothing about where items are; sentences read at
# most (each costs one reader call).
MAX_PHRASE_HITS = 200
MAX_READ = 8
# Sentences weighed for reading, best first (a check each, no model call).
MAX_SCREENED = 200


def headword(word: str) -> str:
    """A word as a thesaurus lists it, its plural undone ("collections" -> "collection",
    "libraries" -> "library"): asked for "book collections", the 1.5B repeated the phrase
    three times; asked for "book collection", it gave "library" (fresh seed 59)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def key_terms(question: str) -> list[str]:
    """What the question asks about, to be looked up: its two-word phrases of such words in a
    row ("telescope station", "holiday custom"), then its words, longest first, less its
    names (a name stands in the text as the question gives it); each word as its headword."""
    names = {word for name in named_terms(question) for word in words_of(name)}
    # In the question's order, so that words of one length keep it (a set's order changes
    # from run to run).
    terms = [term for term in question_terms(question) if term not in names and len(term) > 2]
    tokens = normalized(question).replace("-", " ").split()
    pairs = [
        f"{headword(a)} {headword(b)}"
        for a, b in zip(tokens, tokens[1:], strict=False)
        if a in terms and b in terms
    ]
    singles = list(dict.fromkeys(headword(term) for term in terms))
    singles.sort(key=len, reverse=True)
    return [*list(dict.fromkeys(pairs))[:MAX_PAIRS], *singles[:MAX_TERMS]]


def other_words(reply: str, term: str) -> list[str]:
    """The words a thesaurus reply gives for ``term``: its comma-separated phrases of at most
    three words, ``term`` itself and repeats left out."""
    found = []
    for part in re.split(r"[,;\n]", reply):
        phrase = " ".join(re.findall(r"[A-Za-z][A-Za-z'-]*", part)).casefold()
        if phrase and phrase != term and len(phrase.split()) <= 3 and phrase not in found:
            found.append(phrase)
    return found[:MAX_OTHER_WORDS]


async def search_phrases(
    rt: RLMRuntime, model: ResolvedModel, question: str, events: ModelCallEvents | None
) -> tuple[list[list[str]], Usage]:
    """For each key word of ``question``, the word and the other words ``model`` gives for it
    (a thesaurus call each; a failed call leaves its word alone), and their usage."""
    usage = Usage()
    bound = model.chat.bind(max_tokens=MAX_REPLY_TOKENS, stop=["\n"])
    groups: list[list[str]] = []
    for term in key_terms(question):
        messages = [SystemMessage(prompts.OTHER_WORDS_SYSTEM), HumanMessage(term)]
        reply = await call_model(rt, model, messages, bound=bound, events=events)
        usage = usage.add(reply.usage)
        groups.append([term, *other_words(reply.text or "", term)])
    return groups, usage


def phrase_pattern(phrase: str) -> str | None:
    """A regex for ``phrase``'s words in a row, each up to its ending as ``evidence`` takes
    words the same (its first five letters: "completed", "completion"; a plural "s" dropped);
    a word of three letters or fewer whole ("by" is not "bytes", "map" is "maps"). None for
    a phrase of stop words only, or none at all."""
    words = re.findall(r"[A-Za-z0-9]+", phrase)
    if not words or all(is_stopword(word) for word in words):
        return None

    def one(word: str) -> str:
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        if len(word) <= 3:
            return rf"{re.escape(word)}(?:s|es)?\b"
        return rf"{re.escape(word[:5])}\w*"

    return r"\b" + r"[\s-]+".join(one(word) for word in words)


def ranked_sentences(
    view: ContextView,
    groups: list[list[str]],
    known: list[tuple[int, int]],
    admit: Callable[[Evidence], bool] | None = None,
) -> list[Evidence]:
    """The sentences of ``view`` (other than the ``known`` spans) that hold words of the most
    groups (a question's word or another word for it), a rarer phrase counting for more, at
    most ``MAX_READ``, in the text's order; with ``admit``, the best of those it admits (of
    the ``MAX_SCREENED`` best): reads are not spent on sentences that cannot be read for an
    item (fresh seed 59: the three "The best thing to do in Ludholt is to ..." ranked 9th to
    20th, behind sentences like no other, and the list stayed "not found")."""
    scores: dict[int, float] = {}
    sentences: dict[int, Evidence] = {}
    data = view.read_bytes()  # once: a passage of each of up to thousands of hits
    for group in groups:
        weights: dict[int, float] = {}  # the group's rarest phrase a sentence holds
        for phrase in group:
            pattern = phrase_pattern(phrase)
            if pattern is None:
                continue
            held: dict[int, Evidence] = {}
            for start, end in view.store.iter_matches(
                compile_pattern(pattern), view.start, view.end
            ):
                if any(a <= start < b for a, b in known):
                    continue
                item = passage(view, start, end, data)
                if item.quote:
                    held[item.start or start] = item
                if len(held) > MAX_PHRASE_HITS:
                    break
            if len(held) > MAX_PHRASE_HITS:
                continue  # as common as this, it keys nothing
            for at, item in held.items():
                sentences[at] = item
                weights[at] = max(weights.get(at, 0.0), 1.0 / math.sqrt(len(held)))
        for at, weight in weights.items():
            scores[at] = scores.get(at, 0.0) + weight
    ranked = sorted(scores, key=lambda at: (-scores[at], at))
    if admit is None:
        return [sentences[at] for at in sorted(ranked[:MAX_READ])]
    admitted: list[int] = []
    for at in ranked[:MAX_SCREENED]:
        if len(admitted) == MAX_READ:
            break
        if admit(sentences[at]):
            admitted.append(at)
    return [sentences[at] for at in sorted(admitted)]


__all__ = [
    "MAX_SCREENED",
    "headword",
    "key_terms",
    "other_words",
    "phrase_pattern",
    "ranked_sentences",
    "search_phrases",
]
