"""The review of a root's answer: one of the kind the question asks for (a town for "in which
town"), and a list answer whose leaves missed items completed from sentences worded like its
backing passages, each read by the judge alone; other answers are left as they are."""

from __future__ import annotations

import json
import re

import pytest

from rlm_graph import prompts
from rlm_graph.samples import make_haystack
from rlm_graph.testing import is_judge_prompt, leaf_text
from tests.unit.conftest import chunk_calls, make_rlm, planner

LEARNS = {
    "Yarthorpe": "watch glassblowers shape bottles in the furnace yard",
    "Eskby": "watch the lantern boats drift along the canal at dusk",
    "Eskcombe": "feed the tame herons beside the slipway",
}
QUESTION = (
    "For each town where the text says what everyone who moves there soon learns to do, what is it?"
)


def text_with(sentences: list[str]) -> str:
    lines = make_haystack(24_000, seed=5).split("\n")
    for at, sentence in zip((15, 80, 140, 200), sentences, strict=False):
        lines.insert(at, sentence)
    return "\n".join(lines)


def spread_out(sentences: list[str]) -> str:
    """A text with each sentence in a chunk of its own, every one among the 12 a planner
    CALLs."""
    lines = make_haystack(24_000, seed=5).split("\n")
    for at, sentence in zip((15, 45, 80), sentences, strict=True):
        lines.insert(at, sentence)
    return "\n".join(lines)


def moves(town: str) -> str:
    return f"Everyone who moves to {town} soon learns to {LEARNS[town]}."


def leaf_that_sees_only(town: str):
    """A small leaf that reads one of the items and misses the others in its slice."""

    def leaf(messages):
        sentence = moves(town)
        if sentence in leaf_text(messages):
            return json.dumps({"found": True, "answer": LEARNS[town], "quotes": [sentence]})
        return json.dumps({"found": False, "answer": "", "quotes": []})

    return leaf


def reading_judge(messages):
    """Answers from the passage alone: what it says everyone who moves there learns."""
    passage = str(messages[-1].content).split("Question:")[0]
    match = re.search(r"soon learns to ([^.]+)\.", passage)
    return json.dumps({"found": bool(match), "answer": match.group(1) if match else ""})


def turns_answering(answer: str):
    def turns(messages, turn):
        return chunk_calls(QUESTION, 12) if turn == 0 else f'FINAL("{answer}")'

    return turns


def judged(model) -> int:
    return sum(1 for messages in model.calls if is_judge_prompt(messages))


async def test_a_list_answer_gets_the_items_its_leaves_missed_each_grounded():
    text = text_with([moves(town) for town in LEARNS])
    model = planner(
        turns_answering(LEARNS["Yarthorpe"]), leaf=leaf_that_sees_only("Yarthorpe")
    ).model_copy(update={"judge": reading_judge})
    result = await make_rlm(model, judge=True).ainvoke({"query": QUESTION, "context": text})
    assert result.answer.splitlines() == [
        f"Yarthorpe: {LEARNS['Yarthorpe']}",  # led by its passage's town, as the swept ones
        f"Eskby: {LEARNS['Eskby']}",
        f"Eskcombe: {LEARNS['Eskcombe']}",
    ]
    assert result.grounded
    quotes = {citation["quote"] for citation in result.citations}
    assert quotes == {moves(town) for town in LEARNS}
    # Every swept sentence cost one judge call, charged to the run.
    assert result.usage.model_calls == sum(1 for _ in model.calls)


async def test_a_final_nothing_backs_gives_way_to_the_findings_and_they_are_swept():
    """The planner's FINAL made up (nothing backs it) while a leaf verified one item: the
    answer is what the leaves verified, completed by the sweep like any list answer, and the
    FINAL is kept as the unverified answer (fresh seed 47: one observatory of three, grounded)."""
    text = text_with([moves(town) for town in LEARNS])
    invented = "visit the local museum"
    model = planner(turns_answering(invented), leaf=leaf_that_sees_only("Yarthorpe")).model_copy(
        update={"judge": reading_judge}
    )
    result = await make_rlm(model, judge=True).ainvoke({"query": QUESTION, "context": text})
    assert result.grounded
    assert {c["quote"] for c in result.citations} == {moves(town) for town in LEARNS}
    assert all(LEARNS[town] in result.answer for town in LEARNS)
    assert invented not in result.answer and result.unverified_answer == invented


