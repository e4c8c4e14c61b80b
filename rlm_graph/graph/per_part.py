"""The per-part step: a question that asks the same of every part of a sectioned text ("For
each essay, say in one line what it is about") gives each section its own CALL with the
part's own task, and the answer is composed from their results, one line per section, in the
text's order. No planner turn is spent on laying out the calls, and no reducer on composing:
each line is its section's own findings, so each claim keeps its own passages.

A section too long for one sub-call is read in pieces when no level of depth is left for a
sub-planner; its line then joins what the pieces found.

Asked what each part is about, a line is backed only when it names what sets its part apart
(:func:`about_their_parts`): any sentence of a part stands in it, but not every one says what
the part is about.
"""

from __future__ import annotations

import math
from collections import Counter

from rlm_graph.budget import Budget
from rlm_graph.configuration import RLMRuntime
from rlm_graph.context import ContextView
from rlm_graph.context.sections import Section, pieces
from rlm_graph.errors import TargetError
from rlm_graph.evidence import normalized, sentences_of, words_of
from rlm_graph.graph.findings import strip_marks
from rlm_graph.graph.messages import ChildResult, Finding
from rlm_graph.protocol import Action, ParsedTurn
from rlm_graph.questions import asks_per_part, asks_what_about, part_task

NOTHING_FOUND = "nothing found"
UNVERIFIED = "(unverified)"
# "In one line": a part's line keeps its findings' leading sentences up to about this many
# characters (fresh seed 64: a leaf quoted a whole 820-character paragraph as its line).
MAX_PART_LINE_CHARS = 300
# What sets a part apart: the words of its first lines that not every part holds, and its this
# many most distinctive words (by tf-idf against the other parts), as their first letters.
TOPIC_WORDS = 10
TOPIC_FIRST_LINES = 2
TOPIC_WORD_LETTERS = 5
# A part's words are counted in this much of it from its start (a part can be any size), its
# first lines read in this much.
TOPIC_SAMPLE_BYTES = 200_000
TOPIC_FIRST_BYTES = 4096


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
    """``answer``'s leading sentences that fit in ``limit`` characters, the first always, cut
    at a word to ``MAX_PART_LINE_CHARS`` when longer (fresh seed 82: the 0.5B looped "...
    container types, and using __class_getitem__() to emulate callable objects, ..." for
    thousands of characters with no full stop). Each piece still stands in its finding's
    answer, so what backed the finding backs it."""
    sentences = sentences_of(answer)
    kept = sentences[:1]
    for sentence in sentences[1:]:
        if len(" ".join([*kept, sentence])) > limit:
            break
        kept.append(sentence)
    line = " ".join(kept)
    if len(line) > MAX_PART_LINE_CHARS:
        line = line[: MAX_PART_LINE_CHARS + 1].rsplit(" ", 1)[0].rstrip(",;:") + " ..."
    return line


def about_their_parts(
    view: ContextView, question: str, results: list[ChildResult]
) -> list[ChildResult]:
    """The per-part step's results, a verified one left unverified when the question asks
    what each part is about and its answer names nothing that sets its part apart (fresh
    seeds 79 and 80: "The positional information can be missing." stood in the part on
    Python's types, and was its line). Any sentence of a part is located in it; only one that
    names the part's topic says what the part is about."""
    if not asks_what_about(question):
        return results
    sections = view.sections()
    topics = topic_words(view, sections)
    kept: list[ChildResult] = []
    for result in results:
        section = _section_of(view, sections, result.action.removeprefix("CALL ").strip())
        off_topic = section is not None and not _keys(result.answer or "") & topics[section.number]
        if result.verified and off_topic:
            result = result.model_copy(update={"verified": False, "off_question": True})
        kept.append(result)
    return kept


def topic_words(view: ContextView, sections: list[Section]) -> dict[int, frozenset[str]]:
    """Per section number: what sets it apart from the other sections (``TOPIC_WORDS``)."""
    counts: list[Counter[str]] = []
    firsts: list[set[str]] = []
    for section in sections:
        text = view.text(section.start, min(section.end, section.start + TOPIC_SAMPLE_BYTES))
        counts.append(Counter(_key_list(text)))
        firsts.append(_first_lines(view, section))
    spread = Counter(key for count in counts for key in count)
    # A title's words every title holds ("Part" of "=== Part 2 ===") set no part apart.
    titled = [_keys(section.title) for section in sections]
    common = set.intersection(*titled) if titled else set()
    n = len(sections)
    topics: dict[int, frozenset[str]] = {}
    for section, count, first, title in zip(sections, counts, firsts, titled, strict=True):
        total = sum(count.values()) or 1
        score = {key: k / total * math.log(n / spread[key]) for key, k in count.items()}
        best = sorted((key for key in score if score[key] > 0), key=lambda k: (-score[k], k))
        topics[section.number] = frozenset(best[:TOPIC_WORDS]) | first | (title - common)
    return topics


def _first_lines(view: ContextView, section: Section) -> set[str]:
    """The words of a section's first lines after its heading line (a file's first lines)."""
    end = min(section.end, section.heading + TOPIC_FIRST_BYTES)
    lines = [line for line in view.text(section.heading, end).splitlines() if line.strip()]
    if lines and section.title.strip() and section.title.strip() in lines[0]:
        lines = lines[1:]
    return _keys(" ".join(lines[:TOPIC_FIRST_LINES]))


def _key_list(text: str) -> list[str]:
    return [w[:TOPIC_WORD_LETTERS] for w in words_of(text) if not w.isdigit()]


def _keys(text: str) -> set[str]:
    return set(_key_list(text))
