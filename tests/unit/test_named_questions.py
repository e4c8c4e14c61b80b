"""Questions that name someone or somewhere: the lines that name them are searched before the
planner's first turn, then the names those lines add (the second fact of a chain), and an
answer read off two linked facts is grounded on both. The text is Python's own help topics
(nobody here wrote it), with the facts planted at random places."""

from __future__ import annotations

import pytest

from rlm_graph.context import Chunking, open_context
from rlm_graph.evidence import Evidence
from rlm_graph.graph.chains import linking_passage
from rlm_graph.graph.name_search import question_names, search_names

from .conftest import HELP, make_rlm, planner, planted

CHUNKING = Chunking(chunk_tokens=500, overlap_tokens=25)

CHAIN = (
    "Maelis Thistlewood reports to Zofia Dunstaple.",
    "Zofia Dunstaple works in the Selmoor office.",
)
OTHER_CHAIN = (
    "Odile Greywell reports to Edda Kettleby.",
    "Edda Kettleby works in the Fenbury office.",
)
QUESTION = "In which office does Maelis Thistlewood's manager work?"


def test_the_names_a_question_gives_are_its_capitalised_words_inside_it():
    assert question_names(QUESTION) == ["Maelis Thistlewood"]
    assert question_names("What do the people of Kelwold gather to do?") == ["Kelwold"]
    assert question_names("Which file defines `run_one`?") == []
    assert question_names("Who wrote it?") == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_both_facts_of_a_chain_are_shown_and_no_other(seed):
    text = planted(seed, [*CHAIN, *OTHER_CHAIN])
    view = open_context(text)
    found = search_names(view, QUESTION, CHUNKING)
    assert "Lines that name `Maelis Thistlewood`" in found.text
    assert "Lines that name `Zofia Dunstaple`, a name the lines above give" in found.text
    assert all(fact in found.text for fact in CHAIN)
    assert not any(fact in found.text for fact in OTHER_CHAIN)
    assert found.text.count(CHAIN[0]) == 1  # a line is shown once, and counted once
    assert found.text.count("1 match\n") == 2
    # The chunks to read first are the two that hold the facts.
    assert found.chunks == sorted({view.chunk_of(text.index(f), CHUNKING) for f in CHAIN})


def test_a_name_on_many_lines_keys_nothing_and_is_not_shown():
    view = open_context(HELP)
    assert HELP.count("Python") > 20
    assert search_names(view, "What does Python do with a bare except?", CHUNKING).text == ""


def test_a_name_the_text_lacks_is_said_to_be_nowhere():
    found = search_names(open_context(HELP), "Where does Kelwold stand?", CHUNKING)
    assert "no matches for 'Kelwold'" in found.text and not found.chunks


def _item(text: str, sentence: str) -> Evidence:
    start = text.encode().index(sentence.encode())
    return Evidence(quote=sentence, start=start, end=start + len(sentence), verified=True)


def test_the_second_fact_is_about_the_question_only_after_the_first():
    text = planted(4, [*CHAIN, *OTHER_CHAIN])
    second, first = _item(text, CHAIN[1]), _item(text, CHAIN[0])
    other_first, other_second = _item(text, OTHER_CHAIN[0]), _item(text, OTHER_CHAIN[1])
    everything = [first, second, other_first, other_second]
    assert linking_passage(QUESTION, "Selmoor", second, everything, None) == first
    # The other chain's place: no passage holds Maelis Thistlewood and Edda Kettleby.
    assert linking_passage(QUESTION, "Fenbury", other_second, everything, None) is None
    # A passage that says something else is no answer, linked or not.
    assert linking_passage(QUESTION, "Fenbury", second, everything, None) is None
    # The middle of the chain restated as the answer (the 0.5B's reply) is no second fact.
    middle = "Maelis Thistlewood's manager works in the office of Zofia Dunstaple."
    assert linking_passage(QUESTION, middle, second, everything, None) is None
    right = "Maelis Thistlewood's manager works in the Selmoor office."
    assert linking_passage(QUESTION, right, second, everything, None) == first


@pytest.mark.parametrize(("answer", "grounded"), [("Selmoor", True), ("Fenbury", False)])
async def test_an_answer_read_off_the_two_searched_facts_is_grounded_on_both(answer, grounded):
    text = planted(5, [*CHAIN, *OTHER_CHAIN])
    shown: list[str] = []

    def turns(messages, turn):
        if turn == 0:
            shown.append(str(messages[-1].content))
            return 'GREP("office")' if answer == "Fenbury" else f'FINAL("{answer}")'
        return f'FINAL("{answer}")'

    result = await make_rlm(planner(turns)).ainvoke({"query": QUESTION, "context": text})
    assert CHAIN[1] in shown[0]
    assert result.grounded is grounded
    if grounded:
        assert result.answer == "Selmoor"
        assert {c["quote"] for c in result.citations} == set(CHAIN)
    else:  # seen through the planner's own GREP, and about someone else
        assert result.answer == "not found"
