"""A list question whose leaves found no item: the reader of other words is asked what words
a sentence stating an item would hold, the sentences that hold them are read one at a time,
and each one read as an item joins the answer, grounded on its own sentence."""

from __future__ import annotations

import json
import re

import pytest

from rlm_graph import prompts
from rlm_graph.context import ContextView, TextStore
from rlm_graph.graph.phrase_search import (
    MAX_PHRASE_HITS,
    MAX_READ,
    key_terms,
    other_words,
    phrase_pattern,
    ranked_sentences,
)
from rlm_graph.models import ResolvedModel
from tests.unit.conftest import chunk_calls, make_rlm, planner, planted
from tests.unit.test_review import BOAT_QUESTION, FERRIES, ferry, ferry_reader

NOTHING = json.dumps({"found": False, "answer": "", "quotes": []})
QUAYS = ("Raymond Quay", "Ostwick Quay")  # two sentences stated alike, neither an item


def blind_leaf(messages):
    """A small leaf that reads its slice and finds no item in words other than the question's."""
    return NOTHING


def not_found_turns(messages, turn):
    return chunk_calls(BOAT_QUESTION, 12) if turn == 0 else f'FINAL("{prompts.NOT_FOUND}")'


def is_phrase_prompt(messages) -> bool:
    return str(messages[0].content) == prompts.OTHER_WORDS_SYSTEM


def reader_suggesting(phrases: list[str]):
    """A reader that gives ``phrases`` as the other words for any word, and reads a ferry's
    capacity off a passage."""

    def read(messages):
        if is_phrase_prompt(messages):
            return ", ".join(phrases)
        return ferry_reader(messages)

    return read


def read_sentences(model) -> int:
    """The passages put to the reader alone (not the thesaurus's calls)."""
    return sum(1 for m in model.calls if str(m[0].content) == prompts.JUDGE_SYSTEM)


def passages_read(model) -> list[str]:
    """The passages put to the reader alone, each as the reader saw it."""
    return [
        str(m[-1].content).split("Question:")[0]
        for m in model.calls
        if str(m[0].content) == prompts.JUDGE_SYSTEM
    ]


def phrase_prompts(model) -> int:
    return sum(1 for messages in model.calls if is_phrase_prompt(messages))


async def test_a_list_no_leaf_found_is_searched_in_the_text_s_words_and_grounded():
    text = planted(11, [ferry(town) for town in FERRIES])
    model = planner(not_found_turns, leaf=blind_leaf).model_copy(
        update={"judge": reader_suggesting(["ferry", "passengers"])}
    )
    result = await make_rlm(model, judge=True).ainvoke({"query": BOAT_QUESTION, "context": text})
    assert result.grounded
    assert sorted(result.answer.splitlines()) == sorted(
        f"{town}: {capacity}" for town, capacity in FERRIES.items()
    )
    assert {c["quote"] for c in result.citations} == {ferry(town) for town in FERRIES}
    assert phrase_prompts(model) == len(key_terms(BOAT_QUESTION))


async def test_a_list_whose_planner_stalls_with_no_answer_is_searched_too():
    """Fresh seed 58: every leaf found nothing, the planner re-sent its calls and, made to
    answer, wrote no FINAL; the run ended with no answer, and the search never ran."""
    text = planted(11, [ferry(town) for town in FERRIES])

    def stalling(messages, turn):
        return chunk_calls(BOAT_QUESTION, 12)  # every turn the same calls, never a FINAL

    model = planner(stalling, leaf=blind_leaf).model_copy(
        update={"judge": reader_suggesting(["ferry", "passengers"])}
    )
    result = await make_rlm(model, judge=True).ainvoke({"query": BOAT_QUESTION, "context": text})
    assert result.status == "done" and result.grounded
    assert {c["quote"] for c in result.citations} == {ferry(town) for town in FERRIES}


