"""What children found, as the planner reads it and as a call's answer cites it.

A child's answer is shown with its standing: verified (a passage of its text backs it, with
where it stands), unverified (no passage found: possibly invented), or not found. Verified
findings come first; conflicting verified findings are named side by side. A call's final answer
cites the verified findings that back it, and is grounded only if at least one does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from rlm_graph import prompts
from rlm_graph.evidence import (
    Evidence,
    echoes,
    is_not_found,
    is_stopword,
    list_items,
    normalized,
    says,
    sentences_of,
    task_kind,
    words_of,
)
from rlm_graph.graph.messages import ChildResult, Finding, findings_of
from rlm_graph.questions import asks_for_many, fits_asked


def strip_marks(answer: str) -> str:
    """An answer less the marks the planner read after a child's answer (``prompts.MARKS``): a
    planner that copies one into its FINAL means the answer, not the mark."""
    return prompts.MARKS.sub("", answer).strip()


def _where(evidence: list[dict[str, Any]]) -> str:
    for item in evidence:
        evidence = Evidence.model_validate(item)
        if evidence.verified:
            return evidence.where()
    return ""


# A quote longer than this is shown cut: it is there to show the fact, not the page.
QUOTE_SHOWN_CHARS = 200


def shown_quote(answer: str, evidence: list[dict[str, Any]]) -> str:
    """The first verified passage that says more than the answer itself, quoted, or "".
    Shown next to a verified answer: a small leaf answers with the subject ("the Halden
    observatory") while its passage holds the date the planner needs."""
    for item in evidence or []:
        quote = Evidence.model_validate(item)
        if quote.verified and normalized(quote.quote) != normalized(answer):
            text = " ".join(quote.quote.split())
            if len(text) > QUOTE_SHOWN_CHARS:
                text = text[:QUOTE_SHOWN_CHARS].rstrip() + " ..."
            return prompts.SHOWN_QUOTE.format(quote=text)
    return ""


def child_text(result: ChildResult) -> str:
    """One child's result for the planner's transcript."""
    if result.status == "error":
        return prompts.CHILD_FAILED.format(error=result.error or "unknown error")
    if result.outcome == "not_found":
        return prompts.NOT_FOUND
    answer = (result.answer or "").strip() or prompts.CHILD_EMPTY
    if result.status == "budget_exhausted":
        answer = prompts.CHILD_INCOMPLETE.format(answer=answer)
    if result.verified:
        quote = shown_quote(answer, result.evidence)
        return prompts.CHILD_VERIFIED.format(
            answer=answer, where=_where(result.evidence), quote=quote
        )
    if result.off_question:
        return prompts.CHILD_OFF_QUESTION.format(answer=answer)
    if result.verified is False:
        return prompts.CHILD_UNVERIFIED.format(answer=answer)
    return answer


def finding(result: ChildResult) -> Finding | None:
    """A child's answer worth keeping (not an error, not a "not found")."""
    answer = (result.answer or "").strip()
    if result.status != "done" or result.outcome == "not_found" or not answer:
        return None
    if is_not_found(answer):
        return None
    return Finding(
        action=result.action,
        call_id=result.call_id,
        answer=answer,
        verified=bool(result.verified),
        where=_where(result.evidence),
        evidence=result.evidence,
    )


def standing(result: ChildResult) -> int:
    """Where a child's result stands among a turn's results, as the planner reads them:
    verified findings (0), failures (1), unverified answers (2), nothing found (3)."""
    if result.status == "error":
        return 1
    found = finding(result)
    if found is None:
        return 3
    return 0 if found.verified else 2


def _target(finding: Finding) -> str:
    return finding.action.removeprefix("CALL ").strip()


def _verified_line(finding: Finding) -> str:
    """``- <answer>  [verified: where] (target) "<its passage>"``: led by the answer (a small
    model that copies a line copies the answer first), then the passage that backs it when it
    says more than the answer."""
    quote = shown_quote(finding.answer, finding.evidence)
    return prompts.FINDING_VERIFIED.format(
        answer=finding.answer, where=finding.where, target=_target(finding), quote=quote
    )


def render_findings(
    findings: Iterable[Finding | Mapping[str, Any]], *, verified_only: bool = False
) -> str:
    """Verified findings first, then unverified ones, marked; verified answers that disagree are
    named together so the planner weighs them instead of taking the first.

    ``verified_only`` (what a reducer or a last forced turn reads): when anything is verified,
    the unverified answers are left out and only counted. Measured on the 0.5B model: shown
    one verified answer and five identical unverified ones, it picked the five.
    Each line leads with the answer (``- 1932  [verified: line 417] (chunk:2)``): a small model
    that copies a line copies the answer first, not ``CALL chunk:2 ->``."""
    findings = findings_of(findings)
    verified = [f for f in findings if f.verified]
    unverified = [f for f in findings if not f.verified]
    lines = [_verified_line(f) for f in verified]
    if verified and verified_only and unverified:
        lines.append(prompts.FINDINGS_LEFT_OUT.format(count=len(unverified)))
    else:
        lines += [
            prompts.FINDING_UNVERIFIED.format(answer=f.answer, target=_target(f))
            for f in unverified
        ]
    distinct = {normalized(f.answer): f for f in verified}
    if len(distinct) > 1 and not verified_only:
        side_by_side = " | ".join(f"{f.answer} ({_target(f)})" for f in distinct.values())
        lines.append(prompts.FINDINGS_DIFFER.format(answers=side_by_side))
    if findings and not verified:
        lines.append(prompts.FINDINGS_NONE_VERIFIED)
    return "\n".join(lines) or prompts.NO_FINDINGS


_CLAIM_SPLIT = re.compile(r"\s*(?:\n+|;\s+)\s*")
_BULLET = re.compile(r"^(?:[-*\u2022]|\d+[.)])\s+")
_LABEL = re.compile(r"^[^:\n]{1,60}:\s+")


def claims(answer: str) -> list[str]:
    """The separate claims of an answer: its lines or ``;``-separated parts, bullets off, and
    the names of a one-line list of them (``a, b and c``)."""
    parts = (_BULLET.sub("", part.strip()) for part in _CLAIM_SPLIT.split(answer.strip()))
    items = (item for part in parts for item in list_items(part))
    return [item for item in items if len(normalized(item)) >= 2]


def without_echoes(answer: str, question: str) -> str:
    """A list answer less its lines that only say back words of the question (a small model
    copies "to do in" from "the best thing to do in" as an item): such a line is no claim, and
    its stop words would be "said" by any passage. A line of stop words alone ("These,", seed
    34) says nothing either, and any finding that holds the word would back it."""
    lines = answer.strip().splitlines()
    if len(lines) < 2:
        return answer
    kept = [
        line
        for line in lines
        if words_of(line) and not echoes(_BULLET.sub("", line.strip()), question)
    ]
    return "\n".join(kept) if kept else answer


_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w-]+")


