"""Two passages that answer a question together: "Ann Hale reports to Tom Reed." and "Tom Reed
works in the Leeds office." answer "In which office does Ann Hale's manager work?".

The second passage says the answer and most of the question's other words, but not the name
the question gives; the first holds that name and a name of the second, the link. Alone, the
second is about someone else (``evidence.relevant`` refuses it); with the first before it, it
is about the question, the way a sentence is read with the one before it. The link must be a
name (capitalised words), not a common word, so two passages that only share "the office"
never make a chain.
"""

from __future__ import annotations

from rlm_graph.evidence import (
    Evidence,
    holds_word,
    is_stopword,
    named_terms,
    question_terms,
    relevant,
    says,
    words_of,
)
from rlm_graph.graph.name_search import line_names


def linking_passage(
    question: str,
    claim: str,
    item: Evidence,
    others: list[Evidence],
    slice_words: set[str] | None,
) -> Evidence | None:
    """A passage of ``others`` that holds the question's names and a name of ``item``, when
    the two say ``claim``, ``item`` says its own part of it, and ``item``, read after the
    other, is about the question; None otherwise."""
    names = named_terms(question)
    if not names:
        return None
    asked = {word for name in names for word in words_of(name)}
    links = {
        word
        for name in line_names(item.quote, asked)
        for word in words_of(name)
        if word not in asked
    }
    if not links:
        return None
    second_words = set(words_of(item.quote))
    terms = set(question_terms(question))
    claimed = [w for w in words_of(claim) if not holds_word(terms, w) and not is_stopword(w)]
    for other in others:
        if other.start == item.start:
            continue
        held = set(words_of(other.quote))
        if not all(holds_word(held, name) for name in names):
            continue
        if not any(link in held for link in links):
            continue
        # The answer must be the second fact's own: one that says only what the first one
        # does ("... works in the office of Tom Reed") is the middle of the chain.
        if not any(w in second_words and w not in held for w in claimed):
            continue
        if not says(claim, f"{other.quote} {item.located_text()}", question=question):
            continue  # the two together must say it
        # The link stands for the question's words ("Tom Reed works" for "manager work").
        window = (item.quote, other.quote)
        if relevant(question, window, slice_words, place=item.place(), links=frozenset(links)):
            return other
    return None
