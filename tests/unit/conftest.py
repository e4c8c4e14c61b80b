from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pydoc_data.topics import topics

import pytest
from langchain_core.messages import BaseMessage

from rlm_graph import RLM
from rlm_graph.samples import make_haystack
from rlm_graph.testing import (
    ScriptedChatModel,
    is_found_lines_prompt,
    is_leaf_prompt,
    needle_finder,
)

NEEDLE_PATTERN = r"\d{4}-ALPHA"
NOTHING_FOUND = json.dumps({"found": False, "answer": "", "quotes": []})


@pytest.fixture(autouse=True)
def no_installed_reader(monkeypatch):
    """Unit tests never start the embedded 1.5B as the reader of findings in other words,
    whether or not this machine has it installed: a test that wants one names it."""
    from rlm_graph.models import local

    monkeypatch.setattr(local, "default_rewording_reader", lambda: None)


@pytest.fixture(params=["memory", "sqlite"])
def checkpointer(request, tmp_path):
    """Every graph test runs against each real checkpointer backend."""
    return None if request.param == "memory" else str(tmp_path / "checkpoints.sqlite")


@pytest.fixture
def haystack() -> str:
    return make_haystack(20_000, seed=3)


def planner(
    turns: list[str] | Callable[[list[BaseMessage], int], str],
    leaf: Callable[[list[BaseMessage]], str] | None = None,
    found: Callable[[list[BaseMessage]], str] | None = None,
    **kwargs,
) -> ScriptedChatModel:
    """A fake model: leaf prompts go to ``leaf``, the read of the lines a question's names
    found to ``found`` (by default it finds nothing); planner turns are scripted in order
    (or computed from the messages and the turn number)."""
    leaf = leaf or needle_finder(NEEDLE_PATTERN)
    counter = {"turn": 0}

    def respond(messages: list[BaseMessage]) -> str:
        if is_leaf_prompt(messages):
            return leaf(messages)
        if is_found_lines_prompt(messages):
            return found(messages) if found else NOTHING_FOUND
        turn = counter["turn"]
        counter["turn"] += 1
        if callable(turns):
            return turns(messages, turn)
        return turns[min(turn, len(turns) - 1)]

    return ScriptedChatModel(respond=respond, **kwargs)


# Python's own help topics: prose nobody here wrote, for facts planted at random places.
HELP = "\n\n".join(topics[name].strip() for name in sorted(topics))[:120_000]


def planted(seed: int, facts: list[str]) -> str:
    """The help text with each fact on a line of its own after a random paragraph."""
    paragraphs = HELP.split("\n\n")
    rng = random.Random(seed)
    for fact in facts:
        paragraphs.insert(rng.randrange(1, len(paragraphs)), fact)
    return "\n\n".join(paragraphs)


def chunk_calls(task: str, count: int) -> str:
    return "\n".join(f'CALL("{task}", "chunk:{i}")' for i in range(count))


def final_from_results(messages: list[BaseMessage]) -> str:
    """A planner turn that answers with the first non-NOT FOUND result it was shown."""
    found = re.findall(r"(?:-> |^- )(\d{4}-ALPHA)", str(messages[-1].content), re.M)
    return f'FINAL("{found[0]}")' if found else 'FINAL("unknown")'


def make_rlm(model, checkpointer=None, **kwargs) -> RLM:
    # The judge's own tests turn it on (test_judge.py); counts of model calls here are the
    # planner's and the leaves'.
    defaults = {"chunk_tokens": 500, "sub_window_tokens": 1200, "concurrency": 4, "judge": False}
    return RLM(model=model, checkpointer=checkpointer, **{**defaults, **kwargs})
