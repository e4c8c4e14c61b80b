"""Fit a planner conversation into the model's window: its oldest middle turns are elided,
then the latest messages keep their tails, longest first, and last of all the opening turn
loses its middle.

The stored transcript stays whole (for inspection); only what is sent is trimmed. A request the
server still refuses as too long is fitted again at the density its refusal measured
(:func:`within_window`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, NamedTuple

from rlm_graph.protocol.message import content_text
from rlm_graph.tokens import CHARS_PER_TOKEN, dense_tokens, usable_tokens

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

    from rlm_graph.graph.model_call import ModelReply

ELIDED = "[earlier turn elided to fit the model's window]"
CUT = "[... cut to fit the model's window]"
# Each message costs a few tokens of chat-template framing.
MESSAGE_OVERHEAD_TOKENS = 4


def estimated_tokens(text: str) -> int:
    # Digits counted a token each, as every size that must not overflow a window is.
    return dense_tokens(text) + MESSAGE_OVERHEAD_TOKENS


def fit_transcript(
    system: str,
    transcript: list[dict[str, str]],
    window_tokens: int,
    reserve_tokens: int,
    density: float = 1.0,
) -> list[dict[str, str]]:
    """The transcript as sent: within ``window_tokens`` less ``reserve_tokens`` for the reply,
    each message counted at ``density`` times its estimate (more than 1 after a server found
    the estimate short)."""

    # Not langchain_core's trim_messages: it drops whole messages, where this keeps each turn's
    # place with a marker (the model sees that turns were elided) and cuts long ones' heads.
    def tokens(text: str) -> int:
        return math.ceil(estimated_tokens(text) * density)

    budget = usable_tokens(window_tokens) - reserve_tokens - tokens(system)
    messages = [dict(message) for message in transcript]

    def total() -> int:
        return sum(tokens(message["text"]) for message in messages)

    # Oldest middle messages go first; keep the first and the last two.
    for index in range(1, max(1, len(messages) - 2)):
        if total() <= budget:
            return messages
        messages[index]["text"] = ELIDED

    def room(message: dict[str, str], least: int) -> int:
        """The characters ``message`` may keep beside a cut mark for the whole to fit (at
        least ``least``)."""
        left = budget - total() + tokens(message["text"])
        chars = (left / density - MESSAGE_OVERHEAD_TOKENS) * CHARS_PER_TOKEN
        return max(least, int(chars) - len(CUT) - 2)

    # Still too long: the latest exchange's messages keep their tails (the newest results),
    # longest first. The last is not always the longest: a turn that must answer ends with a
    # short order after the observation of the turn before, which can be three chunks long.
    for message in sorted(messages[1:], key=lambda message: -len(message["text"])):
        if total() <= budget:
            break
        keep = room(message, 200)
        if len(message["text"]) > keep:
            message["text"] = CUT + "\n" + message["text"][-keep:]
    if total() > budget and len(messages) > 1:
        # Longer still: the opening turn loses its middle. Its head asks the question; its
        # tail gives the budget.
        first = messages[0]
        keep = room(first, 400)
        if len(first["text"]) > keep:
            head = keep * 2 // 3
            first["text"] = f"{first['text'][:head]}\n{CUT}\n{first['text'][head - keep :]}"
    return messages


# A server's refusal of a request longer than its window, as the usual servers word it:
# "request (8406 tokens) exceeds the available context size (8192 tokens)" (llama.cpp),
# "maximum context length is 8192 tokens. However, your messages resulted in 8406 tokens"
# (OpenAI, vLLM), or the code "context_length_exceeded".
_OVER_WINDOW = re.compile(r"context[ _-]?(?:size|length|window)", re.IGNORECASE)
_TOKEN_COUNT = re.compile(r"(\d[\d,]*) tokens", re.IGNORECASE)
# How much denser than the last try to count a request whose refusal gives no sizes.
REFIT_DEFAULT_FACTOR = 1.5
# Tries of one request in all (a refusal costs the server a tokenization, not a reply).
MAX_FITS = 3


class Refusal(NamedTuple):
    """A server's refusal of a request as longer than its window: the request's tokens and
    the window's, as its tokenizer counts them (0 when the refusal does not say)."""

    requested: int
    window: int


def refusal(error: str | None) -> Refusal | None:
    """The refusal for length ``error`` is, or None when it is some other failure."""
    if not error or not _OVER_WINDOW.search(error):
        return None
    counts = [int(count.replace(",", "")) for count in _TOKEN_COUNT.findall(error)][:2]
    if len(counts) < 2 or min(counts) == max(counts):
        return Refusal(0, 0)
    return Refusal(requested=max(counts), window=min(counts))


async def within_window(
    fit: Callable[[float], list[BaseMessage]],
    send: Callable[[list[BaseMessage]], Awaitable[ModelReply]],
    window_tokens: int,
) -> ModelReply:
    """``send(fit(1.0))``: a request fitted to ``window_tokens`` by the estimate. When the
    server refuses it as too long, it is fitted again with each message counted at the
    density the refusal measured: its tokens over the estimate, and more again when the
    server's window is smaller than ``window_tokens``. Every try is charged."""
    density = 1.0
    messages = fit(density)
    reply = await send(messages)
    for _ in range(MAX_FITS - 1):
        refused = refusal(reply.error)
        if refused is None:
            break
        estimate = sum(estimated_tokens(content_text(m.content)) for m in messages)
        measured = refused.requested / max(1, estimate)
        if refused.window:
            measured *= max(1.0, window_tokens / refused.window)
        density = measured if measured > density else density * REFIT_DEFAULT_FACTOR
        messages = fit(density)
        again = await send(messages)
        again.usage = again.usage.add(reply.usage)
        reply = again
    return reply
