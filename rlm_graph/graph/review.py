"""review: the root's finished answer looked over once more before merge grounds it.

- **One answer of the kind asked for.** "In which town was the person who sold Fennick Sallow a
  boat born?" answered "Nerys Cobbold" is read off a real passage that names the question's
  names, and a small judge reading that passage alone answers the same: it is the middle hop of
  the chain, a person where a town is asked for. When the question's wording names the kind of
  thing it asks for (``questions.asked_kind``: the noun of "which town", "person" for "who"),
  the model is asked whether the answer could be one (``judge.is_kind``); an answer that
  could not is no answer to a lookup, and the call says "not found", keeping it as
  ``unverified_answer``.
- **Every item of a list.** A question that asks for every X ("For each town where ..., what
  is it?") is answered from what the leaves read, and a small leaf misses a fact in its slice
  now and then: the answer names one town of three and every claim of it is backed. The
  passages that back the answer show how the text states one item. Every sentence of the whole
  context that holds the same words of the question (at least two of them: "everyone",
  "moves", "soon", "learns") is read by the judge alone, and each one it answers from joins the
  answer as a verified finding. A question in other words than the text's shares no word with
  those passages: the words the passages share with each other, names and figures left out
  (``passage_terms``), stand for it. A swept sentence that is a backing passage's twin (the
  same words about another name or figure, ``twins``) is an item whatever a reader says of it,
  and joins in its own words even with no reader for a question in other words. The sentences
  stated as a backing passage is (``alike.stated_as``) are swept first: items stated in words
  of their own share no word but their frame.
- **A list no leaf found an item of.** With nothing backed to sweep from ("not found", or a
  FINAL nothing backs), the reader of other words is asked for other words for the question's
  own (``phrase_search``); the sentences that hold the most of them, and that another sentence
  opens like (``stated_alike``), are read one at a time, and each one read as an item (a name or
  figure of its sentence, and none from elsewhere) starts the sweep. When none is, the first
  sentence of each of the text's own lists (``alike.alike_groups``: different sentences that
  open alike, then a name or figure, then the same word) is read the same way, larger lists
  first, for a question that names nothing.

Both rules read the question's wording and the passages, never the answer's shape, so they
hold for names, dates, numbers, codes and sentences alike. The direct route (its own leaf is
judged) and REPL mode are left as they are.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from langgraph.runtime import Runtime

from rlm_graph.configuration import RLMRuntime, runtime_context
from rlm_graph.context import ContextView
from rlm_graph.context.regex import compile_pattern
from rlm_graph.evidence import (
    Evidence,
    holds_word,
    is_not_found,
    named_terms,
    names_only_from,
    passage,
    question_terms,
    says,
    with_lead,
    words_of,
)
from rlm_graph.graph.accounting import usage_update
from rlm_graph.graph.alike import (
    MAX_ANCHOR_HITS,
    alike_groups,
    list_key,
    stated_alike,
    stated_as,
    twins,
)
from rlm_graph.graph.callers import STRATEGY as CALL_LINES
from rlm_graph.graph.events import ModelCallEvents
from rlm_graph.graph.findings import (
    backs,
    capitalised_names,
    citations,
    claims,
    label,
)
from rlm_graph.graph.found_lines import STRATEGY as FOUND_LINES
from rlm_graph.graph.judge import is_kind, read_passage
from rlm_graph.graph.messages import Finding, dumps
from rlm_graph.graph.observed import observed_findings
from rlm_graph.graph.outcome import NOT_FOUND, verified_answer
from rlm_graph.graph.phrase_search import MAX_READ, ranked_sentences, search_phrases
from rlm_graph.graph.state import CallState, RLMState
from rlm_graph.models import ResolvedModel
from rlm_graph.questions import asked_kind, asks_for_many, task_kind
from rlm_graph.state import Usage

# Words of the question every backing passage holds: fewer would match half the text.
MIN_SHARED_TERMS = 2
# At most this many sentences are put to the judge.
MAX_SWEPT = 8


def needs_review(state: RLMState, rt: RLMRuntime) -> bool:
    """The root's finished answer to a lookup, in calls mode with the judge on, when the
    question names the kind of thing it asks for or asks for every X ("not found" included:
    the items may stand in other words than the question's)."""
    call = CallState(state)
    answer, question = call.answer or "", call.query
    return (
        call.depth == 0
        and call.status == "done"
        and call.route != "direct"
        and rt.mode == "calls"
        and rt.judge
        and bool(answer)
        and (asks_for_many(question) or not is_not_found(answer))
        and task_kind(question) == "lookup"
        and (asks_for_many(question) or asked_kind(question) is not None)
        and call.strategy not in (FOUND_LINES, CALL_LINES)  # read off lines that say it
    )


def shared_terms(question: str, quotes: list[str]) -> list[str]:
    """The question's words that every backing passage holds, longest first."""
    held = [set(words_of(quote)) for quote in quotes]
    terms = [t for t in question_terms(question) if all(holds_word(h, t) for h in held)]
    return sorted(terms, key=len, reverse=True)


def on_its_words(answer: str, findings: list[Finding], question: str) -> str | None:
    """The answer less its lines backed only by passages that hold fewer than
    ``MIN_SHARED_TERMS`` of the question's words, when another line's passage holds that many:
    the items of one list are stated alike. None when no line goes. A 0.5B leaf's "This uses
    lambda expressions, described in section Lambdas." stood verified beside "The best thing to
    do in Corhaven is to ..." (fresh seed 56): grounded, and with the two passages sharing no
    word, the sweep had nothing to look for."""
    lines = [line for line in answer.splitlines() if line.strip()]
    backing = [citations(line, findings, question) for line in lines]
    on_words = [
        any(len(shared_terms(question, [item["quote"]])) >= MIN_SHARED_TERMS for item in cited)
        for cited in backing
    ]
    if not any(on_words):
        return None
    kept = [
        line for line, cited, on in zip(lines, backing, on_words, strict=True) if on or not cited
    ]
    return "\n".join(kept) if len(kept) < len(lines) else None


# A question in other words than the text's shares none of them with the passages that back
# its answer: the words those passages share with each other (names and figures left out)
# say how the text words one item, and at most this many of the longest are looked for.
MAX_PASSAGE_TERMS = 4


def passage_terms(quotes: list[str]) -> list[str]:
    """The words every backing passage holds, other than stop words, names and figures,
    longest first: "ferry", "passengers", "crossing", "carries" of "The ferry from Tarnstead
    carries 2,223 passengers on each crossing." for "Which towns have a boat service, and how
    many people fit on one trip?"."""
    named = {n.casefold() for quote in quotes for n in capitalised_names(quote)}
    held = [set(words_of(quote)) for quote in quotes]
    terms = [
        w
        for w in dict.fromkeys(words_of(quotes[0]) if quotes else [])
        if w not in named
        and not any(c.isdigit() for c in w)
        and all(holds_word(h, w) for h in held)
    ]
    return sorted(terms, key=len, reverse=True)[:MAX_PASSAGE_TERMS]


def _anchor(term: str) -> str:
    """A regex for ``term`` and its other endings (the first five letters of a longer word)."""
    stem = re.escape(term[:5] if len(term) > 5 else term)
    return rf"\b{stem}\w*"


def candidates(view: ContextView, terms: list[str], known: list[tuple[int, int]]) -> list[Evidence]:
    """Sentences of ``view`` that hold every one of ``terms``, other than the ``known`` spans."""
    found: list[Evidence] = []
    seen = list(known)
    data = view.read_bytes()  # once, not for each of up to MAX_ANCHOR_HITS passages
    for count, (start, end) in enumerate(
        view.store.iter_matches(compile_pattern(_anchor(terms[0])), view.start, view.end)
    ):
        if count >= MAX_ANCHOR_HITS or len(found) >= MAX_SWEPT:
            break
        if any(a <= start < b for a, b in seen):
            continue
        item = passage(view, start, end, data)
        span = (item.start or start, item.end or end)
        seen.append(span)
        words = set(words_of(item.quote))
        if all(holds_word(words, t) for t in terms):
            found.append(item)
    return found


def _reads_a_value_of(reading: str, quote: str, question: str) -> bool:
    """Whether ``reading`` names a value of ``quote`` that the question does not: one of the
    passage's names ("Eskby") or a word of it with a figure in it ("4379-MARTEN", "1969")."""
    asked = set(words_of(question))

    def figures(text: str) -> set[str]:
        tokens = (token.strip(".,;:!?()[]\"'") for token in text.split())
        return {t.casefold() for t in tokens if any(c.isdigit() for c in t)}

    names = {w for name in capitalised_names(quote) for w in words_of(name)}
    values = (names | figures(quote)) - asked
    read = set(words_of(reading)) | figures(reading)
    return bool(values & read)


async def review(state: RLMState, runtime: Runtime[RLMRuntime]) -> dict[str, Any]:
    """The answer checked for its kind (a question that asks for one thing) or completed from
    swept sentences (one that asks for every X)."""
    if asks_for_many(CallState(state).query):
        return await _sweep(state, runtime)
    return await _kind_check(state, runtime)


async def _kind_check(state: RLMState, runtime: Runtime[RLMRuntime]) -> dict[str, Any]:
    rt, call = runtime_context(runtime), CallState(state)
    kind = asked_kind(call.query)
    answer = call.answer or ""
    if kind is None:
        return {}
    model = rt.model_for(1)
    events = ModelCallEvents(runtime, call.call_id, "review")
    fits, usage, error = await is_kind(rt, model, answer, kind, events, call.query)
    budget = call.budget
    spent = rt.tick(budget.charge(calls=usage.model_calls, tokens=usage.total_tokens))
    update: dict[str, Any] = {
        **usage_update(state, model.name, usage),
        "budget": spent.model_dump(),
    }
    if fits or error:  # a failed check takes nothing away: grounding still decides
        return update
    return {**update, "answer": NOT_FOUND, "outcome": "not_found", "unverified_answer": answer}


def item_reading(
    reading: str | None, quote: str, question: str, *, twin: bool, named: bool
) -> str | None:
    """The line a sweep's ``reading`` of ``quote`` gives as an item of the list ``question``
    asks for (the passage itself where the reading adds to it), or None when it reads no item.
    ``twin``: the sentence is a twin of a backing passage; ``named``: it was found by words
    other than the question's (a thesaurus's, or the text's own lists)."""
    if reading is None:
        return None
    value = _reads_a_value_of(reading, quote, question)
    if named and not (value and names_only_from(reading, quote, question)):
        # Found by words a thesaurus gave, a sentence is read for no item of the question's:
        # the 1.5B read a regex tutorial's sentence as "The earliest chart credited to someone
        # is the one made by Raymond ..." (tuning seed 13).
        return None
    if says(reading, quote):
        return reading
    if not twin and not value:
        return None
    # The reader answered from the passage and added to it: the 0.5B read "The crate marked
    # juniper carries the shipping tag 4379-MARTEN." as "two crates: juniper and marten. Each
    # crate carries ..." (seed 39). What it read the passage for stands in its own words.
    return quote


class _SweepReads:
    """What the sweep's reads have cost and added so far."""

    def __init__(self, rt: RLMRuntime, state: RLMState, runtime: Runtime[RLMRuntime]) -> None:
        self.rt, self.state, self.call = rt, state, CallState(state)
        self.view = rt.registry.view(self.call.context)
        self.events = ModelCallEvents(runtime, self.call.call_id, "sweep")
        self.budget = self.call.budget
        self.update: dict[str, Any] = {}
        self.added: list[Finding] = []

    def charge(self, model: ResolvedModel, usage: Usage) -> None:
        self.budget = self.rt.tick(
            self.budget.charge(calls=usage.model_calls, tokens=usage.total_tokens)
        )
        self.update.update(usage_update({**self.state, **self.update}, model.name, usage))

    async def read(
        self,
        model: ResolvedModel | None,
        items: list[Evidence],
        quotes: list[str],
        lines: list[str],
        *,
        named: bool = False,
    ) -> None:
        """Each of ``items`` that a reader answers from (or that twins one of ``quotes``)
        added to ``lines`` and to the findings. With ``named`` (sentences a search in other
        words found), only a sentence stated like another is read, and only a reading that
        names a value of its sentence (a name, a figure) and none of elsewhere is an item."""
        question = self.call.query
        stated = {other.quote for other in items} | set(quotes)
        for item in items:
            if self.budget.exhausted_reason():
                break
            if named and not stated_alike(self.view, item):
                continue
            twin = any(twins(item.quote, quote) for quote in quotes)
            reading: str | None = item.quote if twin else None
            if model is not None:
                lead = with_lead(self.view, item)[1]
                if lead in stated:
                    # The sentence before is an item of its own (a list stated one sentence
                    # after another): it says nothing of this one, and a reader answers it.
                    lead = ""
                read, usage, error = await read_passage(
                    self.rt, model, question, f"{lead} {item.quote}".strip(), self.events
                )
                self.charge(model, usage)
                if error:
                    break
                if read is not None and not is_not_found(read):
                    reading = read
                elif not twin:
                    continue
            reading = item_reading(reading, item.quote, question, twin=twin, named=named)
            if reading is None:
                continue
            new = Finding.read_off("SWEEP", self.call.call_id, reading, item)
            if any(backs(new, claim) for claim in claims("\n".join(lines))):
                continue  # the answer has it already
            self.added.append(new)
            lines.append(label(item, reading, question) + reading)


async def _sweep(state: RLMState, runtime: Runtime[RLMRuntime]) -> dict[str, Any]:
    """The answer with every further item a swept sentence gives, and those items as verified
    findings; nothing when no sentence adds one. A list nothing backs ("not found" included)
    is searched for first in the words the text would use (``phrase_search``)."""
    rt, call = runtime_context(runtime), CallState(state)
    question, answer = call.query, call.answer or ""
    cited = citations(answer, call.findings, question)
    given_up: dict[str, Any] = {}
    if not cited:
        if not is_not_found(answer) and observed_findings(rt, call, answer, call.observed):
            return {}  # read off the planner's own GREP or PEEK: grounded as it stands
        # A FINAL nothing backs gives way to what the children verified (``merge``'s
        # grounding would do so after this node, and nothing would complete that list:
        # fresh seed 47, one observatory of three, grounded). It is kept, unverified.
        found = verified_answer(state)
        if found is not None and (cited := citations(found, call.findings, question)):
            given_up = {"unverified_answer": answer}
            answer = found
    sweep = _SweepReads(rt, state, runtime)
    lines = [answer]
    if not cited:
        lines = await _searched_items(sweep)
        if not lines:
            return sweep.update
        if not is_not_found(answer):
            given_up = {"unverified_answer": answer}
        cited = [item for finding in sweep.added for item in finding.evidence]
    elif (on_words := on_its_words(answer, call.findings, question)) is not None:
        given_up = {"unverified_answer": call.answer}
        answer, lines = on_words, [on_words]
        cited = citations(answer, call.findings, question)
    quotes = [item["quote"] for item in cited]
    terms = shared_terms(question, quotes)
    reworded = len(terms) < MIN_SHARED_TERMS
    if reworded:
        terms = passage_terms(quotes)
    known = [(item.get("start") or 0, item.get("end") or 0) for item in cited]
    # A list's items stated as a backing passage is come first; then those that hold its words.
    swept = stated_as(sweep.view, quotes, known)
    if len(terms) >= MIN_SHARED_TERMS:
        at = {item.start for item in swept}
        swept += [item for item in candidates(sweep.view, terms, known) if item.start not in at]
    if swept:
        # A question in other words than the passages: only a reader that tells such passages
        # apart may read the ones swept for it (``RLMRuntime.rewording_judge``). Without one,
        # only the twins of a backing passage join (``twins``).
        model: ResolvedModel | None = (
            await asyncio.to_thread(rt.rewording_judge) if reworded else rt.model_for(1)
        )
        await sweep.read(model, swept[:MAX_SWEPT], quotes, lines)
    update = {**sweep.update, "budget": sweep.budget.model_dump()}
    if sweep.added:
        update.update(answer="\n".join(lines), findings=dumps(sweep.added), **given_up)
    return update


def names_something(question: str) -> bool:
    """Whether ``question`` names what it asks about (a name, a figure, a quoted identifier):
    its items are found by that name, and a list of the text's read for it would be read for
    a thing the question does not ask about ("Which functions call `write`?" over a source
    tree, its docstrings stated alike)."""
    return bool(named_terms(question)) or re.search(r"`[^`]+`", question) is not None


async def _searched_items(sweep: _SweepReads) -> list[str]:
    """The items of a list no leaf found, one line each, read by the reader of other words
    off the sentences that hold the phrases it expects such an item to hold; none without
    such a reader."""
    reader = await asyncio.to_thread(sweep.rt.rewording_judge)
    if reader is None:
        return []
    question = sweep.call.query
    groups, usage = await search_phrases(sweep.rt, reader, question, sweep.events)
    sweep.charge(reader, usage)
    lines: list[str] = []
    view = sweep.view
    alike = ranked_sentences(view, groups, [], admit=lambda item: stated_alike(view, item))
    await sweep.read(reader, alike, [], lines, named=True)
    if not lines and not names_something(question):
        # No word of the question's or the thesaurus's keys an item ("singing group" for
        # "choir", tuning seed 65): the first sentence of each of the text's own lists is
        # read, larger lists first, the lists read already left out, until one is read as an
        # item (its twins then join in the sweep; a read more is a chance of a wrong one).
        read = {list_key(item.quote) for item in alike}
        firsts = [group[0] for group in alike_groups(view) if list_key(group[0].quote) not in read]
        for first in firsts[:MAX_READ]:
            await sweep.read(reader, [first], [], lines, named=True)
            if lines:
                break
    return lines
