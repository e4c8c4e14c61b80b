"""Fake models and helpers for REPL-mode graph tests: planner turns scripted as code cells,
sub-calls answered by plain functions, and what the planner was shown read back."""

from __future__ import annotations

import re
from collections.abc import Callable

from langchain_core.messages import BaseMessage

from rlm_graph import RLM, prompts
from rlm_graph.protocol.message import content_text
from rlm_graph.testing import ScriptedChatModel, is_leaf_prompt, needle_finder
from tests.unit.conftest import NEEDLE_PATTERN

REPL_HEAD = prompts.REPL_SYSTEM.split("{")[0]


def is_repl_turn(messages: list[BaseMessage]) -> bool:
    """A REPL planner turn: a free one, or one that must answer (a conversation of its own)."""
    system = content_text(messages[0].content)
    return system.startswith(REPL_HEAD) or is_answer_now(messages)


def is_answer_now(messages: list[BaseMessage]) -> bool:
    return content_text(messages[0].content) == prompts.REPL_ANSWER_SYSTEM


def repl_model(
    turns: list[str] | Callable[[list[BaseMessage], int], str],
    query: Callable[[str], str] = str.upper,
    **kwargs,
) -> ScriptedChatModel:
    """Planner turns scripted in order (or computed); an llm_query's prompt answered by
    ``query``; leaf prompts (rlm_query children) by the needle finder."""
    counter = {"turn": 0}
    leaf = needle_finder(NEEDLE_PATTERN)

    def respond(messages: list[BaseMessage]) -> str:
        if is_repl_turn(messages):
            turn = counter["turn"]
            counter["turn"] += 1
            if callable(turns):
                return turns(messages, turn)
            return turns[min(turn, len(turns) - 1)]
        if is_leaf_prompt(messages):
            return leaf(messages)
        return query(content_text(messages[-1].content))

    return ScriptedChatModel(respond=respond, **kwargs)


def repl_rlm(model, checkpointer=None, **kwargs) -> RLM:
    defaults = {"concurrency": 4, "judge": False, "sub_window_tokens": 1200, "mode": "repl"}
    return RLM(model=model, checkpointer=checkpointer, **{**defaults, **kwargs})


def cell(code: str) -> str:
    return f"```repl\n{code.strip()}\n```"


def query_prompts(model: ScriptedChatModel) -> list[str]:
    return [
        content_text(call[-1].content)
        for call in model.calls
        if not is_repl_turn(call) and not is_leaf_prompt(call)
    ]


def shown(observations: str, label: str, output: str) -> bool:
    """Whether a cell's output was shown to the planner, under the cell's name."""
    return (
        re.search(rf"^{label} printed:\n{re.escape(output)}(\n|$)", observations, re.M) is not None
    )


def transcripts(model: ScriptedChatModel) -> list[str]:
    """The last user message of every planner turn: what the model read after its cells."""
    return [content_text(call[-1].content) for call in model.calls if is_repl_turn(call)]


LOG = "".join(
    f"ERROR disk full on /dev/sd{i % 4}\n" if i % 7 == 0 else f"INFO request {i} ok\n"
    for i in range(400)
)
ERRORS = sum(1 for line in LOG.splitlines() if line.startswith("ERROR"))