async def test_a_sentence_that_shares_only_some_of_the_words_is_not_read():
    text = text_with(
        [
            moves("Yarthorpe"),
            "Everyone who moves house in spring hires a cart.",  # no "soon learns"
            "Everyone soon forgets the old road.",
        ]
    )
    model = planner(
        turns_answering(LEARNS["Yarthorpe"]), leaf=leaf_that_sees_only("Yarthorpe")
    ).model_copy(update={"judge": reading_judge})
    result = await make_rlm(model, judge=True).ainvoke({"query": QUESTION, "context": text})
    assert result.answer == f"Yarthorpe: {LEARNS['Yarthorpe']}" and result.grounded
    leaves_judged = 1  # the leaf's own finding; no sentence was swept
    assert judged(model) == leaves_judged


async def test_a_swept_sentence_the_judge_cannot_answer_from_adds_nothing():
    text = text_with([moves(town) for town in LEARNS])

    def judge_that_reads_only_yarthorpe(messages):
        passage = str(messages[-1].content).split("Question:")[0]
        found = "Yarthorpe" in passage
        return json.dumps({"found": found, "answer": LEARNS["Yarthorpe"] if found else ""})

    model = planner(
        turns_answering(LEARNS["Yarthorpe"]), leaf=leaf_that_sees_only("Yarthorpe")
    ).model_copy(update={"judge": judge_that_reads_only_yarthorpe})
    result = await make_rlm(model, judge=True).ainvoke({"query": QUESTION, "context": text})
    assert result.answer == f"Yarthorpe: {LEARNS['Yarthorpe']}"
    assert judged(model) == 1 + 2  # the leaf's finding, then the two swept sentences


async def test_a_reading_that_adds_to_its_passage_joins_in_the_passage_s_own_words():
    # The 0.5B, reading "The crate marked juniper carries the shipping tag 4379-MARTEN." for
    # a list question, answered "two crates: juniper and marten. Each crate carries ..."
    # (seed 39): what it read the passage for stands, in the passage's words; a reading that
    # names none of the passage's names or figures adds nothing.
    text = text_with([moves(town) for town in LEARNS])

    def embellishing_judge(messages):
        passage = str(messages[-1].content).split("Question:")[0]
        if "Eskby" in passage:
            return json.dumps({"found": True, "answer": "Eskby and Ravenholm: lantern boats"})
        if "Eskcombe" in passage:
            return json.dumps({"found": True, "answer": "the towns learn many crafts"})
        return reading_judge(messages)

    model = planner(
        turns_answering(LEARNS["Yarthorpe"]), leaf=leaf_that_sees_only("Yarthorpe")
    ).model_copy(update={"judge": embellishing_judge})
    result = await make_rlm(model, judge=True).ainvoke({"query": QUESTION, "context": text})
    assert result.answer.splitlines() == [f"Yarthorpe: {LEARNS['Yarthorpe']}", moves("Eskby")]
    assert "Ravenholm" not in result.answer and result.grounded
    assert {citation["quote"] for citation in result.citations} == {
        moves("Yarthorpe"),
        moves("Eskby"),
    }


FERRIES = {"Tarnstead": "2,223", "Ostwick": "2,399", "Eskcombe": "224"}
BOAT_QUESTION = (
    "Which towns have a boat service with a stated capacity, and how many people fit on one "
    "trip for each?"
)


def ferry(town: str) -> str:
    return f"The ferry from {town} carries {FERRIES[town]} passengers on each crossing."


def ferry_leaf(messages):
    """Finds the Tarnstead ferry only."""
    if ferry("Tarnstead") in leaf_text(messages):
        return json.dumps({"found": True, "answer": "2,223", "quotes": [ferry("Tarnstead")]})
    return json.dumps({"found": False, "answer": "", "quotes": []})


def ferry_reader(messages):
    """Reads a ferry's capacity off the passage it is given."""
    passage = str(messages[-1].content).split("Question:")[0]
    match = re.search(r"carries ([\d,]+) passengers", passage)
    return json.dumps({"found": bool(match), "answer": match.group(1) if match else ""})


def boat_turns(messages, turn):
    return chunk_calls(BOAT_QUESTION, 12) if turn == 0 else 'FINAL("Tarnstead: 2,223")'


