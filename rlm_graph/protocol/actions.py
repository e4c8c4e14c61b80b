"""The one action type every model output form (text, JSON, tool calls) is parsed into."""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import BaseModel, Field

from rlm_graph import prompts

ActionOp = Literal["call", "peek", "grep", "final"]

# One reply is read up to this many actions, in every form. A wider fan-out CALLs ranges of
# chunks (each child then fans out over its range) or uses the map-reduce planner.
MAX_ACTIONS_PER_TURN = 100
TOO_MANY_ACTIONS = prompts.TOO_MANY_ACTIONS.format(limit=MAX_ACTIONS_PER_TURN)


def _bare(text: str) -> str:
    """Lowercased, punctuation folded to single spaces: how a copied placeholder is spotted."""
    return " ".join(re.sub(r"[\W_]+", " ", text.lower()).split())


# What a FINAL copied from the instructions says, once lowercased and stripped of punctuation.
PLACEHOLDER_ANSWERS = frozenset(
    {"", "answer", "the answer", "your answer", "final answer", "your final answer", "short answer"}
    | {_bare(prompts.EXAMPLE_FINAL)}
)
# Task words copied from a usage line or an error (``CALL("task", "chunk:3")``): no question.
PLACEHOLDER_TASKS = frozenset({"task", "the task", "question", "the question", "your question"})
# A task that is only a target's spelling (``CALL("chunk:15", "chunk:15")``) asks nothing
# either: a replay's leaf read "chunk:15" as its question and answered "The".
_TARGET_SHAPED = re.compile(
    r"(?:all|chunks?\s*:\s*\d+(?:\s*-\s*\d+)?|(?:chars|lines)\s*:\s*\d+\s*-\s*\d+|file:\S+)",
    re.IGNORECASE,
)


class Action(BaseModel):
    """One step the model asked for.

    - ``call``: run a child RLM on ``task`` over ``target``.
    - ``peek``: show a bounded excerpt of ``target``.
    - ``grep``: list lines matching the regex ``pattern`` (optionally inside ``target``).
    - ``final``: the answer.
    """

    op: ActionOp
    task: str | None = None
    target: str | None = None
    pattern: str | None = None
    answer: str | None = None

    def render(self) -> str:
        """The action in the text protocol's own syntax (used in transcripts and logs)."""

        def q(value: str | None) -> str:
            return json.dumps(value or "", ensure_ascii=False)

        if self.op == "call":
            return f"CALL({q(self.task)}, {q(self.target or 'all')})"
        if self.op == "peek":
            return f"PEEK({q(self.target)})"
        if self.op == "grep":
            if self.target and self.target != "all":
                return f"GREP({q(self.pattern)}, {q(self.target)})"
            return f"GREP({q(self.pattern)})"
        return f"FINAL({q(self.answer)})"

    @property
    def placeholder(self) -> bool:
        """A FINAL that says nothing: empty, or the instructions' own placeholder copied back
        (``FINAL("answer")``), which small models do when told to answer now."""
        if self.op != "final":
            return False
        return _bare(self.answer or "") in PLACEHOLDER_ANSWERS

    @property
    def placeholder_task(self) -> bool:
        """A CALL whose task is the usage line's own word (``CALL("task", ...)``), not a
        question."""
        task = (self.task or "").strip().strip("\"'")
        return self.op == "call" and (
            _bare(task) in PLACEHOLDER_TASKS or _TARGET_SHAPED.fullmatch(task) is not None
        )


class ParsedTurn(BaseModel):
    """What one model turn asked for, plus problems to report back to the model."""

    actions: list[Action] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
