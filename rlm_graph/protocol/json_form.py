"""The JSON form: ``{"actions": [{"op": ..., ...}]}`` or one bare action object."""

from __future__ import annotations

import json
import re
from typing import Any

from rlm_graph.protocol.actions import MAX_ACTIONS_PER_TURN, TOO_MANY_ACTIONS, ParsedTurn
from rlm_graph.protocol.build import (
    build_action,
    canonical_fields,
    json_snippet,
    normalize_op,
)

MAX_FENCES = 10  # fenced blocks tried per reply
MAX_EMBEDDED_TRIES = 5  # "{" positions tried when the object sits in prose
_FENCE = re.compile(r"```[ \t]*[\w+-]*[ \t]*\r?\n(.*?)```", re.DOTALL)
_OP_KEYS = ("op", "action")  # "action" is what models write when they forget "op"


def is_payload(value: Any) -> bool:
    """Whether a decoded JSON value looks like actions (not some unrelated JSON)."""
    if isinstance(value, dict):
        if isinstance(value.get("actions"), list | dict):
            return True
        return any(isinstance(value.get(key), str) for key in _OP_KEYS)
    if isinstance(value, list):
        dicts = [item for item in value if isinstance(item, dict)]
        return bool(dicts) and all(is_payload(item) for item in dicts)
    return False


def _decode(candidate: str) -> Any | None:
    candidate = candidate.strip()
    if not candidate or candidate[0] not in "{[":
        return None
    try:
        value = json.loads(candidate)
    except Exception:  # ValueError, RecursionError on deep nesting
        return None
    return value if is_payload(value) else None


def find_whole_payload(text: str) -> Any | None:
    """The payload if the whole reply is actions JSON."""
    return _decode(text)


def find_payload(text: str) -> Any | None:
    """The payload if the whole reply, or a fenced block in it, is actions JSON."""
    value = _decode(text)
    if value is not None:
        return value
    for i, fence in enumerate(_FENCE.finditer(text)):
        if i >= MAX_FENCES:
            break
        value = _decode(fence.group(1))
        if value is not None:
            return value
    return None


def find_embedded_payload(text: str) -> Any | None:
    """An unfenced actions object inside prose ("Sure! {"op": "final", ...}")."""
    decoder = json.JSONDecoder()
    pos = 0
    for _ in range(MAX_EMBEDDED_TRIES):
        start = text.find("{", pos)
        if start < 0:
            return None
        try:
            value, _end = decoder.raw_decode(text, start)
        except Exception:
            value = None
        if is_payload(value):
            return value
        pos = start + 1
    return None


def parse_payload(payload: Any) -> ParsedTurn:
    """Actions and errors from a decoded payload; a bad item never hides the good ones."""
    turn = ParsedTurn()
    if isinstance(payload, list):
        items: list[Any] = payload
    elif isinstance(payload, dict) and "actions" in payload:
        actions = payload["actions"]
        items = actions if isinstance(actions, list) else [actions]
    else:
        items = [payload]
    for item in items[:MAX_ACTIONS_PER_TURN]:
        quote = json_snippet(item)
        if not isinstance(item, dict):
            turn.errors.append(
                f'could not parse {quote}: each action must be an object like {{"op": "final", "answer": "..."}}'
            )
            continue
        raw_op = next((item[key] for key in _OP_KEYS if key in item), None)
        op = normalize_op(raw_op)
        if op is None:
            shown = "no op" if raw_op is None else f"unknown op {json_snippet(raw_op)}"
            turn.errors.append(
                f'invalid {quote}: {shown}; "op" must be one of "call", "peek", "grep", "final"'
            )
            continue
        result = build_action(op, canonical_fields(item), form="json", quote=quote)
        if isinstance(result, str):
            turn.errors.append(result)
        else:
            turn.actions.append(result)
    if len(items) > MAX_ACTIONS_PER_TURN:
        turn.errors.append(TOO_MANY_ACTIONS)
    return turn
