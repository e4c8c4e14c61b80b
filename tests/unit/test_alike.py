"""The text's own lists: groups of sentences that open alike, then a name or figure."""

from __future__ import annotations

import pytest

from rlm_graph.context import ContextView, TextStore
from rlm_graph.graph.alike import alike_groups

CHOIRS = [
    "The choir of Thalthorpe was founded by Teodor Jessamy.",
    "The choir of Kelholt was founded by Livia Varrow.",
    "The choir of Fenby was founded by Thessaly Lindqvist.",
]


def groups_of(text: str) -> list[list[str]]:
    return [
        [item.quote for item in group]
        for group in alike_groups(ContextView(TextStore(text.encode())))
    ]


def test_sentences_that_open_alike_are_one_group_larger_groups_first():
    text = "\n\n".join(
        [
            "New in version 3.5.",
            "Some prose about strings that wraps\n   onto a second line. " + CHOIRS[0],
            "The first map of Yarby was drawn by Ann Hale.",  # like no other sentence
            "New in version 3.10.",
            "A tuple holds items. " + CHOIRS[1] + " Nothing else is said.",
            CHOIRS[2],
        ]
    )
    assert groups_of(text) == [CHOIRS, ["New in version 3.5.", "New in version 3.10."]]


@pytest.mark.parametrize(
    "sentences",
    [
        # dates, numbers, codes and names after the same opening
        [
            "The charter of Ardley was signed on 3 May 1702.",
            "The charter of Brisk was signed on 9 June 1688.",
        ],
        [
            "The library of Morthorpe holds 45,241 bound volumes.",
            "The library of Wenford holds 19,661 bound volumes.",
        ],
        [
            "The access code for the Willow Archive is 4864-HERON.",
            "The access code for the Stone Archive is 1290-OTTER.",
        ],
    ],
)
def test_items_of_every_shape_stand_in_one_group(sentences):
    text = "Prose before.\n\n" + "\n\nMore prose between them.\n\n".join(sentences) + "\n\nAfter."
    assert groups_of(text) == [sentences]


def test_a_short_opening_or_a_sentence_with_no_name_makes_no_group():
    text = "\n\n".join(
        [
            "It is Tom.",  # two words before the name: too short to call a list
            "It is Ann.",
            "Nothing here is named at all.",
            "Nothing here is named either.",
        ]
    )
    assert groups_of(text) == []


def test_sentences_that_open_alike_and_go_on_unlike_are_no_list():
    """Tuning seed 47, its items taken out: the 1.5B read "Changed in version 3.2: Allow
    giving an explicit line number." as "The earliest chart credited to someone is in the
    version 3.2 ...". Such notes open alike and go on unlike: the word after the version
    differs, and they make no list; two that go on alike ("... support") do."""
    notes = [
        "Changed in version 3.2: Allow giving an explicit line number.",
        "Changed in version 3.8: Prior to Python 3.8, a statement was illegal.",
        "Changed in version 3.1: Added support for keyword arguments.",
        "Changed in version 3.3: Added support for name aliases.",
    ]
    assert groups_of("\n\n".join(notes)) == [notes[2:]]


def test_one_sentence_said_twice_is_no_list():
    """Fresh seed 68, the items taken out: 'Missing slice items are always filled in with
    "None".' stood twice (the text repeated), and the 1.5B read it as what newcomers to a
    town learn to do. A sentence said twice is one item; with a second item it is a list."""
    note = 'Missing slice items are always filled in with "None".'
    other = 'Missing slice items are always filled in with "Ellipsis".'
    assert groups_of(f"{note}\n\nProse.\n\n{note}") == []
    assert groups_of(f"{note}\n\nProse.\n\n{note}\n\n{other}") == [[note, other]]
