"""Sections: a text's parts found by its heading lines (a folder's by its files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlm_graph.context import open_context
from rlm_graph.errors import TargetError

BODY = "Some prose about the topic, in a sentence or two.\n"


@pytest.mark.parametrize(
    ("headings", "titles"),
    [
        (["=== Essay 1 ===", "=== Essay 2 ===", "=== Essay 3 ==="], ["Essay 1", "Essay 2", "Essay 3"]),
        (["# Intro", "# Methods", "## Results"], ["Intro", "Methods", "Results"]),
        (["CHAPTER 1. The Sea", "Chapter 2. The Land"], ["CHAPTER 1. The Sea", "Chapter 2. The Land"]),
        (["Part IV", "Part V"], ["Part IV", "Part V"]),
    ],
)  # fmt: skip
def test_headings_of_each_shape_cut_the_text_into_sections(headings, titles):
    text = "A preamble line.\n" + "".join(f"{h}\n{BODY * 3}" for h in headings)
    view = open_context(text)
    sections = view.sections()
    assert [s.title for s in sections] == titles
    assert sections[0].start == 0 and sections[-1].end == view.size
    assert all(a.end == b.start for a, b in zip(sections, sections[1:], strict=False))
    second = view.child("section:2")
    assert view.text(second.start, second.end).startswith(headings[1])
    assert view.resolve("part 2").label == "section:2"
    assert "Sections (" in view.describe() and "section:2" in view.describe()


def test_a_text_without_headings_has_no_sections_and_says_so():
    view = open_context(BODY * 50 + "=== a lone marker ===\n" + BODY)
    assert view.sections() == []
    assert "Sections" not in view.describe()
    with pytest.raises(TargetError, match="no sections"):
        view.resolve("section:1")


def test_a_section_out_of_range_names_the_ones_there_are():
    view = open_context("".join(f"=== P{i} ===\n{BODY}" for i in range(1, 4)))
    with pytest.raises(TargetError, match="section:1 to section:3"):
        view.resolve("section:4")
    assert view.resolve("section:2-3").label == "section:2-3"


def test_a_folders_sections_are_its_files(tmp_path: Path):
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(f"{name} says: {BODY}")
    view = open_context(str(tmp_path))
    assert [s.title for s in view.sections()] == ["a.txt", "b.txt", "c.txt"]
    child = view.child("section:3")
    assert "c.txt says" in child.text()