async def test_a_list_question_in_other_words_is_swept_by_how_the_text_words_an_item():
    """No word of the question stands in the passage that backs its answer ("boat", "people",
    "fit" against "ferry", "passengers", "carries"): the sentences worded like that passage
    are read instead, and a sentence that holds only some of its words is not."""
    text = text_with([*map(ferry, FERRIES), "The ferry timetable is posted at each quay."])
    model = planner(boat_turns, leaf=ferry_leaf).model_copy(update={"judge": ferry_reader})
    result = await make_rlm(model, judge=True).ainvoke({"query": BOAT_QUESTION, "context": text})
    assert result.answer.splitlines() == ["Tarnstead: 2,223", "Ostwick: 2,399", "Eskcombe: 224"]
    assert result.grounded
    assert {c["quote"] for c in result.citations} == {ferry(town) for town in FERRIES}
    assert judged(model) == 1 + 2  # the leaf's finding, then the two sentences worded alike


FEASTS = {
    "Fenmere": "ski down the slopes behind the quarry",
    "Selby": "climb the old signal tower for a view over the salt flats",
    "Grishaven": "taste the plum brandy of the year",
}
HOLIDAY_QUESTION = "Which towns have a holiday custom, and how does each celebrate?"


def feast(town: str) -> str:
    return f"On feast days the people of {town} gather to {FEASTS[town]}."


def feast_leaf(messages):
    """Finds the Fenmere custom only."""
    if feast("Fenmere") in leaf_text(messages):
        return json.dumps(
            {"found": True, "answer": FEASTS["Fenmere"], "quotes": [feast("Fenmere")]}
        )
    return json.dumps({"found": False, "answer": "", "quotes": []})


def feast_reader(messages):
    """Reads a town's custom off the passage it is given."""
    passage = str(messages[-1].content).split("Question:")[0]
    match = re.search(r"people of (\w+) gather to ([^.]+)\.", passage)
    answer = f"{match.group(1)}: {match.group(2)}" if match else ""
    return json.dumps({"found": bool(match), "answer": answer})


async def test_a_list_of_sentences_in_other_words_is_completed_by_those_stated_alike():
    """Each custom is stated in words of its own: the words every backing passage holds
    ("people", "gather", "slopes", "behind") find no other item. The sentences stated as the
    backing passage is ("on feast days the people of _ gather") are read instead."""
    text = text_with([feast(town) for town in FEASTS])

    def turns(messages, turn):
        if turn == 0:
            return chunk_calls(HOLIDAY_QUESTION, 12)
        return f'FINAL("Fenmere: {FEASTS["Fenmere"]}")'

    model = planner(turns, leaf=feast_leaf).model_copy(update={"judge": feast_reader})
    result = await make_rlm(model, judge=True).ainvoke({"query": HOLIDAY_QUESTION, "context": text})
    assert result.grounded
    assert {c["quote"] for c in result.citations} == {feast(town) for town in FEASTS}
    assert all(town in result.answer for town in FEASTS)


async def test_the_sweep_in_other_words_is_read_by_the_judge_model(monkeypatch):
    """With the embedded 0.5B as every model, the finding and the sweep in other words are
    read by ``judge_model`` (here a fake under that spec), never by the 0.5B itself."""
    from rlm_graph import api
    from rlm_graph.models import ResolvedModel
    from rlm_graph.testing import ScriptedChatModel

    text = text_with(list(map(ferry, FERRIES)))
    reader = ScriptedChatModel(respond=ferry_reader, judge=None)
    real = api.resolve_model
    monkeypatch.setattr(
        api,
        "resolve_model",
        lambda spec, **kw: (
            ResolvedModel(chat=reader, name="fake:reader", window_tokens=8192)
            if spec == "local:1.5b"
            else real(spec, **kw)
        ),
    )
    small = planner(boat_turns, leaf=ferry_leaf).model_copy(update={"judge": ferry_reader})
    embedded = ResolvedModel(chat=small, name="local:0.5b", window_tokens=16_384)
    result = await make_rlm(embedded, judge=True, judge_model="local:1.5b").ainvoke(
        {"query": BOAT_QUESTION, "context": text}
    )
    assert result.grounded and len(result.answer.splitlines()) == 3
    assert judged(reader) == 1 + 2 and judged(small) == 0
    # Its calls are counted under its own name, not the planner's.
    by_model = result.usage_by_model
    assert by_model["fake:reader"].model_calls == len(reader.calls)
    assert by_model["local:0.5b"].model_calls == len(small.calls)
    assert sum(u.model_calls for u in by_model.values()) == result.usage.model_calls


