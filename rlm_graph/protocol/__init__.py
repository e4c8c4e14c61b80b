"""The action protocol: what a model may ask for, in text, JSON or tool-call form."""

from rlm_graph.protocol.actions import Action, ActionOp, ParsedTurn
from rlm_graph.protocol.build import NO_ACTION_ERROR, USAGE
from rlm_graph.protocol.json_form import parse_payload
from rlm_graph.protocol.message import message_text, strip_think
from rlm_graph.protocol.parse import parse_turn
from rlm_graph.protocol.render import render_actions
from rlm_graph.protocol.schema import ACTION_TOOLS, ActionItem, ActionsPayload, payload_to_turn
from rlm_graph.protocol.text_form import MAX_SCAN_CHARS, parse_text
from rlm_graph.protocol.tool_form import parse_tool_calls

__all__ = [
    "ACTION_TOOLS",
    "MAX_SCAN_CHARS",
    "NO_ACTION_ERROR",
    "USAGE",
    "Action",
    "ActionItem",
    "ActionOp",
    "ActionsPayload",
    "ParsedTurn",
    "message_text",
    "parse_payload",
    "parse_text",
    "parse_tool_calls",
    "parse_turn",
    "payload_to_turn",
    "render_actions",
    "strip_think",
]
