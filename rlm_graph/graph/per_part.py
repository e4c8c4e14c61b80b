"""The per-part step: a question that asks the same of every part of a sectioned text ("For
each essay, say in one line what it is about") gives each section its own CALL with the
part's own task, and the answer is composed from their results, one line per section, in the
text's order. No planner turn is spent on laying out the calls, and no reducer on composing:
each line is its section's own findings, so each claim keeps its own passages.

A section too long for one sub-call is read in pieces when no level of depth is left for a
sub-planner; its line then joins what the pieces found.
"""

from __future__ import annotations

from rlm_graph.budget import Budget
from rlm_graph.configuration import RLMRuntime
from rlm_graph.context import ContextView
from rlm_graph.context.sections import Section, pieces
from rlm_graph.errors import TargetError
from rlm_graph.evidence import normalized, sentences_of
from rlm_graph.graph.findings import strip_marks
from rlm_graph.graph.messages import Finding
from rlm_graph.protocol import Action, ParsedTurn
from rlm_graph.questions import asks_per_part, part_task

NOTHING_FOUND = "nothing found"
UNVERIFIED = "(unverified)"
# "In one line": a part's line keeps its findings' leading sentences up to about this many
# characters (fresh seed 64: a leaf quoted a whole 820-character paragraph as its line).
MAX_PART_LINE_CHARS = 300


def per_part_turn(
    question: str, view: ContextView, rt: RLMRuntime, budget: Budget, depth: int
) -> ParsedTurn | None:
    """One CALL per section (or per piece of a long one) with the part's task, or ``None``
    when the question is not per part, the text has no sections, or the budget cannot pay
    for every call (the planner then decides)."""
    if not asks_per_part(question):
        return None
    sections = view.sections()
    if len(sections) < 2:
        return None
    task = part_task(question)
    chunk_bytes = rt.chunking_for_view().chunk_bytes
    recurse = depth + 1 < budget.max_depth
    targets: list[str] = []
    for section in sections:
        size = section.end - section.start
        if recurse or rt.fits_leaf(size):
            targets.append(section.label)
        else:
            spans = pieces(view, section.start, section.end, chunk_bytes)
            targets.extend(f"chars:{a}-{b}" for a, b in spans)
    if len(targets) > budget.calls_left - 1:
        return None
    return ParsedTurn(actions=[Action(op="call", task=task, target=t) for t in targets])


def compose(view: ContextView, findings: list[Finding]) -> str:
    """One line per section, ``<title>: <what its calls found>``: verified findings joined,
    else the unverified ones marked, else "nothing found"."""
    sections = view.sections()
    found: dict[int, list[Finding]] = {s.number: [] for s in sections}
    for finding in findings:
        section = _section_of(view, sections, finding.action.removeprefix("CALL ").strip())
        if section is not None:
            found[section.number].append(finding)
    return "\n".join(f"{s.title}: {_line(found[s.number])}" for s in sections)


def _section_of(view: ContextView, sections: list[Section], target: str) -> Section | None:
    try:
        start, _ = view.span_of(view.parse(target))
    except TargetError:
        return None
    return next((s for s in sections if s.start <= start < s.end), None)


def _line(findings: list[Finding]) -> str:
    verified = [f for f in findings if f.verified]
    chosen = verified or findings
    answers = list({normalized(a): a for a in (_one_line(f.answer) for f in chosen)}.values())
    if not answers:
        return NOTHING_FOUND
    share = MAX_PART_LINE_CHARS // len(answers)
    leading = [_leading(answer, share) for answer in answers]
    # Pieces joined as one line: "... sequences; Emulating ...", not "sequences.; Emulating".
    line = leading[0] if len(leading) == 1 else "; ".join(a.rstrip(".") for a in leading)
    return line if verified else f"{line} {UNVERIFIED}"


def _one_line(answer: str) -> str:
    return " ".join(strip_marks(answer).split())


def _leading(answer: str, limit: int) -> str:
    """``answer``'s leading sentences that fit in ``limit`` characters, the first always: each
    still stands in its finding's answer, so what backed the finding backs it."""
    sentences = sentences_of(answer)
    kept = sentences[:1]
    for sentence in sentences[1:]:
        if len(" ".join([*kept, sentence])) > limit:
            break
        kept.append(sentence)
    return " ".join(kept)
