"""The one token estimate used everywhere a size must be known before a model has read it.

No tokenizer is loaded (that would cost seconds and differ per model): text is counted at
``CHARS_PER_TOKEN`` UTF-8 bytes per token, the usual average for English prose and code.
Decisions that must not overflow a window (does this slice fit one call? does this planner
conversation fit?) compare estimates against ``fits_window``, which keeps a safety margin for
tokenizers that produce more tokens than the estimate.
"""

from __future__ import annotations

import math

CHARS_PER_TOKEN = 4.0
# The embedded models' tokenizer (Qwen2.5's) writes every digit as a token of its own: a table
# of ids and dates, estimated at 4 bytes a token, overflowed an 8,192-token window (8,209).
TOKENS_PER_DIGIT = 1.0
_DIGITS = "0123456789"
_NO_DIGITS = str.maketrans("", "", _DIGITS)
# Real tokenizers vary (code, numbers and non-English text run denser); keep 15% spare.
ESTIMATE_MARGIN = 0.85


def estimate_tokens(text: str | bytes | int) -> int:
    """Estimated tokens of a text, or of a text of that many bytes (0 for nothing)."""
    # Not langchain_core's count_tokens_approximately: it counts the characters of messages
    # (plus per-message extras), where chunks, windows and budgets need a slice's UTF-8 bytes.
    if isinstance(text, int):
        size = text
    elif isinstance(text, str):
        size = len(text.encode("utf-8", errors="replace")) if not text.isascii() else len(text)
    else:
        size = len(text)
    return math.ceil(max(0, size) / CHARS_PER_TOKEN)


def dense_tokens(text: str | bytes) -> int:
    """Estimated tokens of a text with its digits counted a token each: for a decision that
    must not overflow a window on records of ids, dates and amounts (``estimate_tokens`` is the
    size everywhere else, sizes of text not read included)."""
    if isinstance(text, str):
        digits = len(text) - len(text.translate(_NO_DIGITS))
    else:
        digits = len(text) - len(text.translate(None, _DIGITS.encode()))
    return math.ceil(estimate_tokens(text) + digits * (TOKENS_PER_DIGIT - 1 / CHARS_PER_TOKEN))


def usable_tokens(window_tokens: int) -> int:
    """How many estimated tokens may be planned into a window of ``window_tokens``."""
    return max(1, int(window_tokens * ESTIMATE_MARGIN))


# Tokens a leaf prompt needs beyond its slice: instructions, the task and the answer.
LEAF_PROMPT_RESERVE_TOKENS = 512


def reading_tokens(window_tokens: int) -> int:
    """How many tokens of context one model call with a window of ``window_tokens`` may read
    (the leaf prompt's reserve and the estimate's margin left out)."""
    return max(256, usable_tokens(window_tokens - LEAF_PROMPT_RESERVE_TOKENS))
