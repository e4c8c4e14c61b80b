"""Needle shapes, ``absent`` and ``multi-hop``: what each shape's scoring accepts and rejects,
and the truth of the generated samples checked from their text."""

from __future__ import annotations

import re

import pytest

from rlm_graph.bench import score_answer
from rlm_graph.bench.corpus import Corpus, default_corpus
from rlm_graph.bench.needles import (
    ACTIVITIES,
    FIRST_NAMES,
    LAST_NAMES,
    TEMPLATES,
    TOWN_HEADS,
    TOWN_TAILS,
    names_shape_value,
    phrase_share,
    says_not_found,
)
from rlm_graph.bench.tasks import generate_sample
from rlm_graph.bench.text import stems

PERSON = re.compile(r"[A-Z][a-z]+ [A-Z][a-z]+")


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return default_corpus()


# ----- each shape accepts the truth in any usual writing, and nothing else -------------------
@pytest.mark.parametrize(
    ("shape", "value", "good", "bad"),
    [
        (
            "sentence",
            "swim in the cold pools below the weir",
            [
                "Swim in the cold pools below the weir!",
                "They like to swim at the weir's cold pools.",
                "**swim** in cold pools near the WEIR",
            ],
            ["search the tide pools for violet crabs", "the cold pools", "swimming", ""],
        ),
        (
            "name",
            "Ilsa Varrow",
            ["It was Ilsa Varrow.", "VARROW, Ilsa", "Ilsa M. Varrow", "ilsa varrow restored it"],
            ["Varrow", "Ilsa", "Ilsa Quennell and Oren Varrow", "Ilsa Varrows", "Mrs Varrow"],
        ),
        (
            "date",
            "14 March 1987",
            [
                "14 March 1987",
                "It opened on March 14, 1987.",
                "1987-03-14",
                "the 14th of March, 1987",
                "Mar. 14 1987",
                "14/03/1987",
                "3/14/1987",
                "1987/3/14",
            ],
            [
                "15 March 1987",
                "14 March 1986",
                "March 1987",
                "14 April 1987",
                "1987",
                "1987-03-15",
                "114 March 1987",
            ],
        ),
        (
            "number",
            "1,312",
            ["1312", "It carries 1,312 passengers.", "1 312 people", "about 1312."],
            ["11312", "1312.5", "1,313", "131", "2,1312", "one thousand three hundred"],
        ),
        (
            "code",
            "4821-KESTREL",
            ["The code is **4821-kestrel**.", "4821 KESTREL", "Code: 4821-Kestrel!"],
            ["14821-KESTREL", "4821-KESTRELS", "4821", "KESTREL", "NOT FOUND"],
        ),
    ],
)
def test_each_shape_names_its_value_in_any_rendering_and_nothing_else(shape, value, good, bad):
    for answer in good:
        assert names_shape_value(shape, value, answer), (shape, answer)
    for answer in bad:
        assert not names_shape_value(shape, value, answer), (shape, answer)
    assert not names_shape_value(shape, value, None)


def test_word_lists_keep_values_apart():
    towns = {h + t for h in TOWN_HEADS for t in TOWN_TAILS}
    assert len(towns) == len(TOWN_HEADS) * len(TOWN_TAILS)
    people = {n.lower() for n in FIRST_NAMES + LAST_NAMES}
    assert not people & {t.lower() for t in towns}
    assert len(set(FIRST_NAMES)) == len(FIRST_NAMES) >= 21
    assert len(set(LAST_NAMES)) == len(LAST_NAMES) >= 21
    assert len(set(ACTIVITIES)) == len(ACTIVITIES) >= 21
    # One activity never passes for another...
    for a in ACTIVITIES:
        for b in ACTIVITIES:
            if a != b:
                assert phrase_share(b, a) < 0.34, (a, b)
    # ...and an answer that only repeats a question or the needle's frame names none.
    for template in TEMPLATES["sentence"]:
        frame = template.fact.format(key="Kelwick", value="")
        for question in (template.question, template.paraphrase, frame):
            for a in ACTIVITIES:
                assert phrase_share(question.format(key="Kelwick"), a) == 0, (question, a)


def test_paraphrases_share_no_word_with_their_needle_but_the_key():
    for templates in TEMPLATES.values():
        for template in templates:
            frame = stems(template.fact.replace("{key}", "").replace("{value}", ""))
            for question in (template.paraphrase, template.multi_paraphrase):
                assert not frame & stems(question.replace("{key}", "")), question
            assert "{key}" not in template.multi + template.multi_paraphrase


