"""Fit a planner conversation into the model's window by eliding its oldest middle turns.

The stored transcript stays whole (for inspection); only what is sent is trimmed. The first
message (question + context description) and the latest exchange are always kept.
"""

from __future__ import annotations

from rlm_graph.tokens import CHARS_PER_TOKEN, estimate_tokens, usable_tokens

ELIDED = "[earlier turn elided to fit the model's window]"
# Each message costs a few tokens of chat-template framing.
MESSAGE_OVERHEAD_TOKENS = 4


def estimated_tokens(text: str) -> int:
    return estimate_tokens(text) + MESSAGE_OVERHEAD_TOKENS


def fit_transcript(
    system: str, transcript: list[dict[str, str]], window_tokens: int, reserve_tokens: int
) -> list[dict[str, str]]:
    # Not langchain_core's trim_messages: it drops whole messages, where this keeps each turn's
    # place with a marker (the model sees that turns were elided) and cuts the latest one's head.
    budget = usable_tokens(window_tokens) - reserve_tokens - estimated_tokens(system)
    messages = [dict(message) for message in transcript]

    def total() -> int:
        return sum(estimated_tokens(message["text"]) for message in messages)

    # Oldest middle messages go first; keep the first and the last two.
    for index in range(1, max(1, len(messages) - 2)):
        if total() <= budget:
            return messages
        messages[index]["text"] = ELIDED
    if total() > budget and messages:
        # Still too long: keep the tail of the latest message, which holds the newest results.
        last = messages[-1]
        room = max(200, int((budget - total() + estimated_tokens(last["text"])) * CHARS_PER_TOKEN))
        if len(last["text"]) > room:
            last["text"] = "[... cut to fit the model's window]\n" + last["text"][-room:]
    return messages
