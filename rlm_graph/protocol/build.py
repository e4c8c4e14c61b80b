"""Turn loosely named fields from any output form into a checked ``Action`` or a short error.

All three forms (text, JSON, tool calls) funnel through here so the rules and the
wording of errors stay identical: lenient in what we accept, precise in what we report.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from rlm_graph import prompts
from rlm_graph.protocol.actions import Action, ActionOp

Form = Literal["text", "json", "tool"]

OPS: tuple[ActionOp, ...] = ("call", "peek", "grep", "final")

# Models reach for these names too; map them onto the contract's field names.
FIELD_SYNONYMS: dict[str, str] = {
    "task": "task",
    "query": "task",
    "question": "task",
    "target": "target",
    "pattern": "pattern",
    "regex": "pattern",
    "answer": "answer",
    "text": "answer",
    "content": "answer",
}

# Positional order of arguments in the text form.
POSITIONAL: dict[ActionOp, tuple[str, ...]] = {
    "call": ("task", "target"),
    "peek": ("target",),
    "grep": ("pattern", "target"),
    "final": ("answer",),
}

# The correct form of each op, quoted in every error so the model can copy it.
USAGE: dict[Form, dict[ActionOp, str]] = prompts.ACTION_USAGE  # type: ignore[assignment]

NO_ACTION_ERROR = prompts.NO_ACTION

SNIPPET_CHARS = 120


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The offending text, on one line and short enough to show back to the model."""
    flat = text[: limit * 2].replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return flat if len(flat) <= limit else flat[:limit] + "..."


def json_snippet(value: Any) -> str:
    """``snippet`` of a JSON-ish value (never raises, whatever the value is)."""
    try:
        return snippet(json.dumps(value, ensure_ascii=False, default=str))
    except Exception:  # e.g. circular structures: still say something
        return snippet(repr(value))


def normalize_op(name: Any) -> ActionOp | None:
    """``"CALL"``, ``"rlm_call"``, ``" Final "`` -> the op; anything else -> None."""
    if not isinstance(name, str):
        return None
    key = name.strip().lower()
    for prefix in ("rlm_", "rlm.", "rlm-"):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    for op in OPS:
        if key == op:
            return op
    return None


def canonical_fields(raw: dict[Any, Any]) -> dict[str, Any]:
    """Map synonym keys onto field names; the canonical name wins over a synonym."""
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            continue
        name = FIELD_SYNONYMS.get(key.strip().lower())
        if name is None:
            continue  # unknown keys (op, id, ...) are ignored, not errors
        if key.strip().lower() == name or name not in fields:
            fields[name] = value
    return fields


class _BadValue(Exception):
    """A field value that cannot be read as text (list, dict, ...)."""


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # FINAL(42) and target 3 are obviously meant as text
    raise _BadValue


def build_action(op: ActionOp, fields: dict[str, Any], *, form: Form, quote: str) -> Action | str:
    """Check ``fields`` for ``op``; return the Action or an error quoting ``quote``."""
    usage = USAGE[form][op]

    def fail(reason: str) -> str:
        return prompts.INVALID_ACTION.format(quote=quote, reason=reason, usage=usage)

    values: dict[str, str | None] = {}
    for name in POSITIONAL[op]:
        try:
            values[name] = _as_text(fields.get(name))
        except _BadValue:
            return fail(prompts.FIELD_NOT_TEXT.format(name=name))

    task, target = values.get("task"), values.get("target")
    pattern, answer = values.get("pattern"), values.get("answer")
    # Surrounding whitespace is never meaningful in a task, a target or an answer.
    task = task.strip() if task is not None else None
    target = target.strip() if target is not None else None
    answer = answer.strip() if answer is not None else None

    if op == "call":
        if task is None or target is None:
            return fail(prompts.CALL_NEEDS_TASK_AND_TARGET)
        if not task:
            return fail(prompts.EMPTY_TASK)
        if not target:
            return fail(prompts.EMPTY_TARGET)
        return Action(op="call", task=task, target=target)
    if op == "peek":
        if not target:
            return fail(prompts.PEEK_NEEDS_TARGET)
        return Action(op="peek", target=target)
    if op == "grep":
        if pattern is None:
            return fail(prompts.GREP_NEEDS_PATTERN)
        if not pattern.strip():
            return fail(prompts.EMPTY_PATTERN)
        return Action(op="grep", pattern=pattern, target=target or None)
    if answer is None:
        return fail(prompts.FINAL_NEEDS_ANSWER)
    if not answer:
        return fail(prompts.EMPTY_ANSWER)
    return Action(op="final", answer=answer)