@pytest.mark.parametrize("index", range(5))
def test_multi_niah_scores_each_shape_with_partial_recall(corpus, index):
    sample = generate_sample("multi-niah", corpus, 4000, index, seed=8)
    a, b, c = sample.expected
    partial = score_answer(sample, f"{a.upper()}; and also {b}.")
    assert not partial.correct and partial.recall == pytest.approx(2 / 3)
    assert score_answer(sample, f"{c}\n{a}\n{b}").correct
    assert score_answer(sample, sample.answer).correct
    assert score_answer(sample, None).recall == 0.0


# ----- absent -------------------------------------------------------------------------------
@pytest.mark.parametrize("index", range(8))
def test_absent_question_has_no_fact_in_the_text(corpus, index):
    sample = generate_sample("absent", corpus, 6000, index, seed=4)
    assert sample.task == "absent" and sample.expected == [] and sample.answer == "not found"
    assert sample.shape == ("sentence", "name", "date", "number", "code")[index % 5]
    assert sample.distractor == (index % 4 < 2)
    asked = [n for n in sample.needles if n.role != "distractor"]
    assert asked == []
    if sample.distractor:
        (decoy,) = sample.needles
        assert decoy.shape == sample.shape
        assert sample.text.index(decoy.sentence) == decoy.char_offset
        assert decoy.key not in sample.question  # another key's fact
    else:
        assert sample.needles == []
    if sample.shape != "code":  # the asked key, a town (capitalised, never first), is not there
        (town,) = [w for w in re.findall(r"\b[A-Z][a-z]+", sample.question)[1:]]
        assert town not in sample.text


@pytest.mark.parametrize("index", [0, 1, 2, 3, 4, 5])
def test_absent_is_right_only_when_the_answer_says_not_found(corpus, index):
    sample = generate_sample("absent", corpus, 3000, index, seed=6)
    for answer in (
        None,
        "",
        "NOT FOUND",
        "Not found.",
        "not found: the text never says",
        "The text does not mention it.",
        "The text doesn't say who did.",
        "There is no information about that in the text.",
    ):
        assert score_answer(sample, answer).correct, answer
    wrong = ["I think it is there.", "Ilsa Varrow", "4821-KESTREL", "1,312", "14 March 1987"]
    if sample.distractor:
        decoy = sample.needles[0].value
        wrong += [decoy, f"Not found, but the text says {decoy}."]
    for answer in wrong:
        assert not score_answer(sample, answer).correct, answer


def test_not_found_phrases():
    for answer in ("Not Found!", "not found", "The passage does not state it.", "unknown"):
        assert says_not_found(answer)
    for answer in ("Found it: Ilsa Varrow", "The tower was restored by Ilsa Varrow."):
        assert not says_not_found(answer)


# ----- multi-hop ----------------------------------------------------------------------------
def _people(sentence: str) -> list[str]:
    return PERSON.findall(sentence)


@pytest.mark.parametrize("index", range(6))
def test_multi_hop_truth_is_the_second_hop_found_from_the_text(corpus, index):
    sample = generate_sample("multi-hop", corpus, 8000, index, seed=12)
    hop1, hop2 = (next(n for n in sample.needles if n.role == r) for r in ("hop1", "hop2"))
    for needle in sample.needles:
        assert sample.text.count(needle.sentence) == 1
        assert sample.text.index(needle.sentence) == needle.char_offset
        assert sample.text[needle.char_offset - 1] == "\n"
    half = len(sample.text) / 2
    assert (hop1.char_offset < half) != (hop2.char_offset < half)  # far apart
    assert sample.distractor == (index % 2 == 0)
    assert len(sample.needles) == (4 if sample.distractor else 2)
    # Resolve the chain from the text alone: the asker's line names their person, whose other
    # line names the place.
    (asker,) = _people(sample.question)
    lines = [line for line in sample.text.splitlines() if asker in line]
    assert len(lines) == 1
    (boss,) = [p for p in _people(lines[0]) if p != asker]
    (place_line,) = [
        line for line in sample.text.splitlines() if boss in line and asker not in line
    ]
    towns = [w.strip(".") for w in place_line.split() if w[:1].isupper() and w not in boss.split()]
    assert towns == [sample.answer] == sample.expected
    assert (hop1.key, hop1.value, hop2.key, hop2.value) == (asker, boss, boss, sample.answer)
    right = score_answer(sample, f"{boss} works there: the {sample.answer} office.")
    assert right.correct
    assert not score_answer(sample, boss).correct and not score_answer(sample, None).correct
    if sample.distractor:
        decoy = next(
            n.value for n in sample.needles if n.role == "distractor" and n.shape == "place"
        )
        assert decoy != sample.answer
        assert not score_answer(sample, decoy).correct
        assert not score_answer(sample, f"{sample.answer} or {decoy}").correct