async def test_one_item_found_by_the_phrases_brings_its_twins():
    """The reader's phrases key one sentence only ("Tarnstead"); the sweep then reads the
    sentences worded like it, as it does for an item a leaf found."""
    text = planted(12, [ferry(town) for town in FERRIES])
    model = planner(not_found_turns, leaf=blind_leaf).model_copy(
        update={"judge": reader_suggesting(["Tarnstead"])}
    )
    result = await make_rlm(model, judge=True).ainvoke({"query": BOAT_QUESTION, "context": text})
    assert result.grounded
    assert len(result.answer.splitlines()) == 3
    assert {c["quote"] for c in result.citations} == {ferry(town) for town in FERRIES}


async def test_a_list_whose_items_are_not_in_the_text_stays_not_found():
    """The phrases key sentences of the help text; a reader that answers from none of them
    leaves the answer "not found", unverified."""
    text = planted(13, ["The ferry timetable is posted at each quay."])
    model = planner(not_found_turns, leaf=blind_leaf).model_copy(
        update={"judge": reader_suggesting(["ferry", "passengers", "function"])}
    )
    result = await make_rlm(model, judge=True).ainvoke({"query": BOAT_QUESTION, "context": text})
    assert result.answer == prompts.NOT_FOUND
    assert not result.grounded and result.citations == []
    assert phrase_prompts(model) == len(key_terms(BOAT_QUESTION))


async def searched_with_reading(seed: int, facts: list[str], reading: str):
    """A list no leaf found, searched with "ferry" for every word, each sentence read as
    ``reading``: the run's result and its model."""

    def reader(messages):
        if is_phrase_prompt(messages):
            return "ferry"
        return json.dumps({"found": True, "answer": reading})

    model = planner(not_found_turns, leaf=blind_leaf).model_copy(update={"judge": reader})
    text = planted(seed, facts)
    result = await make_rlm(model, judge=True).ainvoke({"query": BOAT_QUESTION, "context": text})
    return result, model


async def searched_with_phrases(seed: int, others: list[str], phrases: list[str]):
    """The ferries and ``others`` planted, a list no leaf found, searched with ``phrases`` for
    every word: the run's result and its model."""
    text = planted(seed, [*others, *(ferry(town) for town in FERRIES)])
    model = planner(not_found_turns, leaf=blind_leaf).model_copy(
        update={"judge": reader_suggesting(phrases)}
    )
    result = await make_rlm(model, judge=True).ainvoke({"query": BOAT_QUESTION, "context": text})
    return result, model


TIMETABLES = [f"The ferry timetable of {quay} is posted at noon." for quay in QUAYS]


async def test_a_reading_that_names_nothing_of_its_sentence_is_no_item():
    """A reader that answers with words of the sentence but no name or figure of it ("the
    ferry timetable") has read no item: nothing joins, and the answer stays not found."""
    result, model = await searched_with_reading(14, TIMETABLES, "the ferry timetable")
    assert result.answer == prompts.NOT_FOUND and not result.grounded
    read = passages_read(model)
    assert all(any(sentence in p for p in read) for sentence in TIMETABLES)  # read, as alike


async def test_a_reading_its_sentence_does_not_say_is_no_item():
    """A reader that answers the question with a figure the sentence does not hold (the 1.5B
    made up "the one made by Raymond" from a regex tutorial's sentence) reads no item."""
    invented = "The ferry from Raymond Quay carries 300 people."
    result, model = await searched_with_reading(16, TIMETABLES, invented)
    assert result.answer == prompts.NOT_FOUND and not result.grounded
    read = passages_read(model)
    assert all(any(sentence in p for p in read) for sentence in TIMETABLES)


async def test_a_sentence_stated_like_no_other_is_not_read():
    """A list's items stand alike in a text; the one sentence found by the thesaurus's words
    that opens like no other ("(credits to Raymond Hettinger ...)", which the 1.5B read as the
    maker of "the earliest chart") is never put to the reader."""
    lone = "The ferry timetable of Raymond Quay is posted at noon by the harbour master."
    result, model = await searched_with_reading(17, [lone], "Raymond Quay")
    assert result.answer == prompts.NOT_FOUND and not result.grounded
    assert not any(lone in p for p in passages_read(model))


