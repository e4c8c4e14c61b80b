"""Get the visible text out of a model output: content blocks joined, reasoning removed."""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import BaseMessage

_OPEN = re.compile(r"<think(?:ing)?>", re.IGNORECASE)
_CLOSE = re.compile(r"</think(?:ing)?>", re.IGNORECASE)

# Block types that carry hidden reasoning, never actions.
_REASONING_BLOCKS = {"reasoning", "thinking", "redacted_thinking"}


def content_text(content: Any) -> str:
    """A message ``content`` (str or list of content blocks) as plain text."""
    # Not BaseMessage.text: that joins blocks with "" and drops blocks without a "type".
    if isinstance(content, str):
        return content
    if isinstance(content, bytes):
        return content.decode("utf-8", errors="replace")
    if isinstance(content, list):
        parts: list[str] = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and block.get("type") not in _REASONING_BLOCKS:
                text = block.get("text")
                if isinstance(text, str) and block.get("type", "text") == "text":
                    parts.append(text)
        # Blocks are separate paragraphs; a newline keeps line-based rules (comments) right.
        return "\n".join(parts)
    return "" if content is None else str(content)


def message_text(output: Any) -> str:
    """The text of a string or a message; anything else is stringified."""
    if isinstance(output, BaseMessage):
        return content_text(output.content)
    return content_text(output)


def strip_think(text: str) -> str:
    """Remove ``<think>...</think>`` blocks (also ``<thinking>``).

    A ``</think>`` with no opening tag means the template opened it in the prompt
    (Qwen3 style): drop everything before it. An unclosed ``<think>`` means the model
    ran out of tokens while thinking: drop the rest.
    """
    first_close = _CLOSE.search(text)
    first_open = _OPEN.search(text)
    if first_close and (first_open is None or first_close.start() < first_open.start()):
        text = text[first_close.end() :]
    parts: list[str] = []
    pos = 0
    while True:
        opened = _OPEN.search(text, pos)
        if opened is None:
            parts.append(text[pos:])
            break
        parts.append(text[pos : opened.start()])
        closed = _CLOSE.search(text, opened.end())
        if closed is None:
            break
        pos = closed.end()
    return "".join(parts)
