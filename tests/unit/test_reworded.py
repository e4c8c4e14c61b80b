"""A question in other words than the text's ("a repaired public timepiece" for "the clock
tower ... was restored"): no word of it stands in the passage that answers it, so the words
cannot say the passage is about it. The passage is then verified only by a reader given it
alone (the judge) who answers the question the same way; without a judge, or when the reader
does not, it stays unverified, and a child asked something else is not cited for it."""

from __future__ import annotations

import json

import pytest

from rlm_graph import api
from rlm_graph.context import open_context
from rlm_graph.evidence import check, relevance, says, words_in
from rlm_graph.graph.judge import agrees
from rlm_graph.models import ResolvedModel
from rlm_graph.samples import make_haystack
from rlm_graph.testing import ScriptedChatModel, is_judge_prompt, leaf_text
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


def embedded_small(chat) -> ResolvedModel:
    """A fake chat model under the embedded 0.5B's name: the default reader rule keys on it."""
    return ResolvedModel(chat=chat, name="local:0.5b", window_tokens=16_384)


async def test_the_embedded_small_model_is_not_its_own_reader_of_other_words():
    """Measured on the 0.5B: reading one passage for a list question in other words, it
    agreed with 4 of 8 passages about something else. Its findings stay unverified."""
    model = planner(turns, leaf=leaf).model_copy(update={"judge": reader("Fennick Greywell")})
    result = await make_rlm(embedded_small(model), judge=True).ainvoke(
        {"query": QUESTION, "context": text()}
    )
    assert result.answer == "not found" and not result.grounded
    assert result.unverified_answer == "Fencombe: Fennick Greywell"
    assert not any(is_judge_prompt(m) for m in model.calls)


def fake_1_5b_reader(monkeypatch) -> tuple[ScriptedChatModel, list[str]]:
    """``local:1.5b`` resolved to a fake reader of Fencombe's passage; the list records each
    time it is resolved (its server would start)."""
    judge_chat = ScriptedChatModel(respond=reader("Fennick Greywell"), judge=None)
    resolved: list[str] = []
    real = api.resolve_model

    def resolve(spec, **kwargs):
        if spec != "local:1.5b":
            return real(spec, **kwargs)
        resolved.append(spec)
        return ResolvedModel(chat=judge_chat, name="fake:reader", window_tokens=8192)

    monkeypatch.setattr(api, "resolve_model", resolve)
    return judge_chat, resolved


async def test_a_judge_model_reads_other_words_and_is_started_only_when_needed(monkeypatch):
    judge_chat, resolved = fake_1_5b_reader(monkeypatch)
    own = "Who restored the clock tower of Fencombe?"

    def own_then_other(messages, turn):
        asked = own if own in str(messages[-1].content) else QUESTION
        return chunk_calls(asked, 12) if turn in (0, 2) else 'FINAL("Fencombe: Fennick Greywell")'

    model = planner(own_then_other, leaf=leaf).model_copy(update={"judge": reader("Fennick Greywell")})  # fmt: skip
    rlm = make_rlm(embedded_small(model), judge=True, judge_model="local:1.5b")
    # A question in the text's own words is read by the leaf's model: no other is started.
    first = await rlm.ainvoke({"query": own, "context": text()})
    assert first.grounded and resolved == [] and not judge_chat.calls
    result = await rlm.ainvoke({"query": QUESTION, "context": text()})
    assert result.grounded and result.answer == "Fencombe: Fennick Greywell"
    assert resolved == ["local:1.5b"]  # once, on the first finding in other words
    assert any(is_judge_prompt(m) for m in judge_chat.calls)


@pytest.mark.parametrize(
    ("reading", "agreed"),
    [
        # The 1.5B restates the question and adds what the passage says.
        ("Dunstead has a boat service with a stated capacity of 883 passengers.", True),
        ("Dunstead has a boat service with a stated capacity of 450 passengers.", False),
        ("Velby has a boat service with a stated capacity of 883 passengers.", False),
    ],
)
def test_a_reading_that_restates_the_question_agrees_by_what_it_adds(reading, agreed):
    question = "Which towns have a boat service with a stated capacity, and how many people fit?"
    answer = "The ferry from Dunstead carries 883 passengers on each crossing."
    assert agrees(reading, answer, question) is agreed


def test_one_word_of_a_long_question_that_the_slice_holds_is_no_evidence():
    """Fresh seed 35 (0.5B): "looking up the name" was about "a habit that newcomers pick up",
    the one question word ("up") its slice held."""
    question = "Which towns have a habit that newcomers pick up, and what is the habit in each?"
    passage = "Unqualified names are resolved by looking up the name in the pick list."
    view = open_context(make_haystack(4_000, seed=2) + "\n" + passage + "\n")
    assert relevance(question, passage, words_in(view)) != "about"


def test_an_answer_in_other_words_that_claims_nothing_is_left_unverified():
    """Fresh seed 36 (0.5B leaf, 1.5B reader): "The crate" for every labelled box was verified,
    since any reading of the crate's passage holds the words "the crate"."""
    box = "The crate marked lagoon carries the shipping tag 9641-PLOVER."
    view = open_context(make_haystack(4_000, seed=3) + "\n" + box + "\n")
    question = "List every box the text gives a label for, with that label."

    def verdict(answer: str):
        return check(view, json.dumps({"found": True, "answer": answer, "quotes": [box]}), question)

    assert not verdict("The crate").reworded  # no name, no figure, no phrase of its own
    assert verdict("The crate marked lagoon: 9641-PLOVER").reworded  # left to a reader