async def test_a_twin_of_a_backing_passage_joins_even_when_the_reader_refuses_it():
    """The 1.5B reader, given the ferry from Ostwick after the one from Tarnstead, said the
    passage "does not provide information about" the question's words (seed 47, one
    observatory of three lost): a sentence that says what a backing passage says in the same
    words about another name or figure is another item, and joins in its own words."""
    text = text_with(list(map(ferry, FERRIES)))

    def refusing_reader(messages):
        passage = str(messages[-1].content).split("Question:")[0]
        if "Ostwick" in passage:
            return json.dumps({"found": True, "answer": "The passage does not say how many."})
        if "Eskcombe" in passage:
            return json.dumps({"found": False, "answer": ""})
        return ferry_reader(messages)

    model = planner(boat_turns, leaf=ferry_leaf).model_copy(update={"judge": refusing_reader})
    result = await make_rlm(model, judge=True).ainvoke({"query": BOAT_QUESTION, "context": text})
    assert result.answer.splitlines() == ["Tarnstead: 2,223", ferry("Ostwick"), ferry("Eskcombe")]
    assert result.grounded
    assert {c["quote"] for c in result.citations} == {ferry(town) for town in FERRIES}


async def test_a_sentence_worded_alike_but_no_twin_still_needs_the_reader():
    """Sharing the sweep's words is not enough to join without a reading: "The ferry from
    Ostwick carries mail ..." holds "ferry", "carries", "passengers" and "crossing" and says
    nothing of a capacity."""
    mail = "The ferry from Ostwick carries mail and passengers on each winter crossing."
    text = text_with([ferry("Tarnstead"), mail])
    model = planner(boat_turns, leaf=ferry_leaf).model_copy(update={"judge": ferry_reader})
    result = await make_rlm(model, judge=True).ainvoke({"query": BOAT_QUESTION, "context": text})
    assert result.answer == "Tarnstead: 2,223" and result.grounded


@pytest.mark.parametrize(
    ("sentence", "backing", "twin"),
    [
        (
            "The observatory above Kelmere stands 1,478 metres above sea level.",
            "The observatory above Wenmoor stands 2,211 metres above sea level.",
            True,
        ),
        (
            "Bram Corrigan drew the oldest map of Fenbury.",
            "Maelis Fenwright drew the oldest map of Pelthorpe.",
            True,
        ),
        (
            "The bridge at Corwold was completed on 1 March 1877.",
            "The bridge at Pelcombe was completed on 1903-09-20.",
            True,
        ),
        (
            "The crate marked basalt carries the shipping tag 5950-MARTEN.",
            "The crate marked juniper carries the shipping tag 7290-FINCH.",
            True,
        ),
        # Same words, no name or figure that differs: one sentence, or a rule of the text.
        ("Everyone soon learns the rules.", "Everyone soon learns the rules.", False),
        # A phrase of its own in place of another: the item the question asks is the phrase.
        (
            "The best thing to do in Ludby is to collect amber on the shingle beach.",
            "The best thing to do in Dunford is to listen to organ recitals in the palm house.",
            False,
        ),
        # One other word in a short frame says too little.
        ("See Kelmere for more.", "See Wenmoor for details.", False),
        (
            "The ferry from Ostwick carries mail.",
            "The ferry from Tarnstead carries 2,223 passengers.",
            False,
        ),
    ],
)
def test_twins_say_the_same_of_another_name_or_figure(sentence, backing, twin):
    from rlm_graph.graph.alike import twins

    assert twins(sentence, backing) is twin


@pytest.mark.parametrize(
    "question",
    [
        "What does everyone who moves to Yarthorpe soon learn to do?",  # asks for one
        "What does everyone who moves to a town soon learn, in summary?",  # open work
    ],
)
async def test_questions_that_do_not_ask_for_every_item_are_not_swept(question):
    text = text_with([moves(town) for town in LEARNS])
    model = planner(
        turns_answering(LEARNS["Yarthorpe"]), leaf=leaf_that_sees_only("Yarthorpe")
    ).model_copy(update={"judge": reading_judge})
    result = await make_rlm(model, judge=True).ainvoke({"query": question, "context": text})
    assert "Eskby" not in result.answer and "lantern" not in result.answer


HOPS = ("Fennick Sallow bought his boat from Nerys Cobbold.", "Nerys Cobbold was born in Osthaven.")
TOWNS = {"Osthaven"}


