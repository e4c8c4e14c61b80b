"""A question in other words than the text's ("a repaired public timepiece" for "the clock
tower ... was restored"): no word of it stands in the passage that answers it, so the words
cannot say the passage is about it. The passage is then verified only by a reader given it
alone (the judge) who answers the question the same way; without a judge, or when the reader
does not, it stays unverified, and a child asked something else is not cited for it."""

from __future__ import annotations

import json

import pytest

from rlm_graph.context import open_context
from rlm_graph.evidence import check, relevance, says, words_in
from rlm_graph.samples import make_haystack
from rlm_graph.testing import is_judge_prompt, leaf_text
from tests.unit.conftest import chunk_calls, make_rlm, planner

NEEDLE = "The clock tower of Fencombe was restored by Fennick Greywell."
QUESTION = "Name every town with a repaired public timepiece in the text, and who repaired each."
OTHER = "The lighthouse on Marrow Point was painted by Ilsa Varrow."


def text() -> str:
    lines = make_haystack(20_000, seed=4).split("\n")
    lines.insert(70, NEEDLE)
    lines.insert(20, OTHER)
    return "\n".join(lines)


def leaf(messages):
    if NEEDLE in leaf_text(messages):
        return json.dumps({"found": True, "answer": "Fennick Greywell", "quotes": [NEEDLE]})
    return json.dumps({"found": False, "answer": "", "quotes": []})


def reader(answer_for_needle: str):
    def judge(messages):
        passage = str(messages[-1].content).split("Question:")[0]
        found = "clock tower" in passage and bool(answer_for_needle)
        return json.dumps({"found": found, "answer": answer_for_needle if found else ""})

    return judge


def turns(messages, turn):
    return chunk_calls(QUESTION, 12) if turn == 0 else 'FINAL("Fencombe: Fennick Greywell")'


def test_a_passage_in_other_words_is_left_to_a_reader_and_names_still_refuse():
    view = open_context(text())
    words = words_in(view)
    assert relevance(QUESTION, NEEDLE, words) == "reworded"
    verdict = check(view, json.dumps({"found": True, "answer": "Fennick Greywell", "quotes": [NEEDLE]}), QUESTION)  # fmt: skip
    assert not verdict.verified and verdict.reworded  # the words alone verify nothing
    # A question that names its town: a passage without that name is about something else.
    named = "Who repaired the public timepiece of Quenford?"
    assert relevance(named, NEEDLE, words) == "not_about"
    # A question that names nothing, and a passage that states nothing a reader can check (no
    # name, no figure): the 0.5B's judge agreed with such a sentence for a list of stores.
    stores = "List every records store the text gives an entry combination for."
    assert relevance(stores, "These are known as *soft keywords*.", words) == "not_about"
    assert relevance(stores, "__defaults__ = (None, None, None)", words) == "not_about"
    assert relevance(stores, "The vault of Ostby opens with 4417-LIME.", words) == "reworded"
    # A question in the text's own words that the passage does not answer stays refused.
    assert relevance("Who painted the lighthouse on Marrow Point?", NEEDLE, words) == "not_about"


@pytest.mark.parametrize(
    ("judge", "reading", "grounded"),
    [
        (True, "Fennick Greywell", True),  # a reader of the passage alone answers the same
        (True, "", False),  # the reader finds no answer in it
        (True, "Ilsa Varrow", False),  # the reader answers otherwise
        (False, "", False),  # no judge: nothing but words, and they do not say it
    ],
)
async def test_a_finding_in_other_words_is_verified_only_by_a_reader(judge, reading, grounded):
    model = planner(turns, leaf=leaf).model_copy(update={"judge": reader(reading)})
    result = await make_rlm(model, judge=judge).ainvoke({"query": QUESTION, "context": text()})
    assert result.grounded is grounded
    if grounded:
        assert result.answer == "Fencombe: Fennick Greywell"
        (citation,) = result.citations
        assert citation["quote"] == NEEDLE and citation["read_for"] == QUESTION
    else:
        assert result.answer == "not found"
    assert any(is_judge_prompt(m) for m in model.calls) is judge


async def test_a_reader_of_another_question_does_not_ground_the_users():
    """The planner asked its leaves something else ("Who restored a clock tower?"): the reader
    answered that question, not the user's, and the root does not cite it."""

    def drifted(messages, turn):
        if turn == 0:
            return chunk_calls("Who restored a clock tower?", 12)
        return 'FINAL("Fencombe: Fennick Greywell")'

    model = planner(drifted, leaf=leaf).model_copy(update={"judge": reader("Fennick Greywell")})
    result = await make_rlm(model, judge=True).ainvoke({"query": QUESTION, "context": text()})
    assert not result.grounded and result.answer == "not found"


def test_an_answer_is_not_said_by_a_passage_that_lacks_one_of_its_names():
    """Measured on the 0.5B (fresh seed 32): one sentence about two towns, the custom of one
    given to both, was verified by the passage about the one town alone."""
    passage = "On feast days the people of Wencombe gather to climb the old signal tower."
    both = "Selby climbs the old signal tower, while Wencombe climbs the old signal tower."
    assert not says(both, passage)
    assert says("Wencombe climbs the old signal tower.", passage)
    # A name the question gives may be said back without standing in the passage.
    assert says(
        "Wencombe climbs the old signal tower on feast days in Selby.",
        passage,
        question="What do people in Selby do?",
    )