def test_an_answer_in_other_words_keeps_facts_of_its_kind_and_drops_what_it_ran_on_into():
    """Fresh seed 36 (0.5B): "... 4,530 metres above sea level. Return a copy of the string
    left filled with ASCII '0'": the second sentence is a line of the slice, and it names
    something, so a reader might take it; it is another kind of fact, and is left out."""
    question = "Which towns have a telescope station of known altitude, and what is it for each?"
    first = "The observatory above Corcombe stands 4,530 metres above sea level."
    second = "The observatory above Halthorpe stands 4,031 metres above sea level."
    docs = "Return a copy of the string left filled with ASCII '0' digits."
    lines = make_haystack(6_000, seed=6).split("\n")
    lines[10:10] = [first, docs]
    lines.insert(40, second)
    view = open_context("\n".join(lines))

    def verdict(answer: str):
        return check(view, json.dumps({"found": True, "answer": answer, "quotes": []}), question)

    ran_on = verdict(f"{first} Return a copy of the string left filled with ASCII '0'")
    assert ran_on.reworded and ran_on.answer == first
    both = verdict(f"{first} {second}")
    assert both.reworded and both.answer == f"{first} {second}"
    assert {item.quote for item in both.evidence} == {first, second}


BEST = "For each town the text names the best thing to do in, what is that best thing to do?"
HABIT = "Which towns have a habit that newcomers pick up, and what is the habit in each?"
BRIDGE = "For each town whose bridge the text gives a completion date for, when was it completed?"
BOAT = "Which towns have a boat service with a stated capacity, and how many fit on one trip?"


@pytest.mark.parametrize(
    ("question", "line", "answer", "left_to_a_reader"),
    [
        # Echoes of text about something else: no item a list is made of.
        (BEST, "raise ValueError", "raise ValueError", False),
        (
            BEST,
            'To illustrate, the following examples all return a dictionary equal to "{"a": 1}":',
            "To illustrate, the following examples all return a dictionary equal to",
            False,
        ),
        (
            BEST,
            'Build a list and use "str.join()" or write to an "io.StringIO" instance.',
            "build a list and use str.join() or write to an io.StringIO instance",
            False,
        ),
        # A bare value, a line of code's output: it says of nothing that it is so (fresh
        # seed 47: "2010-07-04" read off "'2010-07-04 12:15:58'" for bridges' completion dates).
        (BRIDGE, "   '2010-07-04 12:15:58'", "2010-07-04", False),
        (BRIDGE, "   >>> d = datetime.datetime(2010, 7, 4, 12, 15, 58)", "2010, 7, 4", False),
        # An item: its passage names a town, or the answer a figure its passage tells of.
        (
            HABIT,
            "In Ostmoor, visitors soon learn to greet the baker by name.",
            "greet the baker by name",
            True,
        ),  # noqa: E501
        (
            BOAT,
            "The ferry from Dunstead carries 883 passengers on each crossing.",
            "883 passengers",
            True,
        ),  # noqa: E501
        (
            "List every box the text gives a label for, with that label.",
            "The crate marked juniper carries the shipping tag 4379-MARTEN.",
            "4379-MARTEN",
            True,
        ),
    ],
)
def test_an_item_of_a_list_in_other_words_names_what_it_is_about(
    question, line, answer, left_to_a_reader
):
    """Fresh seed 44 (0.5B leaves, 1.5B reader): for "For each town the text names the best
    thing to do in, what is it?" three leaves answered with a line of their slice, the reader
    echoed each, and the answer was grounded with "raise ValueError" among its towns."""
    view = open_context(make_haystack(4_000, seed=7) + "\n" + line + "\n")
    found = {"found": True, "answer": answer, "quotes": [line]}
    assert check(view, json.dumps(found), question).reworded is left_to_a_reader


async def test_the_installed_1_5b_reads_other_words_when_no_reader_is_named(monkeypatch):
    """With the embedded 0.5B as every model and nothing named, the embedded 1.5B (when
    installed) is the reader of findings in other words; it is started only then."""
    from rlm_graph.models import local

    judge_chat, resolved = fake_1_5b_reader(monkeypatch)
    monkeypatch.setattr(local, "default_rewording_reader", lambda: "local:1.5b")
    model = planner(turns, leaf=leaf).model_copy(update={"judge": reader("Fennick Greywell")})
    result = await make_rlm(embedded_small(model), judge=True).ainvoke(
        {"query": QUESTION, "context": text()}
    )
    assert result.grounded and result.answer == "Fencombe: Fennick Greywell"
    assert resolved == ["local:1.5b"]
    assert not any(is_judge_prompt(m) for m in model.calls)  # the 0.5B read nothing alone


def test_the_default_reader_is_the_1_5b_only_when_its_weights_are_installed(monkeypatch):
    from rlm_graph.models import local, weights

    monkeypatch.undo()  # the suite's own stand-in for the rule, taken away
    monkeypatch.setattr(weights.importlib.util, "find_spec", lambda name: None)
    assert local.default_rewording_reader() is None
    monkeypatch.setattr(weights.importlib.util, "find_spec", lambda name: object())
    assert local.default_rewording_reader() == "local:1.5b"
