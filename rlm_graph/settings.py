"""A run's settings as data: stored with its thread, read back by resume, inspection and fork.

Everything that decides how a run behaves (models, windows, chunking, planner, action format,
limits, thresholds) is fixed when a turn begins and kept in the thread's state, so a resumed run
continues exactly as it started, never with settings re-derived from today's defaults. Secrets
are not settings: API keys come from the environment (or code) again, and a base URL is stored
with any password or key in it masked.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from rlm_graph.budget import Limits
from rlm_graph.context.chunking import Chunking

PlannerKind = Literal["model", "map-reduce"]
ActionFormat = Literal["text", "json", "tools"]
# "calls": the model writes CALL/PEEK/GREP/FINAL actions; "repl": it writes Python cells against
# ``context`` in a sandbox, with sub-calls from inside the code (docs/repl-sandbox.md).
Mode = Literal["calls", "repl"]
# What a user may ask for: a mode, or "auto", chosen for each question from its wording when
# the run starts (``questions.mode_for``); a stored run keeps the mode it ran in.
ModeChoice = Literal["calls", "repl", "auto"]


class ModelSettings(BaseModel):
    """How to get a model back: its spec string, or None for a chat model object passed in
    code (a resume from Python must pass it again)."""

    spec: str | None
    name: str
    base_url: str | None = Field(default=None, description="password and keys masked")
    window_tokens: int
    timeout: float | None = None


class RunSettings(BaseModel):
    model: ModelSettings
    sub_model: ModelSettings
    limits: Limits
    chunking: Chunking
    planner: PlannerKind = "model"
    action_format: ActionFormat = "text"
    sub_window_tokens: int | None = None
    direct_below: int | None = None
    concurrency: int = Field(ge=1, description="model calls in flight, whole tree")
    approve_over: int | None = Field(
        default=None, description="pause for approval before a fan-out reading more tokens"
    )
    judge: bool = Field(
        default=True,
        description="verify a lookup's finding by a second call that reads its passage alone",
    )
    judge_model: str | None = Field(
        default=None,
        description="reader of findings for questions in other words (None: the default rule)",
    )
    mode: Mode = Field(
        default="calls",
        description="calls: CALL/PEEK/GREP actions; repl: Python cells with sub-calls in code",
    )

    @property
    def sub_reading_tokens(self) -> int:
        """Tokens of context one sub-call may read (as ``RLMRuntime.reading_tokens()``)."""
        from rlm_graph.tokens import reading_tokens

        return reading_tokens(self.sub_window_tokens or self.sub_model.window_tokens)
