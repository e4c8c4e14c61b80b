"""The passages the planner saw itself (a PEEK excerpt, the lines around a GREP hit, the
sentences a question's names found) that back an answer: located text, grounded like a
child's verified finding. Read by ``merge`` (the call's grounding), ``review`` (whether a FINAL
stands on what was seen before it gives way to the findings) and ``found_lines``."""

from __future__ import annotations

from rlm_graph.configuration import RLMRuntime
from rlm_graph.context import ContextView
from rlm_graph.evidence import Evidence, backed_by, passages_in, sentences_of, words_in
from rlm_graph.graph.chains import linking_passage
from rlm_graph.graph.findings import claims
from rlm_graph.graph.messages import Finding, SeenSpan
from rlm_graph.graph.state import CallState

# The latest spans the planner saw that an answer is looked for in (a bounded search).
MAX_OBSERVED_SPANS = 40


def observed_findings(
    rt: RLMRuntime, state: CallState, answer: str | None, seen: list[SeenSpan]
) -> list[Finding]:
    """The passages of what the planner saw (PEEK, GREP) that say a claim of ``answer`` and
    are about the question, as verified findings of this call; a passage about the question
    only with another seen passage before it (the two facts of a chain, ``chains``) is one
    with that passage as its second piece of evidence."""
    if not answer or not seen:
        return []
    question = state.query
    ref = state.context
    slice_words = words_in(rt.registry.view(ref))
    read: list[tuple[SeenSpan, ContextView, Evidence]] = []
    for span in seen[-MAX_OBSERVED_SPANS:]:
        view = rt.registry.view(ref.model_copy(update={"start": span.start, "end": span.end}))
        read.extend((span, view, item) for item in passages_in(view))
    others = [item for _, _, item in read]
    # A line's sentences too: the one that says the answer backs it, whatever runs on.
    whole = claims(answer) or [answer]
    split = [sentences_of(c) for c in whole]
    answer_claims = [*whole, *(s for parts in split if len(parts) > 1 for s in parts)]
    found: list[Finding] = []
    for span, view, item in read:
        for claim in answer_claims:
            if backed_by(question, claim, item, view, slice_words):
                evidence = [item]
            elif link := linking_passage(question, claim, item, others, slice_words):
                evidence = [item, link]
            else:
                continue
            found.append(
                Finding(
                    action=span.action,
                    call_id=state.call_id,
                    answer=item.quote,
                    verified=True,
                    where=item.where(),
                    evidence=[e.model_dump() for e in evidence],
                )
            )
            break
    return found
