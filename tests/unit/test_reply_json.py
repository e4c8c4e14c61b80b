"""The one lenient reader of JSON in model replies (rlm_graph.protocol.reply_json)."""

from __future__ import annotations

import pytest

from rlm_graph.evidence import parse_reply
from rlm_graph.protocol.reply_json import decode, find_json, is_object


@pytest.mark.parametrize(
    ("text", "places", "expected"),
    [
        ('{"a": 1}', {}, {"a": 1}),
        ('Sure:\n```json\n{"a": 1}\n```', {}, None),  # fences not allowed here
        ('Sure:\n```json\n{"a": 1}\n```', {"fences": True}, {"a": 1}),
        ('The answer is {"a": 1}, I think.', {"span": True}, {"a": 1}),
        ('Try {"a": 1} or {"b": 2}.', {"span": True}, None),  # the span is not one object
        ('Try {"a": 1} or {"b": 2}.', {"embedded": True}, {"a": 1}),
        ('{"a": 1, "b": "cut', {"cut_off": True}, {"a": 1}),
        ("no json here", {"fences": True, "span": True, "embedded": True, "cut_off": True}, None),
    ],
)
def test_each_caller_reads_only_the_places_it_allows(text, places, expected):
    assert find_json(text, is_object, **places) == expected


def test_the_first_value_the_caller_accepts_wins():
    text = 'First {"x": 1} then {"op": "final"}'
    assert find_json(text, lambda v: "op" in v, embedded=True) == {"op": "final"}


@pytest.mark.parametrize("text", ["", "   ", "42", '"a string"', "{bad", "[" * 100_000])
def test_decode_gives_none_for_what_is_not_one_object_or_array(text):
    assert decode(text) is None


def test_a_cut_off_leaf_reply_keeps_its_complete_members_and_drops_a_half_written_one():
    whole, _ = parse_reply('{"found": true, "answer": "Ada Lovelace", "quotes": ["She wrote the')
    assert whole is not None and whole.answer == "Ada Lovelace" and whole.found
    assert whole.quotes == []  # the quote the limit cut is not a quote
    two, _ = parse_reply(
        '{"found": true, "answer": "1843", "quotes": ["In 1843 she \\"wrote\\".", "An'
    )
    assert two is not None and two.quotes == ['In 1843 she "wrote".']
    half, plain = parse_reply('{"found": true, "answer": "Ada Lov')
    assert half is None and plain.startswith("{")  # a half-written answer is no answer