async def test_without_a_reader_of_other_words_nothing_is_searched():
    """The embedded 0.5B is never its own reader of other words: with no other reader, a
    list no leaf found stays not found, and no phrase is asked for."""
    text = planted(15, [ferry(town) for town in FERRIES])
    small = planner(not_found_turns, leaf=blind_leaf).model_copy(
        update={"judge": reader_suggesting(["ferry"])}
    )
    embedded = ResolvedModel(chat=small, name="local:0.5b", window_tokens=16_384)
    result = await make_rlm(embedded, judge=True).ainvoke({"query": BOAT_QUESTION, "context": text})
    assert result.answer == prompts.NOT_FOUND and not result.grounded
    assert phrase_prompts(small) == 0


@pytest.mark.parametrize(
    ("phrase", "text", "matches"),
    [
        ("drawn by", "The first map was drawn by Ann.", True),
        ("drawn by", "It was drawn bytes first.", False),  # "by" whole, not "bytes"
        ("first maps", "The first map of Yarby", True),  # a word up to its ending
        ("passengers", "it carries 20 passenger cars", True),
        ("ferry", "a ferrous metal", False),
        ("maps", "the map room", True),
        ("feast day", "On feast-days the town", True),
    ],
)
def test_a_phrase_matches_its_words_in_a_row_up_to_their_endings(phrase, text, matches):
    import re

    pattern = phrase_pattern(phrase)
    assert pattern is not None
    assert bool(re.search(pattern, text, re.IGNORECASE)) is matches


@pytest.mark.parametrize("phrase", ["", "the of", "  "])
def test_a_phrase_of_stop_words_keys_nothing(phrase):
    assert phrase_pattern(phrase) is None


def test_sentences_are_ranked_by_phrases_held_and_a_common_phrase_counts_for_nothing():
    common = [f"Line {i} holds the common word station." for i in range(MAX_PHRASE_HITS + 5)]
    both = "The observatory above Kelmere stands 1,478 metres above sea level."
    one = "An observatory was planned but never built."
    lines = [*common[:20], one, *common[20:], both]
    view = ContextView(TextStore("\n".join(lines).encode()))
    groups = [["telescope", "observatory"], ["altitude", "sea level"], ["station"]]
    ranked = ranked_sentences(view, groups, [])
    assert [item.quote for item in ranked] == [one, both]  # in the text's order
    assert len(ranked) <= MAX_READ


def test_the_key_terms_are_the_question_s_phrases_and_words_less_names_and_asking_words():
    terms = key_terms("Which towns does the text say Ann Hale mapped, and when was each charted?")
    assert "hale" not in terms and "ann" not in terms and "text" not in terms
    assert {"town", "mapped", "charted"} <= set(terms)
    phrases = key_terms("Which towns have a holiday custom, and how does each celebrate?")
    assert phrases[0] == "holiday custom" and {"holiday", "custom"} <= set(phrases)


def test_the_key_terms_are_looked_up_as_a_thesaurus_lists_them():
    """Fresh seed 59: asked for "book collections", the 1.5B thesaurus repeated the phrase;
    for "book collection" it gave "library", the word of the text's "The library of Morthorpe
    holds 45,241 bound volumes.". Each word is looked up as its headword."""
    terms = key_terms("Which towns' book collections have a stated size, and how large is each?")
    assert terms[:2] == ["town book", "book collection"]
    assert "collection" in terms and "collections" not in terms and "towns" not in terms
    assert "libraries" not in key_terms("Which libraries hold old maps?")
    assert "library" in key_terms("Which libraries hold old maps?")
    assert "address" in key_terms("Which towns give an address for each guild?")  # not "addres"


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        ("map, graph, diagram", ["map", "graph", "diagram"]),
        ("chart, map, chart, map, chart", ["map"]),  # itself and repeats left out
        ("observatory, a station on a high hill over the town", ["observatory"]),
        ("1. height\n2. elevation", ["height"]),  # the first line only is a reply
    ],
)
def test_other_words_are_read_off_a_thesaurus_reply(reply, words):
    assert other_words(reply.split("\n")[0], "chart") == words