def town_judge(messages):
    """Reads a passage back; asked what a phrase names, knows its towns (the rest are people)."""
    if str(messages[0].content) == prompts.KIND_SYSTEM:
        phrase = re.search(r'"(.+?)"', str(messages[-1].content)).group(1)
        return json.dumps({"names": "place" if phrase in {*TOWNS, "a town"} else "person"})
    passage = str(messages[-1].content).split("Question:")[0].removeprefix("Passage:").strip()
    return json.dumps({"found": True, "answer": passage})


def grep_then_final(pattern: str, answer: str):
    def turns(messages, turn):
        return f'GREP("{pattern}")' if turn == 0 else f'FINAL("{answer}")'

    return turns


def hop_leaf(messages):
    """A leaf that reads the first link of the chain and nothing else."""
    if HOPS[0] in leaf_text(messages):
        return json.dumps({"found": True, "answer": "Nerys Cobbold", "quotes": [HOPS[0]]})
    return json.dumps({"found": False, "answer": "", "quotes": []})


async def test_a_person_given_for_in_which_town_is_not_found_and_kept_unverified():
    """The middle hop of a chain: the planner asked who sold the boat (a person, verified),
    then answered the town question with that person."""
    question = "In which town was the person who sold Fennick Sallow a boat born?"

    def turns(messages, turn):
        return (
            chunk_calls("Who sold Fennick Sallow a boat?", 12)
            if turn == 0
            else ('FINAL("Nerys Cobbold")')
        )

    model = planner(turns, leaf=hop_leaf).model_copy(update={"judge": town_judge})
    result = await make_rlm(model, judge=True).ainvoke(
        {"query": question, "context": text_with(list(HOPS))}
    )
    (finding,) = [r for r in result.records if r.kind == "leaf" and r.outcome == "found"]
    assert finding.verified  # "who sold the boat": a person, and this passage says so
    assert result.answer == "not found" and not result.grounded
    assert result.unverified_answer == "Nerys Cobbold"


async def test_an_answer_of_the_kind_asked_for_stays_grounded():
    model = planner(grep_then_final("was born in", "Osthaven")).model_copy(
        update={"judge": town_judge}
    )
    result = await make_rlm(model, judge=True).ainvoke(
        {"query": "In which town was Nerys Cobbold born?", "context": text_with(list(HOPS))}
    )
    assert result.answer == "Osthaven" and result.grounded
    assert judged(model) == 1  # what "Osthaven" is (a town is a place: no call)


async def test_a_leafs_finding_of_another_kind_is_not_verified():
    question = "In which town was the person who sold Fennick Sallow a boat born?"

    def turns(messages, turn):
        return chunk_calls(question, 12) if turn == 0 else 'FINAL("Nerys Cobbold")'

    verified = {}
    for judge in (False, True):
        model = planner(turns, leaf=hop_leaf).model_copy(update={"judge": town_judge})
        result = await make_rlm(model, judge=judge).ainvoke(
            {"query": question, "context": text_with(list(HOPS))}
        )
        (finding,) = [r for r in result.records if r.kind == "leaf" and r.outcome == "found"]
        verified[judge] = (finding.verified, result.grounded)
    assert verified[False] == (True, True)  # words alone: it names the question's names
    assert verified[True] == (False, False)


def sentence_reading_judge(messages):
    """As the 0.5B read whole sentences: one that says "town" names a place."""
    if str(messages[0].content) == prompts.KIND_SYSTEM:
        phrase = re.search(r'"(.+?)"', str(messages[-1].content)).group(1)
        place = phrase in TOWNS or "town" in phrase
        return json.dumps({"names": "place" if place else "person"})
    return town_judge(messages)


@pytest.mark.parametrize(
    ("answer", "grounded"),
    [
        ("Nerys Cobbold was born in the town of Fennick Sallow.", False),
        ("Nerys Cobbold was born in the town of Osthaven.", True),
    ],
)
async def test_an_answer_that_restates_the_question_is_judged_by_what_it_adds(answer, grounded):
    """Every word the sentence adds stands in a passage about Nerys Cobbold; what it adds is
    a person where a town is asked for, whatever the rest of the sentence says."""
    model = planner(grep_then_final("Nerys Cobbold", answer)).model_copy(
        update={"judge": sentence_reading_judge}
    )
    result = await make_rlm(model, judge=True).ainvoke(
        {"query": "In which town was Nerys Cobbold born?", "context": text_with(list(HOPS))}
    )
    assert result.grounded is grounded
    assert (result.answer == answer) is grounded


LAMBDAS = "This uses lambda expressions, described in section Lambdas."


