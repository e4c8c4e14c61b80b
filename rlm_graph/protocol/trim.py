"""Where a text planner's reply ends: what a model writes after its own turn is not part of it.

Small models run on: they imitate the worked example's next turn (results, a FINAL), write CALLs
past the last chunk, or, having CALLed every chunk, start over from chunk:0 until their output
limit. The server is told where to stop (``planner_stops``), a streamed reply is no longer read
once it repeats itself (``repeats_an_action``), and what arrived is trimmed to the turn.
"""

from __future__ import annotations

import re

from rlm_graph import prompts


def planner_stops(chunks: int) -> list[str]:
    """Where a text planner's turn is over: the example dialogue it would go on to imitate,
    and a CALL one past the last chunk (measured on the 0.5B model: it wrote CALLs up to
    chunk:40 of 18, to its output limit, on every turn). Four: OpenAI's limit."""
    return ["\nUser:", "\nResults:", "\nEnd of example", f'"chunk:{chunks}"']


ACTION_START = re.compile(r"^\s*(CALL|PEEK|GREP|FINAL)\s*\(", re.IGNORECASE)


def _action_lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


def _first_repeat(lines: list[str]) -> int | None:
    seen: set[str] = set()
    for number, line in enumerate(lines):
        if ACTION_START.match(line):
            if line in seen:
                return number
            seen.add(line)
    return None


def repeats_an_action(text: str) -> bool:
    """Whether a reply so far has written one of its complete action lines again (the 0.5B
    model, having CALLed every chunk, starts over from chunk:0 until its output limit)."""
    complete = text[: text.rfind("\n") + 1]
    return _first_repeat(_action_lines(complete)) is not None


def cut_at_repeat(text: str) -> str:
    """``text`` up to the first action line it repeats."""
    lines = text.splitlines()
    at = _first_repeat(_action_lines(text))
    return text if at is None else "\n".join(lines[:at]).rstrip()


def drop_unfinished_action(text: str) -> str:
    """``text`` without a last line that starts an action and never closes it."""
    lines = text.rstrip().splitlines()
    if lines and ACTION_START.match(lines[-1]) and not lines[-1].rstrip().endswith(")"):
        return "\n".join(lines[:-1]).rstrip()
    return text


def cut_continuation(text: str) -> str:
    """Drop what a model wrote after its own turn (it sometimes goes on to invent the results
    and a FINAL, imitating the worked example)."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if number and line.strip().lower().startswith(prompts.PLANNER_STOP_LINES):
            return "\n".join(lines[:number]).rstrip()
    return text


def trim_reply(text: str, *, cut_off: bool) -> str:
    """The planner's turn in ``text``: without the dialogue it went on to invent, from its first
    repeated action on, and, unless the output limit cut it (``cut_off``: then the model is
    told), without the unfinished line a stop sequence left."""
    text = cut_at_repeat(cut_continuation(text))
    return text if cut_off else drop_unfinished_action(text)