@pytest.mark.parametrize(
    ("reading", "only_its_own"),
    [
        # Reworded around the sentence's own name and figure ("meters" for "metres").
        ("Thalhaven has a telescope station of known altitude, at 434 meters.", True),
        ("Thalhaven, 434", True),
        ("The telescope station of Raymond stands at 434 metres.", False),  # a name of elsewhere
        ("Thalhaven stands 2,150 metres above sea level.", False),  # a figure of elsewhere
    ],
)
def test_a_reading_names_only_what_its_sentence_or_the_question_holds(reading, only_its_own):
    from rlm_graph.evidence import names_only_from

    sentence = "The observatory above Thalhaven stands 434 metres above sea level."
    question = "Which towns have a telescope station of known altitude, and what is it?"
    assert names_only_from(reading, sentence, question) is only_its_own


@pytest.mark.parametrize(
    ("sentence", "words"),
    [
        ("The first map of Eskwick was drawn by Oren Ravensworth.", ["the", "first", "map", "of"]),
        (
            "On feast days the people of Ludford gather.",
            ["on", "feast", "days", "the", "people", "of"],
        ),
        ("Tom Reed works in Leeds.", ["tom"]),  # a sentence's first word is no name
        ("Nothing here is named.", []),
    ],
)
def test_a_sentence_opens_with_its_words_before_its_first_name_or_figure(sentence, words):
    from rlm_graph.graph.alike import opening

    assert opening(sentence) == words


LIBRARIES = {"Morthorpe": "45,241", "Quenhaven": "35,837", "Wenford": "19,661"}
SHELF_QUESTION = "Which towns' book collections have a stated size, and how large is each?"


def library(town: str) -> str:
    return f"The library of {town} holds {LIBRARIES[town]} bound volumes."


def headword_thesaurus(messages):
    """A reader that, as a thesaurus, knows "book collection" and repeats any other phrase
    (the 1.5B on "book collections", fresh seed 59), and reads a library's size off a
    passage."""
    if is_phrase_prompt(messages):
        term = str(messages[-1].content)
        return "library, bookshelf" if term == "book collection" else f"{term}, {term}"
    passage = str(messages[-1].content).split("Question:")[0]
    match = re.search(r"holds ([\d,]+) bound volumes", passage)
    return json.dumps({"found": bool(match), "answer": match.group(1) if match else ""})


async def test_a_list_in_a_plural_the_thesaurus_knows_only_as_a_headword_is_found():
    text = planted(11, [library(town) for town in LIBRARIES])

    def turns(messages, turn):
        return chunk_calls(SHELF_QUESTION, 12) if turn == 0 else f'FINAL("{prompts.NOT_FOUND}")'

    model = planner(turns, leaf=blind_leaf).model_copy(update={"judge": headword_thesaurus})
    result = await make_rlm(model, judge=True).ainvoke({"query": SHELF_QUESTION, "context": text})
    assert result.grounded
    assert {c["quote"] for c in result.citations} == {library(town) for town in LIBRARIES}
    assert all(size in result.answer for size in LIBRARIES.values())


async def test_the_sentences_read_are_the_best_of_those_stated_alike():
    """Fresh seed 59: the three "The best thing to do in Ludholt is to ..." ranked 9th to 20th,
    behind sentences that hold more of the thesaurus's words but are stated like no other;
    only the first ``MAX_READ`` were weighed, and the list stayed "not found". The reads go
    to the best of the sentences stated alike."""
    lone = [
        f"Every quay near the {place} keeps a ferry bell for late arrivals."
        for place in (
            "mill",
            "church",
            "market",
            "bridge",
            "school",
            "harbour",
            "castle",
            "station",
            "tannery",
        )
    ]
    assert len(lone) > MAX_READ
    result, model = await searched_with_phrases(18, lone, ["quay", "ferry"])
    assert result.grounded
    assert {c["quote"] for c in result.citations} == {ferry(town) for town in FERRIES}
    assert read_sentences(model) <= MAX_READ


