"""The lines a question's names found, read before any planning.

"In which town does Dagny Jessamy's mentor live?" names a person; the name search
(``graph/name_search``) finds "Dagny Jessamy's mentor is Tomas Reed." and, searched because that
line names him, "Tomas Reed lives in Thalholt.". Measured on the 0.5B planner shown those two
lines in its first turn: it CALLed every chunk instead (23 calls), and each leaf saw one fact of
the two, so the run said "not found" (fresh seeds 5 and 7: 0 of 4 such questions). A reader
given the found lines alone has both facts side by side, as a person would put them.

So a lookup that names something rare enough to key a few lines gets one leaf-sized call over
those lines first. Its answer is taken only when the lines themselves back it (the same check
as an answer read off the planner's own GREP: ``observed.observed_findings``, a chain of two
passages included), or a reader of its sentence alone agrees (a question in other words, or an
answer its reader gave as not found), and it has the shape asked; otherwise nothing is said and
the planner starts as it would have, the call's cost charged. A question that asks for every
item is left to the planner: the lines of one name are not the whole text.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from rlm_graph import prompts
from rlm_graph.context import ContextView
from rlm_graph.evidence import (
    Evidence,
    holds_word,
    is_not_found,
    is_stopword,
    named_terms,
    normalized,
    parse_reply,
    passage,
    question_terms,
    says,
    with_lead,
    words_of,
)
from rlm_graph.graph.findings import citations, without_echoes
from rlm_graph.graph.judge import is_kind, judge
from rlm_graph.graph.leaf import RESPONSE_FORMAT
from rlm_graph.graph.messages import Finding, dumps
from rlm_graph.graph.model_call import call_model_json
from rlm_graph.graph.name_search import NameSearch
from rlm_graph.graph.observed import observed_findings
from rlm_graph.graph.outcome import finish
from rlm_graph.graph.planning import PlanStep
from rlm_graph.models import ResolvedModel
from rlm_graph.questions import asked_kind, asks_for_many, fits_asked, task_kind
from rlm_graph.state import Usage

# The found sentences read at most: a few short facts, well inside the smallest leaf's window.
MAX_FOUND_CHARS = 4000
# The call's ``strategy`` when the read answered.
STRATEGY = "found-lines"


def reads_found_lines(step: PlanStep, searched: NameSearch) -> bool:
    """Whether the step reads the found lines first: the root's first turn of a lookup for
    one answer, calls mode, with lines found for a name in prose."""
    return (
        step.depth == 0
        and step.iteration == 0
        and step.rt.mode == "calls"
        and bool(searched.prose_hits)
        and task_kind(step.query) == "lookup"
        and not asks_for_many(step.query)
    )


async def read_found_lines(step: PlanStep, searched: NameSearch) -> dict[str, Any]:
    """One call over the found lines: an update that ends the call with the answer when those
    lines back it, else one that only charges the call (the planner's first turn follows)."""
    model = step.rt.model_for(step.depth + 1)  # a leaf's reading: the leaf model
    sentences = found_sentences(step.view, searched.prose_hits)
    text = "\n".join(item.quote for item in sentences)
    if not text or len(text) > MAX_FOUND_CHARS:
        return {}  # a name on many long lines keys too little
    messages = [
        SystemMessage(prompts.FOUND_LINES_SYSTEM),
        HumanMessage(prompts.FOUND_LINES_USER.format(text=text, question=step.query)),
    ]
    events = step.turn_started("found-lines", 0)
    reply = await call_model_json(step.rt, model, messages, RESPONSE_FORMAT, events=events)
    update = step.charged(reply.usage, model)
    if reply.error:
        return update  # the planner can still find it; a failed read is no answer
    said = _said_answer(step, reply.text)
    if said is None:
        return update
    answer, quotes, sure = said
    finding: Finding | None = None
    cited: list[dict[str, Any]] = []
    if sure:
        sources = observed_findings(step.rt, step.reads, answer, searched.seen)
        cited = citations(answer, sources, step.query)
    if not cited or not holds_more_than_names(cited, step.query):
        # In other words than the text's ("the earliest chart" for "the first map"): only a
        # reader of the sentence alone can say it answers (``RLMRuntime.rewording_judge``).
        finding, spent, reader = await _read_alone(step, sentences, answer)
        update = step.after(update).charged(spent, reader)
        if finding is None:
            return update
        cited = finding.evidence
    answer = in_full(answer, quotes, cited, step.query)
    kind = asked_kind(step.query)
    if step.rt.judge and kind is not None:
        # A name read off the first fact of a chain is no answer to "in which town": the
        # planner goes on (the review would end the run "not found" on it).
        fits, spent, error = await is_kind(step.rt, model, answer, kind, events, step.query)
        update = step.after(update).charged(spent, model)
        if error or not fits:
            return update
    if finding is not None:
        update["findings"] = dumps([finding.model_copy(update={"answer": answer})])
    return {
        **update,
        "observed": dumps(searched.seen),
        "iteration": 1,
        "strategy": STRATEGY,  # its kind is checked: the review does not ask again
        **finish("done", answer),
    }


async def _read_alone(
    step: PlanStep, sentences: list[Evidence], answer: str
) -> tuple[Finding | None, Usage, ResolvedModel | None]:
    """A found sentence that holds the question's names and says ``answer``, confirmed by a
    reader given it alone, as a verified finding of the call; None when there is no such
    sentence, no reader that tells such sentences apart, or it does not agree."""
    question = step.query
    if not step.rt.judge:
        return None, Usage(), None
    names = named_terms(question)
    candidates = [
        (item, with_lead(step.view, item)[1])
        for item in sentences
        if says(answer, item.quote, question=question)
        and all(holds_word(set(words_of(item.quote)), name) for name in names)
    ]
    if not candidates:
        return None, Usage(), None
    reader = await asyncio.to_thread(step.rt.rewording_judge)
    if reader is None:
        return None, Usage(), None
    agreed, spent, _ = await judge(
        step.rt, reader, question, answer, candidates, runtime=step.runtime, call_id=step.call_id
    )
    if agreed is None:
        return None, spent, reader
    evidence = agreed.model_copy(update={"read_for": question})
    return Finding.read_off("found lines", step.call_id, answer, evidence), spent, reader


def holds_more_than_names(cited: list[dict[str, Any]], question: str) -> bool:
    """Whether the cited sentences hold a word of the question besides its names. They were
    found by those names: holding them says nothing, and when the question's other words are
    rare in the text, a name was half of them (the help text holds "produced" of "Which
    cartographer produced the earliest chart of Yarcombe?", and nothing else but the name)."""
    names = {word for name in named_terms(question) for word in words_of(name)}
    terms = [term for term in question_terms(question) if term not in names]
    held = {word for item in cited for word in words_of(item["quote"])}
    return not terms or any(holds_word(held, term) for term in terms)


def found_sentences(view: ContextView, hits: list[int]) -> list[Evidence]:
    """The sentences that hold the hits, once each, in the text's order."""
    sentences = {item.start: item for item in (passage(view, at, at) for at in hits)}
    return [item for item in sentences.values() if item.quote]


def _said_answer(step: PlanStep, reply: str) -> tuple[str, list[str], bool] | None:
    """The reader's answer, its quotes and whether it said it found it; None when it gave
    none, or only words that echo the question, or not the shape asked.

    An answer given with ``"found": false`` is kept, not sure: the 0.5B wrote "climb the old
    signal tower" for "Which activity would you recommend above all to someone visiting
    Tarnford?" and called it not found (niah seed 73). Only the reader of the sentence alone
    may then say it answers."""
    parsed, _ = parse_reply(reply)
    if parsed is None:
        return None
    question = step.query
    answer = without_echoes(parsed.answer.strip(), question)
    if not answer or is_not_found(answer) or not fits_asked(answer, question):
        return None
    return answer, parsed.quotes, parsed.found


def in_full(answer: str, quotes: list[str], cited: list[dict[str, Any]], question: str) -> str:
    """A value (a figure, a name the question does not give) as the reader gave it; words of
    no value are only part of what their sentences say, and those sentences are the answer
    (the 0.5B answered "swim" for what everyone who moves to a town learns to do, where its
    sentence says "... learns to swim in the cold pools below the weir"): the reader's own
    quote that holds the answer where a cited passage holds that quote word for word (a
    passage can run on from text before it that has no full stop), else the passages."""
    asked = {normalized(word) for word in question.split()}
    words = re.findall(r"[A-Za-z][\w'-]*", answer)
    if any(c.isdigit() for c in answer) or any(
        word[0].isupper() and normalized(word) not in asked and not is_stopword(word)
        for word in words
    ):
        return answer
    passages = sorted({(item.get("start") or 0, item["quote"]) for item in cited})
    wanted = normalized(answer)
    for quote in quotes:
        said = normalized(quote)
        if wanted in said and any(said in normalized(text) for _, text in passages):
            return " ".join(quote.split())
    return " ".join(text for _, text in passages)


__all__ = ["read_found_lines", "reads_found_lines"]
