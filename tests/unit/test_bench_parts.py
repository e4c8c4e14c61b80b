"""``per-part``: whole parts behind marker lines, key terms recomputed here by tf-idf, and the
scoring of good and bad answers."""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest

from rlm_graph.bench import BenchInputError, load_corpus, score_answer
from rlm_graph.bench.corpus import Corpus, default_corpus
from rlm_graph.bench.parts import answer_segments, check_parts
from rlm_graph.bench.tasks import generate_sample
from rlm_graph.bench.text import content_words, stem

MARKER = re.compile(r"^=== Part (\d+) ===$", re.MULTILINE)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return default_corpus()


def split_parts(text: str) -> list[tuple[int, int, str]]:
    """(number, offset of the marker, the part's text) for every marker line."""
    marks = list(MARKER.finditer(text))
    out = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out.append((int(m.group(1)), m.start(), text[m.end() : end].strip("\n")))
    return out


def tfidf_top(texts: list[str], top: int = 5) -> list[set[str]]:
    """The top stems of each text by tf-idf against the others, written again here."""
    bags = [Counter(stem(w) for w in content_words(t)) for t in texts]
    n = len(bags)
    df = Counter(s for bag in bags for s in bag)
    out = []
    for bag in bags:
        total = sum(bag.values())
        score = {s: c / total * math.log(n / df[s]) for s, c in bag.items() if s != "part"}
        ranked = sorted((s for s in score if score[s] > 0), key=lambda s: (-score[s], s))
        out.append(set(ranked[:top]))
    return out


@pytest.mark.parametrize(("length", "index"), [(2000, 0), (8000, 1), (8000, 2), (32000, 3)])
def test_parts_are_whole_topics_in_corpus_order_with_computed_key_terms(corpus, length, index):
    from pydoc_data.topics import topics

    sample = generate_sample("per-part", corpus, length, index, seed=5)
    found = split_parts(sample.text)
    k = len(found)
    assert 4 <= k <= 8 and [n for n, _, _ in found] == list(range(1, k + 1))
    assert f"holds {k} parts" in sample.question and "=== Part k ===" in sample.question
    names = sorted(topics)
    places = [names.index(p.title) for p in sample.parts]
    assert places == sorted(set(places))  # distinct topics, in the corpus's order
    assert sample.corpus_offset == places[0]
    texts = [text for _, _, text in found]
    for part, (number, offset, text) in zip(sample.parts, found, strict=True):
        assert part.number == number and part.char_offset == offset
        assert text == topics[part.title].strip()  # whole
    for part, top in zip(sample.parts, tfidf_top(texts), strict=True):
        title = {stem(w) for w in content_words(part.title)}
        assert {stem(t) for t in part.key_terms} == title | top
    assert sample.tokens <= length  # never longer than asked


def test_samples_at_four_windows_are_different_texts_of_the_right_length(corpus):
    """Runs of consecutive topics gave few samples at 4x the 0.5B's window (2-9 runs of
    Python's help text fit): seeds 76 and 77 held 8 different texts in 12 samples."""
    length = 4 * 8192
    samples = [
        generate_sample("per-part", corpus, length, index, seed=seed)
        for seed in (76, 77)
        for index in range(6)
    ]
    assert len({tuple(p.title for p in s.parts) for s in samples}) == len(samples)
    assert all(0.7 * length <= s.tokens <= length for s in samples)


