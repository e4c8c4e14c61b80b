"""The lines a question's names found, read before the planner's first turn: one call over
those sentences, taken only when they back its answer (a chain of two included). The text is
Python's own help topics (nobody here wrote it), the facts planted at random places, in several
shapes: a place reached through a chain, a sentence, a date, a number."""

from __future__ import annotations

import json
import re

import pytest
from langchain_core.messages import BaseMessage

from rlm_graph.graph.found_lines import in_full
from rlm_graph.testing import found_lines_text

from .conftest import make_rlm, planner, planted

CHAIN = ("Ysolde Marrick's mentor is Corwin Ashdale.", "Corwin Ashdale lives in Pellbrook.")
OTHER_CHAIN = ("Brannoc Vey's mentor is Tilda Orme.", "Tilda Orme lives in Ambersett.")
CHAIN_QUESTION = "In which town does Ysolde Marrick's mentor live?"


def reply(answer: str, *quotes: str) -> str:
    return json.dumps({"found": bool(answer), "answer": answer, "quotes": list(quotes)})


class Reader:
    """Reads the found lines: answers ``answer``, quoting the lines that hold its first word;
    it keeps what it was given."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.read: list[str] = []

    def __call__(self, messages: list[BaseMessage]) -> str:
        text = found_lines_text(messages)
        self.read.append(text)
        quotes = [line for line in text.splitlines() if self.answer.split()[0] in line]
        return reply(self.answer, *quotes)


def never_planned(messages, turn):
    raise AssertionError("the planner was asked, though the found lines answered")


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_chain_of_two_found_facts_is_read_and_answered_in_one_call(seed):
    text = planted(seed, [*CHAIN, *OTHER_CHAIN])
    reader = Reader("Pellbrook")
    result = await make_rlm(planner(never_planned, found=reader)).ainvoke(
        {"query": CHAIN_QUESTION, "context": text}
    )
    assert result.answer == "Pellbrook"
    assert result.grounded
    assert {c["quote"] for c in result.citations} == set(CHAIN)
    # The reader got the two facts, in the text's order, and nothing of the other chain.
    assert sorted(reader.read[0].splitlines()) == sorted(CHAIN)
    assert result.usage.model_calls == 1


@pytest.mark.parametrize(
    ("shape", "fact", "question", "answer"),
    [
        (
            "sentence",
            "Everyone who moves to Wenbury soon learns to paddle a canoe through the reeds.",
            "What does a newcomer to Wenbury learn to do?",
            "paddle a canoe through the reeds",
        ),
        (
            "date",
            "The observatory at Kestmoor first opened on 14 March 1931.",
            "When did the Kestmoor observatory open?",
            "14 March 1931",
        ),
        (
            "number",
            "The ferry from Dunstead carries at most 883 passengers.",
            "How many passengers can the Dunstead ferry carry?",
            "883",
        ),
    ],
)
async def test_a_fact_the_named_lines_hold_is_answered_from_them_in_any_shape(
    shape, fact, question, answer
):
    reader = Reader(answer)
    result = await make_rlm(planner(never_planned, found=reader)).ainvoke(
        {"query": question, "context": planted(7, [fact])}
    )
    assert result.grounded
    assert [c["quote"] for c in result.citations] == [fact]
    # A value as read; a phrase of common words is part of its sentence: the sentence.
    assert result.answer == (fact if shape == "sentence" else answer)


async def test_an_answer_the_found_lines_do_not_back_goes_to_the_planner():
    text = planted(4, [*CHAIN, *OTHER_CHAIN])
    planned: list[int] = []

    def turns(messages, turn):
        planned.append(turn)
        return 'FINAL("not found")'

    result = await make_rlm(planner(turns, found=Reader("Ambersett"))).ainvoke(
        {"query": CHAIN_QUESTION, "context": text}
    )
    assert planned == [0]  # the planner started as it would have
    assert result.answer == "not found" and not result.grounded
    assert result.usage.model_calls == 2  # the read is charged


async def test_a_question_for_every_item_is_left_to_the_planner():
    text = planted(5, [*CHAIN, *OTHER_CHAIN])
    reader = Reader("Pellbrook")
    result = await make_rlm(planner(['FINAL("not found")'], found=reader)).ainvoke(
        {"query": "Which towns do Ysolde Marrick's friends live in?", "context": text}
    )
    assert reader.read == []  # no reading of one name's lines for a list
    assert result.usage.model_calls == 1


def kind_judge(messages: list[BaseMessage]) -> str:
    """Asked what a phrase names: the chain's town is a place, anything else a person."""
    phrase = re.search(r'"(.+?)"', str(messages[-1].content)).group(1)
    return json.dumps({"names": "place" if phrase == "Pellbrook" else "person"})