def test_a_sentence_not_admitted_gives_its_place_to_the_next_best():
    view = ContextView(TextStore(b"A ferry quay. A ferry. A quay stop. Lone words here."))
    groups = [["ferry"], ["quay"]]
    ranked = ranked_sentences(view, groups, [], admit=lambda item: "quay" not in item.quote)
    assert [item.quote for item in ranked] == ["A ferry."]


async def test_a_list_no_word_keys_is_found_among_the_text_s_own_lists():
    """Tuning seed 65: for "Which towns' singing groups have a known starter?" the 1.5B
    thesaurus gave "ensemble", "band", "beginner", never "choir" or "founded", and no sentence
    it keyed was read. The first sentence of each of the text's groups of sentences opened
    alike is read; the one read as an item brings its twins."""
    clocks = [f"The clock of {town} strikes {n} times at noon." for n, town in enumerate(QUAYS * 2)]
    result, model = await searched_with_phrases(19, clocks, ["vessel", "craft"])
    assert result.grounded
    assert {c["quote"] for c in result.citations} == {ferry(town) for town in FERRIES}
    assert sorted(result.answer.splitlines()) == sorted(
        f"{town}: {capacity}" for town, capacity in FERRIES.items()
    )
    read = passages_read(model)
    first = next(i for i, p in enumerate(read) if "The ferry from" in p)
    assert first > 0  # the larger list of clocks was read first, for nothing
    assert all("The ferry from" in p for p in read[first:])  # then no other list: the twins


async def test_a_reader_that_says_in_words_that_its_passage_holds_nothing_adds_nothing():
    """The 1.5B answered "found" with "The passage does not provide information about which
    towns ..." for "New in version 3.10." (a figure of it in no answer): such a reading is
    no item, and the list stays not found."""

    def refusing(messages):
        if is_phrase_prompt(messages):
            return "vessel, craft"
        passage = str(messages[-1].content).split("Question:")[0]
        figure = re.search(r"\d[\d.]*\d", passage)  # a figure of its own passage
        about = figure.group(0) if figure else "it"
        return json.dumps(
            {"found": True, "answer": f"The passage does not provide information about {about}."}
        )

    text = planted(20, [])  # the help text states "New in version 3.5." and the like
    model = planner(not_found_turns, leaf=blind_leaf).model_copy(update={"judge": refusing})
    result = await make_rlm(model, judge=True).ainvoke({"query": BOAT_QUESTION, "context": text})
    assert result.answer == prompts.NOT_FOUND and not result.grounded
    assert any("New in version" in p for p in passages_read(model))


@pytest.mark.parametrize(
    "question",
    [
        "Which towns have a boat service the Harbour Board lists, and how many fit on each?",
        "Which functions call `carries`, and in which file is each?",
    ],
)
async def test_a_list_question_that_names_its_subject_reads_no_list_of_the_text(question):
    """A question that names what it asks about (a name, a quoted identifier) finds its items
    by that name: the text's own lists are read for one that names nothing."""

    def turns(messages, turn):
        return chunk_calls(question, 12) if turn == 0 else f'FINAL("{prompts.NOT_FOUND}")'

    text = planted(19, [ferry(town) for town in FERRIES])
    model = planner(turns, leaf=blind_leaf).model_copy(
        update={"judge": reader_suggesting(["vessel", "craft"])}
    )
    result = await make_rlm(model, judge=True).ainvoke({"query": question, "context": text})
    assert result.answer == prompts.NOT_FOUND and not result.grounded
    assert not any("The ferry from" in p for p in passages_read(model))
