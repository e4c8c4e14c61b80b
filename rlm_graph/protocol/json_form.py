"""The JSON form: ``{"actions": [{"op": ..., ...}]}`` or one bare action object."""

from __future__ import annotations

from typing import Any

from rlm_graph import prompts
from rlm_graph.protocol.actions import MAX_ACTIONS_PER_TURN, TOO_MANY_ACTIONS, ParsedTurn
from rlm_graph.protocol.build import (
    build_action,
    canonical_fields,
    json_snippet,
    normalize_op,
)
from rlm_graph.protocol.reply_json import find_json

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


def find_whole_payload(text: str) -> Any | None:
    """The payload if the whole reply is actions JSON."""
    return find_json(text, is_payload)


def find_payload(text: str) -> Any | None:
    """The payload if the whole reply, or a fenced block in it, is actions JSON."""
    return find_json(text, is_payload, fences=True)


def find_embedded_payload(text: str) -> Any | None:
    """An unfenced actions object inside prose ("Sure! {"op": "final", ...}")."""
    return find_json(text, is_payload, embedded=True)


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
            turn.errors.append(prompts.ACTION_NOT_OBJECT.format(quote=quote))
            continue
        raw_op = next((item[key] for key in _OP_KEYS if key in item), None)
        op = normalize_op(raw_op)
        if op is None:
            shown = (
                prompts.NO_OP
                if raw_op is None
                else prompts.UNKNOWN_OP.format(op=json_snippet(raw_op))
            )
            turn.errors.append(prompts.BAD_OP.format(quote=quote, shown=shown))
            continue
        result = build_action(op, canonical_fields(item), form="json", quote=quote)
        if isinstance(result, str):
            turn.errors.append(result)
        else:
            turn.actions.append(result)
    if len(items) > MAX_ACTIONS_PER_TURN:
        turn.errors.append(TOO_MANY_ACTIONS)
    return turn
