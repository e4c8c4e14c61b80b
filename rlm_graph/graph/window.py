"""Fit a planner conversation into the model's window by eliding its oldest middle turns.

The stored transcript stays whole (for inspection); only what is sent is trimmed. The first
message (question + context description) and the latest exchange are always kept.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from rlm_graph.tokens import CHARS_PER_TOKEN, dense_tokens, usable_tokens

if TYPE_CHECKING:
    from rlm_graph.graph.model_call import ModelReply

ELIDED = "[earlier turn elided to fit the model's window]"
# Each message costs a few tokens of chat-template framing.
MESSAGE_OVERHEAD_TOKENS = 4


def estimated_tokens(text: str) -> int:
    # Digits counted a token each: a planner turn that had read records of codes and dates,
    # estimated at 4 bytes a token, was sent at 8,406 tokens to an 8,192-token window.
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
    # place with a marker (the model sees that turns were elided) and cuts the latest one's head.
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
    if total() > budget and messages:
        # Still too long: keep the tail of the latest message, which holds the newest results.
        last = messages[-1]
        room = max(200, int((budget - total() + tokens(last["text"])) * CHARS_PER_TOKEN / density))
        if len(last["text"]) > room:
            last["text"] = "[... cut to fit the model's window]\n" + last["text"][-room:]
    return messages


# A server's refusal of a request longer than its window, as the usual servers word it:
# "request (8406 tokens) exceeds the available context size (8192 tokens)" (llama.cpp),
# "maximum context length is 8192 tokens. However, your messages resulted in 8406 tokens"
# (OpenAI, vLLM), or the code "context_length_exceeded".
_OVER_WINDOW = re.compile(r"context[ _-]?(?:size|length|window)", re.IGNORECASE)
_TOKEN_COUNT = re.compile(r"(\d[\d,]*) tokens", re.IGNORECASE)
# A refused request is fitted again this much inside the window its refusal implies.
REFIT_MARGIN = 0.9
# How much denser than estimated to count a request whose refusal gives no sizes.
REFIT_DEFAULT_DENSITY = 1.5
# Tries of one request in all (a refusal costs the server a tokenization, not a reply).
MAX_FITS = 3


def overshoot(error: str | None) -> float | None:
    """How many times too long a refused request was (its tokens over the server's window,
    and a margin), or None when ``error`` is no refusal for length."""
    if not error or not _OVER_WINDOW.search(error):
        return None
    counts = [int(count.replace(",", "")) for count in _TOKEN_COUNT.findall(error)][:2]
    if len(counts) == 2 and min(counts) > 0 and max(counts) > min(counts):
        return max(counts) / min(counts) / REFIT_MARGIN
    return REFIT_DEFAULT_DENSITY


async def within_window(ask: Callable[[float], Awaitable[ModelReply]]) -> ModelReply:
    """``ask(density)``: a model call whose request is fitted to the window with each message
    counted at ``density`` times its estimate. When the server refuses it as too long (its
    tokenizer counted more than the estimate), it is fitted again, denser by the refusal's
    overshoot; every try is charged."""
    density = 1.0
    reply = await ask(density)
    for _ in range(MAX_FITS - 1):
        factor = overshoot(reply.error)
        if factor is None:
            break
        density *= factor
        again = await ask(density)
        again.usage = again.usage.add(reply.usage)
        reply = again
    return reply
