"""JSON in a model's reply, read leniently: the one reader for every place that expects it.

Models wrap JSON in fences, put it after a sentence, or get cut off mid-object by the output
limit. ``find_json`` tries the places a value can sit, most likely first, and returns the first
value the caller accepts; each caller says which places it allows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.utils.json import parse_partial_json

MAX_FENCES = 10  # fenced blocks tried per reply
MAX_EMBEDDED_TRIES = 5  # "{" positions tried when the object sits in prose
_FENCE = re.compile(r"```[ \t]*[\w+-]*[ \t]*\r?\n(.*?)```", re.DOTALL)


def decode(text: str) -> Any | None:
    """``text`` as one JSON object or array, or None (anything else, or invalid)."""
    text = text.strip()
    if not text or text[0] not in "{[":
        return None
    try:
        return json.loads(text)
    except Exception:  # ValueError, RecursionError on deep nesting
        return None


def _fenced(text: str) -> Iterator[Any]:
    for i, fence in enumerate(_FENCE.finditer(text)):
        if i >= MAX_FENCES:
            return
        yield decode(fence.group(1))


def _span(text: str) -> Any | None:
    """From the first "{" to the last "}": one object with prose around it."""
    first, last = text.find("{"), text.rfind("}")
    return decode(text[first : last + 1]) if 0 <= first < last else None


def _embedded(text: str) -> Iterator[Any]:
    """Each object that starts at one of the first "{"s, prose after it ignored."""
    decoder = json.JSONDecoder()
    pos = 0
    for _ in range(MAX_EMBEDDED_TRIES):
        start = text.find("{", pos)
        if start < 0:
            return
        try:
            value = decoder.raw_decode(text, start)[0]
        except Exception:  # not JSON from here
            value = None
        yield value
        pos = start + 1


def _complete_strings(text: str) -> str:
    """``text`` without a string the cut left open: a half-written value is not a value."""
    inside, escaped, opened = False, False, 0
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = inside
        elif char == '"':
            inside, opened = not inside, i
    return text[:opened] if inside else text


def _cut_off(text: str) -> Any | None:
    """What can be read of an object cut off mid-way: its complete members."""
    start = text.find("{")
    if start < 0:
        return None
    try:
        return parse_partial_json(_complete_strings(text[start:]))
    except Exception:
        return None


def find_json(
    text: str,
    accept: Callable[[Any], bool],
    *,
    fences: bool = False,
    span: bool = False,
    embedded: bool = False,
    cut_off: bool = False,
) -> Any | None:
    """The first value ``accept`` takes among: the whole reply, then (where allowed) each
    fenced block, the first-"{"-to-last-"}" span, each object embedded in prose, and the
    complete members of an object cut off by the output limit."""

    def candidates() -> Iterator[Any]:
        yield decode(text)
        if fences:
            yield from _fenced(text)
        if span:
            yield _span(text)
        if embedded:
            yield from _embedded(text)
        if cut_off:
            yield _cut_off(text)

    for value in candidates():
        if value is not None and accept(value):
            return value
    return None


def is_object(value: Any) -> bool:
    return isinstance(value, dict)


__all__ = ["decode", "find_json", "is_object"]