def test_a_good_answer_names_every_part_and_a_bad_one_none(corpus):
    sample = generate_sample("per-part", corpus, 8000, 0, seed=1)
    k = len(sample.parts)
    good = "\n".join(f"Part {p.number}: mostly {p.key_terms[-1]}." for p in sample.parts)
    score = score_answer(sample, good)
    assert score.correct and score.recall == 1.0
    # No "Part k" anywhere: the k-th non-empty line speaks for part k.
    plain = "Summary:\n" + "\n\n".join(f"- about {p.key_terms[0]}" for p in sample.parts)
    assert score_answer(sample, plain).recall < 1  # the first line is no part's
    assert score_answer(sample, plain.removeprefix("Summary:\n")).correct
    # Each part described by the terms of none of its own: nothing is right.
    mine = [{stem(t) for t in p.key_terms} for p in sample.parts]
    every = {stem(t) for p in sample.parts for t in p.key_terms}
    wrong = "\n".join(
        f"Part {p.number}: " + " ".join(sorted(every - mine[i])) for i, p in enumerate(sample.parts)
    )
    assert score_answer(sample, wrong).recall == 0.0
    assert score_answer(sample, None).recall == 0.0 and not score_answer(sample, "").correct
    # Right on a share just above 0.7 is correct, just below is not.
    need = math.ceil(0.7 * k)
    some = "\n".join(
        f"Part {p.number}: {p.key_terms[0] if i < need else 'qqqq'}"
        for i, p in enumerate(sample.parts)
    )
    assert score_answer(sample, some).correct
    fewer = some.replace(
        f"Part {need}: {sample.parts[need - 1].key_terms[0]}", f"Part {need}: qqqq"
    )
    assert not score_answer(sample, fewer).correct


def test_answer_segments_follow_part_mentions():
    text = "Part 1 is about loops, Part 2 about classes.\n3. imports\n**Part 4**: strings"
    segments = answer_segments(text, 4)
    assert "loops" in segments[1] and "classes" not in segments[1]
    assert "classes" in segments[2] and "imports" in segments[3] and "strings" in segments[4]
    assert answer_segments("a\n\nb\nc", 4) == {1: "a", 2: "b", 3: "c"}
    assert answer_segments("Part 9: out of range", 4) == {}


def test_a_folder_corpus_has_one_part_per_file(tmp_path):
    words = ["harbour", "glacier", "orchard", "furnace", "lagoon", "meadow"]
    for i, word in enumerate(words):
        (tmp_path / f"{i:02d}-{word}.txt").write_text(
            f"A note on the {word}.\n\n" + f"The {word} is {i} miles away. " * 40 + "\n"
        )
    folder = load_corpus(tmp_path)
    sample = generate_sample("per-part", folder, 2000, 0, seed=0)
    for part in sample.parts:
        word = re.search(r"-(\w+)\.txt$", part.title).group(1)
        assert part.key_terms[0] == word  # the file's name, then its distinctive words
        assert f"The {word} is" in sample.text
    answer = "\n".join(f"Part {p.number}: {p.title[3:-4]}" for p in sample.parts)
    assert score_answer(sample, answer).correct


def test_a_single_file_splits_on_headings_else_paragraphs(tmp_path):
    doc = tmp_path / "guide.md"
    sections = ["Installing", "Configuring", "Running", "Upgrading", "Removing"]
    body = "".join(
        f"## {name}\n\n" + f"{name} the tool takes care and patience. " * 12 + "\n\n"
        for name in sections
    )
    doc.write_text("# Guide\n\n```\n# not a heading\n```\n\n" + body)
    sample = generate_sample("per-part", load_corpus(doc), 2000, 0, seed=2)
    titles = [p.title for p in sample.parts]
    assert all(t in ["Guide", *sections] for t in titles) and len(titles) >= 4
    assert "not a heading" not in titles
    prose = tmp_path / "prose.txt"
    prose.write_text("\n\n".join(f"Paragraph {i} talks about topic{i}." * 5 for i in range(12)))
    plain = generate_sample("per-part", load_corpus(prose), 500, 1, seed=0)
    assert len(plain.parts) >= 4
    assert all(p.title.startswith("Paragraph") for p in plain.parts)


def test_too_few_parts_is_refused(tmp_path):
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("One paragraph only.\n\nAnd a second.\n")
    with pytest.raises(BenchInputError, match="per-part"):
        check_parts(load_corpus(tiny))
    with pytest.raises(BenchInputError, match="per-part"):
        generate_sample("per-part", load_corpus(tiny), 1000, 0)
