"""Schemas for constrained decoding: a structured-output payload and four tool definitions.

Kept flat and small on purpose: llama.cpp turns the schema into a grammar, and every
``$ref``, ``anyOf`` or extra property makes that grammar (and a small model's job) harder.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from rlm_graph.protocol.actions import ParsedTurn
from rlm_graph.protocol.build import NO_ACTION_ERROR
from rlm_graph.protocol.json_form import parse_payload


def _text(description: str) -> Any:
    # Accept None in Python but advertise a plain optional string (no anyOf/null).
    return WithJsonSchema({"type": "string", "description": description})


class ActionItem(BaseModel):
    """One action in a structured reply."""

    model_config = ConfigDict(extra="forbid")

    op: Literal["call", "peek", "grep", "final"] = Field(
        description="call: sub-task on a target; peek: read a target; grep: search; final: answer"
    )
    task: Annotated[str | None, _text("call: the sub-task for the child model")] = None
    target: Annotated[
        str | None, _text("call/peek/grep: a slice of the input, e.g. chunk:3 or lines:10-60")
    ] = None
    pattern: Annotated[str | None, _text("grep: a regular expression")] = None
    answer: Annotated[str | None, _text("final: the complete answer")] = None


class ActionsPayload(BaseModel):
    """A whole structured reply: the actions to run, in order."""

    model_config = ConfigDict(extra="forbid")

    actions: list[ActionItem] = Field(description="actions to run, in order")

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The schema with ``ActionItem`` inlined: no ``$defs``/``$ref`` for servers to resolve."""
        schema = super().model_json_schema(*args, **kwargs)
        defs = schema.pop("$defs", {})
        return _inline(schema, defs)


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    # One level of non-recursive refs (ActionItem), so plain substitution terminates.
    if isinstance(node, dict):
        ref = node.get("$ref")
        if node.get("default", ...) is None:  # "default": null contradicts "type": "string"
            node = {key: value for key, value in node.items() if key != "default"}
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = defs.get(ref.removeprefix("#/$defs/"), {})
            merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            return _inline(merged, {})
        return {key: _inline(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    return node


def payload_to_turn(payload: ActionsPayload | dict[str, Any] | Any) -> ParsedTurn:
    """A structured-output result (model or raw dict) as a ``ParsedTurn``; never raises."""
    if isinstance(payload, BaseModel):  # ActionsPayload, or a look-alike from elsewhere
        payload = payload.model_dump(exclude_none=True)
    try:
        turn = parse_payload(payload if payload is not None else {"actions": []})
    except Exception as exc:  # e.g. a model_dump that is not JSON-like
        turn = ParsedTurn(errors=[f"could not read the structured reply ({type(exc).__name__})"])
    if not turn.actions and not turn.errors:
        turn.errors.append(NO_ACTION_ERROR)
    return turn


def _tool(
    name: str, description: str, properties: dict[str, str], required: list[str]
) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": {
                    key: {"type": "string", "description": text} for key, text in properties.items()
                },
                "required": required,
                "additionalProperties": False,
            },
        },
    }


_TARGET = "a slice of the input, e.g. chunk:3 or lines:120-180"

# OpenAI-format function tools, for ``model.bind_tools(ACTION_TOOLS)``.
ACTION_TOOLS: list[dict[str, Any]] = [
    _tool(
        "call",
        "Hand a sub-task over a slice of the input to a child model and get its answer back.",
        {"task": "the sub-task, self-contained", "target": _TARGET},
        ["task", "target"],
    ),
    _tool("peek", "Show an excerpt of the input.", {"target": _TARGET}, ["target"]),
    _tool(
        "grep",
        "List the lines of the input matching a regular expression.",
        {"pattern": "a regular expression", "target": "optional: " + _TARGET},
        ["pattern"],
    ),
    _tool(
        "final",
        "Give the final answer and stop.",
        {"answer": "the complete answer"},
        ["answer"],
    ),
]