def test_a_line_whose_passage_holds_none_of_the_question_s_words_leaves_a_list():
    """A 0.5B leaf's "This uses lambda expressions ..." stood verified beside "The best thing
    to do in Corhaven is ..." (fresh seed 56): the items of a list are stated alike, so the line
    whose passages hold none of the question's words leaves the answer when another line's
    passage holds them; a line nothing backs is left to merge, and a list whose passages all
    hold none (a question in other words) is left whole."""
    from rlm_graph.evidence import Evidence
    from rlm_graph.graph.messages import Finding
    from rlm_graph.graph.review import on_its_words

    def finding(quote: str, answer: str, at: int) -> Finding:
        return Finding.read_off(
            "CALL", "c1", answer, Evidence(quote=quote, verified=True, start=at)
        )

    yarthorpe = LEARNS["Yarthorpe"]
    findings = [finding(LAMBDAS, LAMBDAS, 10), finding(moves("Yarthorpe"), yarthorpe, 500)]
    answer = f"{LAMBDAS}\n{yarthorpe}\nsomething nothing backs"
    assert on_its_words(answer, findings, QUESTION) == f"{yarthorpe}\nsomething nothing backs"
    assert on_its_words(yarthorpe, findings, QUESTION) is None  # nothing goes
    assert on_its_words(LAMBDAS, findings, QUESTION) is None  # no line on the question's words


CHARTS = {"Wenby": "Emeric Yarrowby", "Corwick": "Bram Thistlewood", "Dunthorpe": "Caspian Sallow"}


def charted(town: str) -> str:
    return f"The earliest chart of {town} was drawn by {CHARTS[town]}."


def chart_leaf(messages):
    """A leaf that reads every chart sentence of its slice, each value with its sentence."""
    seen = [town for town in CHARTS if charted(town) in leaf_text(messages)]
    if not seen:
        return json.dumps({"found": False, "answer": "", "quotes": []})
    town = seen[0]
    return json.dumps({"found": True, "answer": CHARTS[town], "quotes": [charted(town)]})


def chart_judge(messages):
    """Answers from the passage alone: who drew the chart it names."""
    passage = str(messages[-1].content).split("Question:")[0]
    match = re.search(r"was drawn by ([^.]+)\.", passage)
    return json.dumps({"found": bool(match), "answer": match.group(1) if match else ""})


@pytest.mark.parametrize("judge", [False, True])
async def test_a_list_line_that_writes_one_value_over_and_over_is_given_as_its_passage(judge):
    """Fresh seed 56: the 0.5B planner wrote one line "... are: Emeric Yarrowby, Emeric
    Yarrowby, and Emeric Yarrowby." beside two good ones; its finding backed it, and the user
    read a line the text never says. The line is given as the passage that backs it."""
    question = "Which towns have an earliest chart credited to someone, and who drew each?"
    text = spread_out([charted(town) for town in CHARTS])
    garbled = "The cartographers are: Emeric Yarrowby, Emeric Yarrowby, and Emeric Yarrowby."
    final = f"{garbled}\\nCorwick: Bram Thistlewood\\nDunthorpe: Caspian Sallow"

    def turns(messages, turn):
        return chunk_calls(question, 12) if turn == 0 else f'FINAL("{final}")'

    model = planner(turns, leaf=chart_leaf).model_copy(update={"judge": chart_judge})
    result = await make_rlm(model, judge=judge).ainvoke({"query": question, "context": text})
    assert result.grounded
    lines = result.answer.splitlines()
    assert lines[0] == charted("Wenby")
    assert all(CHARTS[town] in result.answer for town in CHARTS)
    assert garbled not in result.answer
    # A line that writes each value once is left as the planner wrote it.
    assert "Bram Thistlewood" in lines[1] and lines[1] != charted("Corwick")


async def test_an_item_stated_right_after_another_is_read_for_itself():
    """Items of a list are often stated one sentence after another. The reader is given a
    passage with the sentence before it, and when that sentence is another item, it answered
    that one: the item after it was lost."""
    back_to_back = f"{moves('Eskby')}\n{moves('Eskcombe')}"
    text = text_with([moves("Yarthorpe"), back_to_back])
    model = planner(
        turns_answering(LEARNS["Yarthorpe"]), leaf=leaf_that_sees_only("Yarthorpe")
    ).model_copy(update={"judge": reading_judge})  # it reads the first item it is given
    result = await make_rlm(model, judge=True).ainvoke({"query": QUESTION, "context": text})
    assert result.grounded
    assert [line.split(":")[0] for line in result.answer.splitlines()] == [
        "Yarthorpe",
        "Eskby",
        "Eskcombe",
    ]
    assert {c["quote"] for c in result.citations} == {moves(town) for town in LEARNS}


