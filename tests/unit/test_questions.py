"""What a question asks for, read from its wording (``rlm_graph.questions``)."""

from __future__ import annotations

import pytest

from rlm_graph.bench.needles import TEMPLATES
from rlm_graph.bench.parts import PER_PART_QUESTION
from rlm_graph.questions import (
    asks_for_many,
    asks_per_part,
    asks_what_about,
    part_task,
    task_kind,
)


@pytest.mark.parametrize(
    "question",
    [
        "For each town whose people gather on feast days, what do they gather to do?",
        "For each town whose charter the text says was signed, on what date was it signed?",
        "For each function in the module, which file defines it?",
        "For every ship that sailed in May, who was its captain?",
    ],
)
def test_a_fact_of_every_thing_is_a_lookup_for_many_not_per_part_work(question):
    """Only a division of the text (a part, a section, an essay, a file) is asked about part
    by part; "for each town ..." asks for one fact of every town."""
    assert task_kind(question) == "lookup" and asks_for_many(question)
    assert not asks_per_part(question) and part_task(question) == question


@pytest.mark.parametrize(
    ("question", "task"),
    [
        (PER_PART_QUESTION.format(n=4), "Say in one line what it is mainly about."),
        ("This file holds several essays. For each essay, say what it argues.", "Say what"),
        ("For each of the chapters, who dies in it?", "Who dies in it?"),
        ("For each source file, list the classes it defines.", "List the classes"),
        ("In every section of the report: what does it say about costs?", "What does it say"),
    ],
)
def test_a_question_about_every_division_of_the_text_is_per_part_work(question, task):
    assert task_kind(question) == "open" and asks_per_part(question)
    assert part_task(question).startswith(task)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many passengers does the ferry from Kelwold carry on each crossing?", "lookup"),
        ("How many bound volumes does the library of Dunmere hold?", "lookup"),
        ("How many employees does Acme have?", "lookup"),
        ("How many ERROR lines?", "aggregate"),
        ("How many records have label invoice?", "aggregate"),
        ("How many functions call `_wait`?", "aggregate"),
        ("How many times does the word harbour appear?", "aggregate"),
        ("What is the number of records labelled refund?", "aggregate"),
        # No auxiliary: people are no unit of a text, lines, errors and users are.
        ("How many people fit on one trip of the boat that leaves Ostwick?", "lookup"),
        ("How many miles long is the canal?", "lookup"),
        ("How many errors were logged on Monday?", "aggregate"),
        ("How many users logged in on Monday?", "aggregate"),
        ("How many entries mention the harbour?", "aggregate"),
    ],
)
def test_a_figure_stated_about_one_thing_is_a_lookup_and_a_count_is_an_aggregate(question, kind):
    assert task_kind(question) == kind


def test_every_bench_needle_question_is_a_lookup_or_a_count_never_per_part_work():
    """The bench's needle questions in every shape, in the needle's words and in others: one
    asks for one fact, "multi" for every one; none is read as a question about each part."""
    for templates in TEMPLATES.values():
        for template in templates:
            for field in ("question", "paraphrase", "multi", "multi_paraphrase"):
                question = getattr(template, field)
                assert task_kind(question) != "open", question
                assert not asks_per_part(question), question
                if field.startswith("multi"):
                    assert asks_for_many(question), question


@pytest.mark.parametrize(
    ("question", "many"),
    [
        # "all" of an idiom asks for one thing (niah seed 73: "above all" was read as a list,
        # so the line the question's name found was not read first).
        ("Which activity would you recommend above all to someone visiting Tarnford?", False),
        ("Does the text mention a lighthouse at all?", False),
        ("After all, who founded the choir of Fenby?", False),
        ("What is the oldest bridge of all?", False),
        ("Which archives hold all of the charters?", True),
        ("List all towns with a ferry.", True),
        ("What do all the towns celebrate?", True),
        # A singular "which X do ..." asks for one; a plural one for every X.
        ("Which habit do newcomers to Ravstead pick up?", False),
        ("Which habits do newcomers to Ravstead pick up?", True),
        ("Which towns do the people of Selby visit?", True),
        ("Which are the oldest bridges?", True),
        ("Which towns does the text mention?", True),
    ],
)
def test_a_question_asks_for_many_only_when_its_words_ask_for_every_one(question, many):
    assert asks_for_many(question) is many


@pytest.mark.parametrize(
    ("question", "about"),
    [
        (PER_PART_QUESTION.format(n=4), True),
        ("For each essay, summarize it in one line.", True),
        ("What is each chapter about?", True),
        ("For each section, what is its main topic?", True),
        ("Give the gist of every article.", True),
        ("For each chapter, what does it say about money?", False),
        ("For each file, list the functions it defines.", False),
        ("What does the text say about the bridge?", False),
        ("For each letter, who wrote it and when?", False),
    ],
)
def test_what_a_part_is_about_is_told_from_what_it_says_of_a_thing(question, about):
    """Asked what a part is about, a line must name the part's topic; asked what it says of a
    thing, any sentence of it may answer."""
    assert asks_what_about(question) is about