@pytest.mark.parametrize(("answer", "planned"), [("Corwin Ashdale", True), ("Pellbrook", False)])
async def test_an_answer_of_another_kind_than_asked_goes_to_the_planner(answer, planned):
    """The middle of the chain (a person, backed by the first fact) for "in which town"."""
    asked: list[int] = []

    def turns(messages, turn):
        asked.append(turn)
        return 'FINAL("not found")'

    model = planner(turns, found=Reader(answer)).model_copy(update={"judge": kind_judge})
    result = await make_rlm(model, judge=True).ainvoke(
        {"query": CHAIN_QUESTION, "context": planted(6, [*CHAIN, *OTHER_CHAIN])}
    )
    assert bool(asked) is planned
    assert result.grounded is not planned


def test_words_of_no_value_are_answered_with_their_sentence():
    question = "What does everyone who moves to Yarstead soon learn to do?"
    sentence = (
        "Everyone who moves to Yarstead soon learns to swim in the cold pools below the weir."
    )
    run_on = f"A line with no full stop, overriding its own {sentence}"  # planted mid-line
    cited = [{"quote": run_on, "start": 10}]
    assert in_full("swim", [sentence], cited, question) == sentence  # the quote, held whole
    assert in_full("swim", ["Everyone ... learns to swim in the sea."], cited, question) == run_on
    assert in_full("swim", [], cited, question) == run_on
    for value in ("1937", "Edda Underhay", "the Selmoor office"):  # a figure, a name: as given
        assert in_full(value, [sentence], cited, question) == value


OTHER_WORDS = "Which cartographer sketched the earliest chart of Yarcombe?"
MAP_FACT = "The first map of Yarcombe was drawn by Bram Corrigan."


@pytest.mark.parametrize("judged", [False, True])
@pytest.mark.parametrize("verb", ["sketched", "produced"])
async def test_a_found_sentence_in_other_words_is_taken_only_when_a_reader_agrees(judged, verb):
    """No word of the question but the town's name stands in the sentence: words cannot say
    it answers; a reader of the sentence alone can (the fake one reads the passage back).
    "produced" stands elsewhere in the help text, "sketched" nowhere: either way the name
    that found the sentence is no evidence that it answers."""
    asked: list[int] = []

    def turns(messages, turn):
        asked.append(turn)
        return 'FINAL("not found")'

    result = await make_rlm(planner(turns, found=Reader("Bram Corrigan")), judge=judged).ainvoke(
        {"query": OTHER_WORDS.replace("sketched", verb), "context": planted(8, [MAP_FACT])}
    )
    assert bool(asked) is not judged
    assert result.grounded is judged
    if judged:
        assert result.answer == "Bram Corrigan"
        assert [c["quote"] for c in result.citations] == [MAP_FACT]


async def test_a_reader_that_finds_no_answer_in_the_sentence_leaves_it_to_the_planner():
    def nothing(messages):
        return json.dumps({"found": False, "answer": ""})

    model = planner(['FINAL("not found")'], found=Reader("Bram Corrigan"))
    result = await make_rlm(model.model_copy(update={"judge": nothing}), judge=True).ainvoke(
        {"query": OTHER_WORDS, "context": planted(9, [MAP_FACT])}
    )
    assert result.answer == "not found" and not result.grounded


class UnsureReader(Reader):
    """Gives its answer and says it did not find it (as the 0.5B did: "climb the old signal
    tower", ``"found": false``, for the best thing to do in Tarnford)."""

    def __call__(self, messages: list[BaseMessage]) -> str:
        said = json.loads(super().__call__(messages))
        return json.dumps({**said, "found": False})


@pytest.mark.parametrize(
    ("fact", "question", "answer"),
    [
        (MAP_FACT, OTHER_WORDS, "Bram Corrigan"),
        (
            "The best thing to do in Tarnford is to climb the old signal tower.",
            "Which activity would you recommend above all to someone visiting Tarnford?",
            "climb the old signal tower",
        ),
        (
            "The bridge at Kelford opened on 15 September 1910.",
            "When did the Kelford bridge open?",
            "15 September 1910",
        ),
    ],
)
@pytest.mark.parametrize("agrees", [True, False])
async def test_an_answer_its_reader_calls_not_found_is_taken_only_when_the_reader_of_its_sentence_agrees(
    fact, question, answer, agrees
):
    asked: list[int] = []

    def turns(messages, turn):
        asked.append(turn)
        return 'FINAL("not found")'

    def nothing(messages):
        return json.dumps({"found": False, "answer": ""})

    model = planner(turns, found=UnsureReader(answer))
    if not agrees:
        model = model.model_copy(update={"judge": nothing})
    result = await make_rlm(model, judge=True).ainvoke(
        {"query": question, "context": planted(10, [fact])}
    )
    assert result.grounded is agrees and bool(asked) is not agrees
    if agrees:
        assert [c["quote"] for c in result.citations] == [fact]
        assert answer in result.answer
    else:
        assert result.answer == "not found"