async def test_a_verified_line_on_none_of_the_question_s_words_leaves_a_list_end_to_end():
    """Fresh seed 56: a leaf's "This uses lambda expressions, ..." was verified (a judge agreed
    with it) and stood, grounded, beside one right town. The line leaves the answer, kept as
    the unverified answer, and the items are swept from the line that is on the question."""

    def leaf(messages):
        if LAMBDAS in leaf_text(messages):
            return json.dumps({"found": True, "answer": LAMBDAS, "quotes": [LAMBDAS]})
        return leaf_that_sees_only("Yarthorpe")(messages)

    def agreeing_judge(messages):
        if "lambda" in str(messages[-1].content):
            return json.dumps({"found": True, "answer": LAMBDAS})
        return reading_judge(messages)

    text = text_with([LAMBDAS, *(moves(town) for town in LEARNS)])
    model = planner(turns_answering(f"{LAMBDAS}\\n{LEARNS['Yarthorpe']}"), leaf=leaf).model_copy(
        update={"judge": agreeing_judge}
    )
    result = await make_rlm(model, judge=True).ainvoke({"query": QUESTION, "context": text})
    assert result.grounded
    assert "lambda" not in result.answer and LAMBDAS in (result.unverified_answer or "")
    assert all(LEARNS[town] in result.answer for town in LEARNS)
    assert all("lambda" not in c["quote"] for c in result.citations)


def every_town_leaf(messages):
    """A leaf that reads the first town sentence of its slice."""
    seen = [town for town in LEARNS if moves(town) in leaf_text(messages)]
    if not seen:
        return json.dumps({"found": False, "answer": "", "quotes": []})
    return json.dumps({"found": True, "answer": LEARNS[seen[0]], "quotes": [moves(seen[0])]})


async def test_a_list_line_that_runs_the_question_into_its_value_is_given_as_its_passage():
    """Fresh seed 58: "Kelwold: For each town whose people gather on feast days, they gather
    to do paper lanterns shaped like cranes." A line that runs on six or more of the
    question's words in a row is given as its passage; the other lines stay as written."""
    echoed = (
        f"Eskby: For each town where the text says what everyone learns, they {LEARNS['Eskby']}"
    )
    final = f"Yarthorpe: {LEARNS['Yarthorpe']}\\n{echoed}\\nEskcombe: {LEARNS['Eskcombe']}"
    model = planner(turns_answering(final), leaf=every_town_leaf).model_copy(
        update={"judge": reading_judge}
    )
    text = spread_out([moves(town) for town in LEARNS])
    result = await make_rlm(model, judge=True).ainvoke({"query": QUESTION, "context": text})
    assert result.grounded
    assert result.answer.splitlines() == [
        f"Yarthorpe: {LEARNS['Yarthorpe']}",
        moves("Eskby"),
        f"Eskcombe: {LEARNS['Eskcombe']}",
    ]


def test_a_list_line_that_names_its_item_is_not_labelled_with_another_name_of_its_passage():
    """Seed 47: "Python: The observatory above Wenmoor ..." - the passage that backed the line
    began in the sentence before it, and its name "Python" led a line that already said what
    it was about. A line that does not say where is still led by its sentence's names."""
    from rlm_graph.evidence import Evidence
    from rlm_graph.graph.findings import labelled
    from rlm_graph.graph.messages import Finding

    question = "Which towns have a telescope station, and what is each one called?"
    quote = "See the Python docs. The observatory above Wenmoor is called the Lantern Dome."
    finding = Finding.read_off("CALL", "c1", "Lantern Dome", Evidence(quote=quote, verified=True))
    named = "The observatory above Wenmoor is called the Lantern Dome."
    assert labelled(named, [finding], question) == named
    assert labelled("the Lantern Dome", [finding], question) == "Wenmoor: the Lantern Dome"


