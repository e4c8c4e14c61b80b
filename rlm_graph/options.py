"""``RLMOptions``: the options a user chooses for a run, in one place.

A run's settings take three forms: these options (what ``RLM(...)``'s keywords and the CLI's
flags set), the live ``RLMRuntime`` (``configuration.py``: resolved models, the context registry,
the concurrency limiter) and the stored ``RunSettings`` (``settings.py``: what a thread keeps, so
a resume or a fork runs as the run began). ``RLM`` builds its options once from its keywords;
``RLMOptions.from_settings`` reads them back from a stored run.

To add an option: a field here, the same keyword on ``RLM.__init__`` (a test pins that they
agree), its use in ``RLM.runtime``, and, if a resume must keep it, a field on ``RunSettings``
with the same name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, Field, SkipValidation, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from rlm_graph.budget import Limits
from rlm_graph.context.chunking import Chunking
from rlm_graph.errors import RLMError
from rlm_graph.models import ResolvedModel
from rlm_graph.settings import ActionFormat, ModeChoice, PlannerKind, RunSettings

# A model as a user names it: a spec string, a LangChain chat model, or one already resolved.
ModelChoice = str | BaseChatModel | ResolvedModel
# LangGraph's checkpoint write modes: "sync" (before each next step), "async" (overlapping the
# next step, the default) or "exit" (only when the run ends).
Durability = Literal["sync", "async", "exit"]

__all__ = ["Durability", "RLMOptions"]

# The error type of a rule across fields (REPL mode is planned by the model).
_RULE = "rlm_option"
# The one-line message a field that fails its check gives, in the order RLM has always checked
# them (the first broken one is reported). Users and the CLI see these, not pydantic's text.
_MESSAGES: dict[str, Callable[[Any], str]] = {
    "planner": lambda value: f"unknown planner {value!r}: use 'model' or 'map-reduce'",
    "action_format": lambda value: f"unknown action format {value!r}: use text, json or tools",
    "mode": lambda value: f"unknown mode {value!r}: use 'calls', 'repl' or 'auto'",
    "durability": lambda value: f"unknown durability {value!r}: use sync, async or exit",
    "concurrency": lambda _: "concurrency must be at least 1",
    "direct_below": lambda _: "direct_below must be 0 (always recurse) or a number of tokens",
    "approve_over": lambda _: "approve_over must be a number of tokens (0: approve every fan-out)",
}


class RLMOptions(BaseModel):
    """How a run goes: ``RLM``'s keywords (all but ``checkpointer`` and ``on_event``), checked.

    A broken rule raises ``RLMError`` with a one-line message; a bad limit, chunking or type
    (say ``max_depth=40``: ``Limits``' own check) raises pydantic's ``ValidationError``.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True, extra="forbid")

    # Models are checked when they are resolved, lazily: starting the local server costs seconds.
    model: SkipValidation[ModelChoice] = Field(
        default="local", description="root model: a spec (local, openai:NAME, ...) or an object"
    )
    sub_model: SkipValidation[ModelChoice | None] = Field(
        default=None, description="model for sub-calls (None: the root model)"
    )
    base_url: str | None = Field(default=None, description="OpenAI-compatible server URL")
    # Passed on as given (a SecretStr too), and never echoed in a validation error.
    api_key: SkipValidation[str | None] = Field(
        default=None, repr=False, description="key for that server"
    )
    max_depth: int = Field(default=1, description="CALL levels below the root")
    max_calls: int = Field(default=100, description="model calls in the whole tree")
    max_tokens: int | None = Field(default=None, description="input+output tokens, whole tree")
    max_seconds: float | None = Field(default=None, description="wall-clock seconds")
    max_iterations: int = Field(default=8, description="planner turns per call")
    concurrency: int | None = Field(
        default=None, ge=1, description="model calls in flight, whole tree (None: per model)"
    )
    planner: PlannerKind = Field(
        default="model", description="model: the model plans; map-reduce: a CALL per chunk"
    )
    action_format: ActionFormat = Field(
        default="text", description="how the planner writes actions"
    )
    chunk_tokens: int | None = Field(
        default=None, description="chunk size in tokens (None: sized to fit a leaf)"
    )
    overlap_tokens: int | None = Field(
        default=None, description="overlap between chunks (None: a twentieth of a chunk)"
    )
    sub_window_tokens: int | None = Field(
        default=None, description="tokens a sub-call may read (None: the sub-model's window)"
    )
    direct_below: int | None = Field(
        default=None,
        ge=0,
        description="answer in one call below this many tokens (None: whenever it fits; "
        "0: always recurse)",
    )
    approve_over: int | None = Field(
        default=None, ge=0, description="pause for approval before a fan-out reading more tokens"
    )
    judge: bool = Field(
        default=True,
        description="verify a lookup's finding by a second call that reads its passage alone",
    )
    judge_model: str | None = Field(
        default=None,
        description="model spec of the reader that verifies a finding for a question asked in "
        "other words than the text's (None: the sub-model; with the embedded 0.5B, the "
        "embedded 1.5B when installed, else none, so such findings stay unverified)",
    )
    mode: ModeChoice = Field(
        default="auto",
        description="calls: CALL/PEEK/GREP actions; repl: Python cells with sub-calls in code; "
        "auto: repl for a question that counts or totals, calls for any other",
    )
    timeout: float | None = Field(default=None, description="seconds per model request")
    durability: Durability = Field(
        default="async", description="when LangGraph writes checkpoints: sync, async or exit"
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            message = _broken_rule(exc)
            if message is None:
                raise
            raise RLMError(message) from None

    @model_validator(mode="after")
    def _fits_together(self) -> RLMOptions:
        if self.mode == "repl" and self.planner != "model":
            raise PydanticCustomError(
                _RULE, "mode 'repl' is planned by the model: use planner='model' with it"
            )
        # Limits and Chunking check their own fields (max_depth above 16, an overlap as long
        # as a chunk); built here, their errors name the keyword that caused them.
        _ = self.limits, self.chunking
        return self

    @property
    def limits(self) -> Limits:
        return Limits(
            max_depth=self.max_depth,
            max_calls=self.max_calls,
            max_tokens=self.max_tokens,
            max_seconds=self.max_seconds,
            max_iterations=self.max_iterations,
        )

    @property
    def chunking(self) -> Chunking | None:
        """The chunking asked for, or None: the runtime sizes chunks to fit a leaf."""
        if self.chunk_tokens is None and self.overlap_tokens is None:
            return None
        chunk = self.chunk_tokens or 1000
        overlap = self.overlap_tokens if self.overlap_tokens is not None else chunk // 20
        return Chunking(chunk_tokens=chunk, overlap_tokens=overlap)

    def keywords(self) -> dict[str, Any]:
        """These options as ``RLM``'s keywords (the objects themselves: models stay models)."""
        return {name: getattr(self, name) for name in type(self).model_fields}

    @classmethod
    def from_settings(cls, settings: RunSettings, **given: Any) -> RLMOptions:
        """The options a stored run ran with. Its models are not options here (a stored model is
        a spec to resolve again), so they come in ``given`` with anything else to change."""
        # RunSettings names a stored option as RLM does; limits and chunking are nested there.
        same_name = (set(RunSettings.model_fields) & set(cls.model_fields)) - {"model", "sub_model"}
        stored = {
            **settings.model_dump(include=same_name),
            **settings.limits.model_dump(),
            "chunk_tokens": settings.chunking.chunk_tokens,
            "overlap_tokens": settings.chunking.overlap_tokens,
        }
        return cls(**{**stored, **given})


def _broken_rule(exc: ValidationError) -> str | None:
    """The message of the first rule ``exc`` reports as broken, or None (a limit, a type)."""
    errors = exc.errors()
    for error in errors:
        if error["type"] == _RULE:
            return error["msg"]
    failed = {error["loc"][0]: error["input"] for error in errors if error["loc"]}
    for field, message in _MESSAGES.items():
        if field in failed:
            return message(failed[field])
    return None