def capitalised_names(text: str) -> list[str]:
    """The words of ``text`` written in capitals inside a sentence: its names."""
    return _CAPITALISED.findall(text)


def names_marked(text: str, mark: str) -> str:
    """``text`` with each of its names (``capitalised_names``) replaced by ``mark``."""
    return _CAPITALISED.sub(mark, text)


def label(item: Evidence, reading: str, question: str) -> str:
    """The names of a passage that neither its reading nor the question holds ("Eskby" for
    "Everyone who moves to Eskby soon learns to ..."): what the item is about, put before it.
    Only the passage's sentences that say the reading are looked at: a passage that begins a
    sentence early would lead "The observatory above Wenmoor ..." with "Python" (seed 47)."""
    asked, said = set(words_of(question)), set(words_of(reading))
    overlap = {s: len(said & set(words_of(s))) for s in sentences_of(item.quote)}
    most = max(overlap.values(), default=0)
    saying = [s for s, shared in overlap.items() if shared == most]
    names = [
        n
        for n in capitalised_names(" ".join(saying))
        if (words := set(words_of(n))) and not words <= said | asked
    ]
    return f"{' '.join(dict.fromkeys(names))}: " if names else ""


def labelled(answer: str, findings: Iterable[Finding | Mapping[str, Any]], question: str) -> str:
    """A list answer with each line that does not say what it is about led by the names of the
    passage that backs it: a leaf answers "They gather to watch glassblowers ..." and its
    passage says it of Selcombe (seed 34: two lines of three named no town)."""
    if not asks_for_many(question) or task_kind(question) != "lookup":
        return answer
    findings = [f for f in findings_of(findings) if f.verified]
    lines = []
    for line in answer.splitlines():
        if not line.strip() or _LABEL.match(line):
            lines.append(line)
            continue
        backing = next((f for f in findings if backs(f, line, question=question)), None)
        quote = next((e for e in backing.evidence if e.get("verified")), None) if backing else None
        lead = label(Evidence.model_validate(quote), line, question) if quote else ""
        lines.append(lead + line)
    return "\n".join(lines)