def test_a_repeated_value_in_other_capitals_than_its_passage_s_is_still_given_as_the_passage():
    """Fresh seed 59: "HERON: The Willow Archive, The Willow Archive, The Willow Archive" was
    grounded on "The access code for the willow archive is 4864-HERON." and kept, since the
    passage says "willow archive" in lower case: the user read no code for it."""
    from rlm_graph.evidence import Evidence
    from rlm_graph.graph.findings import from_passages
    from rlm_graph.graph.messages import Finding

    question = "Which archives does the text mention, and what is the access code for each archive?"
    quotes = {
        "willow": "The access code for the willow archive is 4864-HERON.",
        "violet": "The access code for the violet archive is 2318-EGRET.",
    }
    findings = [
        Finding.read_off("CALL", f"c{i}", quote, Evidence(quote=quote, verified=True, start=i))
        for i, quote in enumerate(quotes.values())
    ]
    garbled = "The Willow Archive, The Willow Archive, The Willow Archive"
    mentions = (  # the same run's first line
        "The text mentions the archives 'Violet Archive' and 'Violet Archive 2318-EGRET'. "
        "The access code for the violet archive is 2318-EGRET."
    )
    answer = from_passages(f"{mentions}\n{garbled}", findings, question)
    assert answer.splitlines() == [quotes["violet"], quotes["willow"]]


HABIT_QUESTION = (
    "For each town where the text says what everyone who moves there soon learns to do, what is it?"
)
HABITS = {
    "Ludthorpe": "Everyone who moves to Ludthorpe soon learns to follow the chalk path up to "
    "the ruined chapel.",
    "Ravstead": "Everyone who moves to Ravstead soon learns to drink mint tea in the courtyard "
    "of the weavers' guild.",
}


def test_a_line_that_gives_a_piece_of_its_item_is_given_as_its_passage():
    """Fresh seed 65: "Ravstead: weavers' guild" was grounded on "Everyone who moves to
    Ravstead soon learns to drink mint tea in the courtyard of the weavers' guild." and the
    user read a habit the text never gives. A line that leaves out a name or figure of its
    item, or says half or less of its other words, is given as its passage."""
    from rlm_graph.evidence import Evidence
    from rlm_graph.graph.findings import from_passages
    from rlm_graph.graph.messages import Finding

    findings = [
        Finding.read_off(
            "SWEEP",
            "c0",
            "weavers' guild",
            Evidence(quote=HABITS["Ravstead"], verified=True, start=1),
        ),
        Finding.read_off(
            "CALL",
            "c1",
            HABITS["Ludthorpe"],
            Evidence(quote=HABITS["Ludthorpe"], verified=True, start=2),
        ),
    ]
    whole = "Ludthorpe soon learns to follow the chalk path up to the ruined chapel."
    answer = from_passages(f"{whole}\nRavstead: weavers' guild", findings, HABIT_QUESTION)
    assert answer.splitlines() == [whole, HABITS["Ravstead"]]


@pytest.mark.parametrize(
    ("line", "quote", "question", "piece"),
    [
        (
            "The Willow Archive",
            "The access code for the willow archive is 4864-HERON.",
            "Which archives does the text mention, and what is the access code for each archive?",
            True,
        ),
        (
            "Kelford: 1910",
            "The bridge at Kelford was completed on 15 September 1910.",
            "For each town whose bridge the text gives a completion date for, when was it completed?",
            True,
        ),
        (
            "Velby: eat barley pancakes",
            "The best thing to do in Velby is to eat barley pancakes with honey at the station buffet.",
            "For each town the text names the best thing to do in, what is that best thing to do?",
            True,
        ),
        (
            "Quenhaven: 35,837",
            "The library of Quenhaven holds 35,837 bound volumes.",
            "Which towns' book collections have a stated size, and how large is each?",
            False,
        ),
        (
            "Thalhaven, Anselm Sallow",
            "The first map of Thalhaven was drawn by Anselm Sallow.",
            "Which towns have an earliest chart credited to someone, and which cartographer made each?",
            False,
        ),
        (
            "Kelford: 15 September 1910",
            "The bridge at Kelford was completed on 15 September 1910.",
            "For each town whose bridge the text gives a completion date for, when was it completed?",
            False,
        ),
        (
            "Gristhorpe: follow the chalk path up to the ruined chapel",
            "The best thing to do in Gristhorpe is to follow the chalk path up to the ruined chapel.",
            "For each town the text names the best thing to do in, what is that best thing to do?",
            False,
        ),
        (
            "The altitude of Dunmoor is 3,530 metres.",
            "The observatory above Dunmoor stands 3,530 metres above sea level.",
            "Which towns have a telescope station of known altitude, and what is the altitude of each?",
            False,
        ),
    ],
)
def test_a_piece_of_an_item_is_told_from_the_item_in_any_shape(line, quote, question, piece):
    from rlm_graph.graph.findings import _fragment_of

    assert _fragment_of(line, quote, question) is piece
