"""Fit a planner conversation into the model's window by eliding its oldest middle turns.

The stored transcript stays whole (for inspection); only what is sent is trimmed. The first
message (question + context description) and the latest exchange are always kept.
"""

from __future__ import annotations

# Conservative: most tokenizers average about 4 characters per token on English text.
CHARS_PER_TOKEN = 3.5
ELIDED = "[earlier turn elided to fit the model's window]"


def estimated_tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 4


def fit_transcript(
    system: str, transcript: list[dict[str, str]], window_tokens: int, reserve_tokens: int
) -> list[dict[str, str]]:
    budget = window_tokens - reserve_tokens - estimated_tokens(system)
    messages = [dict(message) for message in transcript]

    def total() -> int:
        return sum(estimated_tokens(message["content"]) for message in messages)

    # Oldest middle messages go first; keep the first and the last two.
    for index in range(1, max(1, len(messages) - 2)):
        if total() <= budget:
            return messages
        messages[index]["content"] = ELIDED
    if total() > budget and messages:
        # Still too long: keep the tail of the latest message, which holds the newest results.
        last = messages[-1]
        room = max(
            200, int((budget - total() + estimated_tokens(last["content"])) * CHARS_PER_TOKEN)
        )
        if len(last["content"]) > room:
            last["content"] = "[... cut to fit the model's window]\n" + last["content"][-room:]
    return messages