# A figure as written in a line: a token with a digit ("1356-IBIS", "1,311", "1907").
_FIGURE = re.compile(r"[\w][\w,.-]*\d[\w-]*|\d")


def _values(line: str) -> list[str]:
    """The names and figures of one line, as often as it writes them."""
    return [*capitalised_names(line), *_FIGURE.findall(line)]


# A line that runs on this many of the question's words in a row echoes the question.
ECHOED_WORDS = 6


def _echoes_a_run(line: str, question: str) -> bool:
    """Whether ``line`` holds ``ECHOED_WORDS`` or more of the question's words in a row."""
    asked, said = normalized(question).split(), normalized(line).split()
    runs = {tuple(asked[i : i + ECHOED_WORDS]) for i in range(len(asked) - ECHOED_WORDS + 1)}
    return any(
        tuple(said[i : i + ECHOED_WORDS]) in runs for i in range(len(said) - ECHOED_WORDS + 1)
    )


def _garbled_values(line: str, question: str) -> list[str] | None:
    """What ties a garbled list line to its passage: the names and figures it writes over and
    over, or ``[]`` (any passage that backs it) when it echoes a run of the question's words;
    None when the line is not garbled."""
    values = _values(line)
    repeated = [value for value in dict.fromkeys(values) if values.count(value) > 1]
    if repeated:
        return repeated
    return [] if _echoes_a_run(line, question) else None


def _holds_all(quote: str, values: list[str]) -> bool:
    """Whether ``quote`` holds each value's words, in any case ("The Willow Archive" is the
    passage's "the willow archive"; a stop word like "The" asks nothing)."""
    held = set(words_of(quote))
    return all(set(words_of(value)) <= held for value in values)


def _fragment_of(line: str, quote: str, question: str) -> bool:
    """Whether ``line`` gives only a piece of the item ``quote`` states, in the quote's own
    words: a figure of it is left out ("The Willow Archive" of "... the willow archive is
    4864-HERON."), or, for an item stated in words rather than names and figures (a quote of
    one name), the line says half or less of those words ("Ravstead: weavers' guild" of
    "Everyone who moves to Ravstead soon learns to drink mint tea in the courtyard of the
    weavers' guild.", fresh seed 65). A name may be missing: the label gives it (``label``).
    The question's words and stop words count for nothing."""
    asked = set(words_of(question))

    def content(text: str) -> set[str]:
        return {w for w in words_of(text) if w not in asked and not is_stopword(w)}

    given, said = content(line), content(quote)
    if not given or not given <= said:
        return False  # words of its own: a restatement, not a piece
    figures = {w for figure in _FIGURE.findall(quote) for w in words_of(figure)} - asked
    if figures - given:
        return True
    quote_names = set(capitalised_names(quote))
    if figures or len(quote_names) > 1:
        return False  # an item of names and figures, each of them given
    name_words = {w for name in quote_names for w in words_of(name)} - asked
    plain = given - name_words
    return bool(plain) and 2 * len(plain) <= len(said - name_words)


def from_passages(
    answer: str, findings: Iterable[Finding | Mapping[str, Any]], question: str
) -> str:
    """A list answer with each line the planner garbled given as the passage that backs it.
    Each line of a list names one item, and the 0.5B planner garbles some: it writes one value
    over and over ("The cartographers who made each are: Emeric Yarrowby, Emeric Yarrowby, and
    Emeric Yarrowby.", fresh seed 56; "... the vaults 1356-IBIS and the code opens the vaults
    1356-IBIS.", seed 51), or runs the question on into the value ("Kelwold: For each town
    whose people gather on feast days, they gather to do paper lanterns shaped like cranes.",
    fresh seed 58). Each was backed by one finding, and the user read a line the text never
    says. So is a line that gives only a piece of its passage's item (``_fragment_of``). A
    garbled line stays when no one verified passage backs it (or, for a repeated value, none
    holds that value)."""
    if not asks_for_many(question) or task_kind(question) != "lookup":
        return answer
    findings = [f for f in findings_of(findings) if f.verified]
    lines = []
    for line in answer.splitlines():
        tied = _garbled_values(line, question)
        quotes = {
            " ".join(item["quote"].split())
            for f in findings
            if backs(f, line, question=question)
            for item in f.evidence
            if item.get("verified") and (tied is None or _holds_all(item["quote"], tied))
        }
        if len(quotes) == 1 and (
            tied is not None or _fragment_of(line, next(iter(quotes)), question)
        ):
            line = quotes.pop()
        lines.append(line)
    return "\n".join(lines)


