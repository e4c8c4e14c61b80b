"""The tool-call form: ``AIMessage.tool_calls`` named call/peek/grep/final.

Also reads Hermes-style ``<tool_call>{...}</tool_call>`` text, which small local
models emit when the server does not turn it into real tool calls.
"""

from __future__ import annotations

import re
from typing import Any

from rlm_graph import prompts
from rlm_graph.protocol.actions import MAX_ACTIONS_PER_TURN, TOO_MANY_ACTIONS, ParsedTurn
from rlm_graph.protocol.build import (
    USAGE,
    build_action,
    canonical_fields,
    json_snippet,
    normalize_op,
    snippet,
)
from rlm_graph.protocol.json_form import parse_payload
from rlm_graph.protocol.reply_json import decode

_OPEN_TAG = re.compile(r"<tool_call>", re.IGNORECASE)
_CLOSE_TAG = re.compile(r"</tool_call>", re.IGNORECASE)
# A single tool carrying the whole payload, as with_structured_output(function_calling) does.
_PAYLOAD_TOOLS = {"actionspayload", "actions", "rlm_actions"}


def _args(raw: Any) -> dict[str, Any] | None:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        value = decode(raw) if raw.strip() else {}
        return value if isinstance(value, dict) else None
    return {} if raw is None else None


def parse_tool_calls(
    tool_calls: list[Any], invalid_tool_calls: list[Any] | None = None
) -> ParsedTurn:
    """Actions from LangChain ``tool_calls`` (dicts with ``name`` and ``args``)."""
    turn = ParsedTurn()
    if len(tool_calls) > MAX_ACTIONS_PER_TURN:
        turn.errors.append(TOO_MANY_ACTIONS)
    for call in tool_calls[:MAX_ACTIONS_PER_TURN]:
        call = call if isinstance(call, dict) else {}
        name = call.get("name")
        raw_args = call.get("args", call.get("arguments"))
        shown = f"{name if isinstance(name, str) else '?'}({json_snippet(raw_args)})"
        args = _args(raw_args)
        if isinstance(name, str) and name.strip().lower() in _PAYLOAD_TOOLS and args:
            sub = parse_payload(args)
            turn.actions.extend(sub.actions)
            turn.errors.extend(sub.errors)
            continue
        op = normalize_op(name)
        if op is None:
            turn.errors.append(
                prompts.UNKNOWN_TOOL.format(name=snippet(str(name)), shown=snippet(shown))
            )
            continue
        if args is None:
            turn.errors.append(
                prompts.UNPARSED_ACTION.format(
                    quote=snippet(shown),
                    reason=prompts.TOOL_ARGS_NOT_OBJECT,
                    usage=USAGE["tool"][op],
                )
            )
            continue
        result = build_action(op, canonical_fields(args), form="tool", quote=snippet(shown))
        if isinstance(result, str):
            turn.errors.append(result)
        else:
            turn.actions.append(result)
    for bad in (invalid_tool_calls or [])[:MAX_ACTIONS_PER_TURN]:
        bad = bad if isinstance(bad, dict) else {}
        name = bad.get("name")
        op = normalize_op(name)
        usage = USAGE["tool"][op] if op else prompts.ANY_TOOL_USAGE
        shown = snippet(f"{name if isinstance(name, str) else '?'}({bad.get('args') or ''})")
        turn.errors.append(
            prompts.UNPARSED_ACTION.format(
                quote=shown, reason=prompts.TOOL_ARGS_NOT_JSON, usage=usage
            )
        )
    return turn


def find_text_tool_calls(text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
    """``<tool_call>`` blocks in plain text as (tool calls, invalid tool calls), or None."""
    calls: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    pos = 0
    # find() pairs rather than one lazy regex: an unclosed tag must not cost O(n^2).
    while len(calls) + len(invalid) < MAX_ACTIONS_PER_TURN:
        opened = _OPEN_TAG.search(text, pos)
        if opened is None:
            break
        closed = _CLOSE_TAG.search(text, opened.end())
        if closed is None:
            break  # cut off mid-call: let the other forms have a go
        body = text[opened.end() : closed.start()].strip()
        pos = closed.end()
        value = decode(body)
        if not isinstance(value, dict):
            invalid.append({"name": None, "args": body})
            continue
        args = value.get("arguments", value.get("args"))
        calls.append({"name": value.get("name"), "args": args})
    return (calls, invalid) if calls or invalid else None
