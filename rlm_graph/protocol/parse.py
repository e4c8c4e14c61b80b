"""``parse_turn``: one entry point for whatever form the model answered in."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage

from rlm_graph import prompts
from rlm_graph.protocol.actions import ParsedTurn
from rlm_graph.protocol.build import NO_ACTION_ERROR
from rlm_graph.protocol.json_form import (
    find_embedded_payload,
    find_payload,
    find_whole_payload,
    parse_payload,
)
from rlm_graph.protocol.message import message_text, strip_think
from rlm_graph.protocol.text_form import MAX_SCAN_CHARS, parse_text
from rlm_graph.protocol.tool_form import find_text_tool_calls, parse_tool_calls

# Think blocks are stripped before the scan limit applies, so a long <think> does not
# push the actions out of view; this outer bound keeps that step cheap too.
MAX_INPUT_CHARS = 5_000_000


def _dispatch(output: Any) -> ParsedTurn:
    if isinstance(output, BaseMessage):
        tool_calls = getattr(output, "tool_calls", None) or []
        invalid = getattr(output, "invalid_tool_calls", None) or []
        if tool_calls or invalid:
            return parse_tool_calls(list(tool_calls), list(invalid))
    text = strip_think(message_text(output)[:MAX_INPUT_CHARS])[:MAX_SCAN_CHARS]
    text_calls = find_text_tool_calls(text)
    if text_calls is not None:
        return parse_tool_calls(*text_calls)
    payload = find_whole_payload(text)
    if payload is not None:
        return parse_payload(payload)
    turn = parse_text(text)
    if turn.actions:
        # Text actions win over fenced JSON: the JSON may be part of a FINAL answer.
        return turn
    payload = find_payload(text) or find_embedded_payload(text)
    if payload is not None:
        return parse_payload(payload)
    return turn


def parse_turn(output: str | BaseMessage | Any) -> ParsedTurn:
    """The actions in one model reply (text, JSON or tool calls) and problems to report.

    Never raises. A reply with neither actions nor errors gets ``NO_ACTION_ERROR``, so
    the caller always has something to show the model.
    """
    try:
        turn = _dispatch(output)
    except Exception as exc:  # a parser bug must not take the graph down
        turn = ParsedTurn(errors=[prompts.UNREADABLE_REPLY.format(error=type(exc).__name__)])
    if not turn.actions and not turn.errors:
        turn.errors.append(NO_ACTION_ERROR)
    return turn