def without_unbacked_sentences(
    answer: str, findings: Iterable[Finding | Mapping[str, Any]], question: str
) -> str:
    """A lookup's answer less the sentences of a line that nothing backs, where another
    sentence of that line is backed. A line is backed as a whole by a finding it holds, and
    the 0.5B planner runs on past its answer into text it read ("The charter of Pelby was
    signed on October 7, 1940. provides a value using the 'yield' expression."): that tail is
    no claim of the text's, and it is left out rather than shown as grounded."""
    if task_kind(question) != "lookup":
        return answer
    findings = [f for f in findings_of(findings) if f.verified]
    if not findings:
        return answer
    lines = []
    for line in answer.splitlines():
        sentences = sentences_of(line)
        if len(sentences) < 2:
            lines.append(line)
            continue
        backed = [s for s in sentences if any(backs(f, s, question=question) for f in findings)]
        lines.append(" ".join(backed) if backed else line)
    return "\n".join(lines)


def backs(finding: Finding, claim: str, *, open_task: bool = False, question: str = "") -> bool:
    """Whether a verified finding backs one claim of an answer: the finding's answer stands in
    the claim (or the claim in it), or one of its passages says the claim."""
    if not finding.verified:
        return False
    claim_n, answer_n = normalized(claim), normalized(finding.answer)
    if len(answer_n) >= 2 and (answer_n in claim_n or claim_n in answer_n):
        return True
    # A labelled line ("Part 1: ...") whose answer had a "; " of its own: its first claim is
    # the label and the answer's first half.
    unlabelled = normalized(_LABEL.sub("", claim, count=1))
    if len(unlabelled) >= 2 and unlabelled != claim_n and unlabelled in answer_n:
        return True
    return any(
        says(
            claim,
            Evidence.model_validate(item).located_text(),
            open_task=open_task,
            question=question,
        )
        for item in finding.evidence
        if item.get("verified")
    )


def citations(
    final: str | None, findings: Iterable[Finding | Mapping[str, Any]], question: str = ""
) -> list[dict[str, Any]]:
    """The verified passages that back ``final``, labelled with the call that found them; empty
    unless *every* claim of the answer is backed (a list with one backed item and three
    invented ones is not grounded)."""
    if not final or not fits_asked(final, question):
        return []
    findings = findings_of(findings)
    open_task = task_kind(question) == "open"
    cited: dict[tuple[Any, ...], dict[str, Any]] = {}
    for claim in claims(final) or [final]:
        backing = [f for f in findings if backs(f, claim, open_task=open_task, question=question)]
        if not backing:
            return []
        for f in backing:
            for item in f.evidence:
                if item.get("verified"):
                    key = (f.call_id, item.get("start"), item.get("end"))
                    cited[key] = {"call_id": f.call_id, "answer": f.answer, **item}
    return list(cited.values())


def conflicts(
    final: str | None, findings: Iterable[Finding | Mapping[str, Any]], question: str
) -> list[dict[str, Any]]:
    """Verified answers of children that differ from ``final``, one per distinct answer, for
    a question that asks for one answer: the text says more than one thing, and the user is
    told so beside the answer the planner picked (with where each other one stands)."""
    if not final or is_not_found(final) or task_kind(question) != "lookup":
        return []
    if asks_for_many(question):
        return []
    final_n = normalized(final)
    others: dict[str, dict[str, Any]] = {}
    for finding in findings_of(findings):
        answer = finding.answer
        answer_n = normalized(answer)
        if not finding.verified or not answer_n or is_not_found(answer):
            continue
        if backs(finding, final) or final_n in answer_n or answer_n in final_n:
            continue
        others.setdefault(
            answer_n,
            {
                "answer": answer,
                "call_id": finding.call_id,
                "where": finding.where or _where(finding.evidence),
                "quote": next(
                    (item["quote"] for item in finding.evidence if item.get("verified")), ""
                ),
            },
        )
    return list(others.values())
