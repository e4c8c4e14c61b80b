"""Data that crosses the sandbox boundary: limits in, cell outcomes and pending calls out.

Plain pydantic models, so the graph layer can put them in state, log them and compare them
without knowing which sandbox produced them.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rlm_graph.secrets import redact

# The host functions the model's code may call. Anything else that the code calls but never
# defined is answered with a NameError inside the sandbox, never forwarded to the host.
SubCallFunction = Literal["llm_query", "llm_query_batched", "rlm_query", "rlm_query_batched"]
SUB_CALL_FUNCTIONS: tuple[str, ...] = (
    "llm_query",
    "llm_query_batched",
    "rlm_query",
    "rlm_query_batched",
)

# The name the whole context is bound to in every session.
CONTEXT_VARIABLE = "context"

# The code's own way to answer: ``FINAL(value)`` (or ``FINAL_VAR(value)``) called in a cell
# records ``value`` as the cell's answer and returns None. Small models write
# ``print(FINAL(count))`` inside their code (the 1.5B: in most first cells); as a function,
# the value the code computed is the answer instead of a NameError.
ANSWER_FUNCTIONS: tuple[str, ...] = ("FINAL", "FINAL_VAR")

# What can end a cell badly, so the caller can react without parsing the message:
# "exception" and "syntax" are the model's own errors (the session is intact);
# "timeout", "memory" and "crash" are limits or a dead worker (the session was rolled back).
ErrorKind = Literal["exception", "syntax", "timeout", "memory", "crash"]

# A cell that failed reaching for a file (the sandbox refuses every file).
_FILE_ACCESS = re.compile(r"\bopen\(|PermissionError|FileNotFoundError|IsADirectoryError")

# The context a session is started with: the text itself, or a folder as file name -> text.
ContextValue = str | dict[str, str]


class SandboxLimits(BaseModel):
    """Resource limits for one REPL session; every cell is held to them."""

    model_config = ConfigDict(frozen=True)

    cell_seconds: float = Field(default=30.0, gt=0)
    """Execution time per cell, counted only while code runs (not while sub-calls are out)."""

    memory_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    """Heap the cell's own data may use, on top of the context (which is added to the cap)."""

    recursion_depth: int = Field(default=500, gt=0)
    """Maximum Python call depth inside the sandbox."""

    output_chars: int = Field(default=20_000, ge=0)
    """Printed output shown back per cell; the rest is cut and the cut is reported."""

    error_chars: int = Field(default=4_000, gt=0)
    """Traceback shown back per cell; its head is cut first (the exception is at the end)."""

    max_suspensions: int = Field(default=100_000, gt=0)
    """Host round trips per worker session (monty's default of 1000 is too low for long runs).
    Budgets for sub-calls belong to the caller; this is only a runaway backstop."""


class PendingCall(BaseModel):
    """One sub-call a paused cell waits for. Its ``id`` is what ``resume`` is answered with."""

    model_config = ConfigDict(frozen=True)

    id: str
    """Unique within the session and stable across dump and restore, e.g. ``"c3.7"`` or
    ``"c3.7.2"`` (cell 3, sandbox call 7, item 2 of a batch)."""

    function: SubCallFunction
    args: dict[str, str]
    """``{"prompt": ...}`` for llm_query and each llm_query_batched item,
    ``{"task": ..., "text": ...}`` for rlm_query and each rlm_query_batched item."""

    batch_index: int | None = None
    """Position within a ``*_batched`` list; None for single calls."""


class CallError(BaseModel):
    """An answer that is a failure: raised in the sandbox as ``RuntimeError(message)`` at the call
    site, so the code can catch it (for example when the sub-call budget is spent)."""

    model_config = ConfigDict(frozen=True)

    message: str


# Output of more lines than this is cut to them, with its count of lines.
SHOWN_LINES = 20


class CellOutcome(BaseModel):
    """What one ``run`` or ``resume`` ended with: the cell finished, or it waits for sub-calls."""

    status: Literal["finished", "paused"]
    cell: int
    """1-based index of the cell in its session."""

    output: str = ""
    """Everything the cell printed so far (stdout and stderr, in order), truncated."""

    output_cut_chars: int = 0
    """How many printed characters were cut; 0 when the output is complete."""

    output_lines: int = 0
    """How many lines the cell printed in all, those cut included."""

    result: str | None = None
    """``repr`` of the cell's trailing expression when it has one and it is not None."""

    error: str | None = None
    """The traceback of the exception that ended the cell, if any."""

    error_kind: ErrorKind | None = None

    rolled_back: bool = False
    """True when a limit or a worker crash ended the cell: every variable is as it was before
    the cell started, because a heap stopped mid-operation cannot be trusted."""

    pending: list[PendingCall] = Field(default_factory=list)
    """The sub-calls to answer before the cell can go on; empty unless ``status == "paused"``."""

    final: str | None = None
    """The value the cell's code gave ``FINAL(...)`` / ``FINAL_VAR(...)``, as text (the last
    such call wins); None when it called neither."""

    @field_validator("output", "result", "error", "final")
    @classmethod
    def _no_secrets(cls, text: str | None) -> str | None:
        # Whatever a sandbox produced, no known secret leaves it: this text goes to the model,
        # the checkpoints and the tree.
        return redact(text)

    @property
    def ok(self) -> bool:
        return self.status == "finished" and self.error is None

    def render(self) -> str:
        """The text shown back to the model for a finished cell."""
        parts: list[str] = []
        lines = self.output.rstrip("\n").split("\n") if self.output else []
        if len(lines) > SHOWN_LINES:
            lines = lines[:SHOWN_LINES]
        if lines:
            parts.append("\n".join(lines))
        if self.output_lines > len(lines):
            # Models printed every match and then counted the lines by eye (3 for 137): the
            # count is said, and the wall of lines is not shown.
            parts.append(
                f"[output cut: the cell printed {self.output_lines:,} lines; the first "
                f"{len(lines):,} are shown. Print less, a count, or a slice]"
            )
        elif self.output_cut_chars:
            parts.append(
                f"[output truncated: {self.output_cut_chars} more characters were printed and "
                "are not shown; print less, or a slice]"
            )
        if self.result is not None:
            parts.append(self.result)
        if self.error is not None:
            parts.append(self.error.rstrip("\n"))
            if _FILE_ACCESS.search(self.error):
                from rlm_graph.prompts import REPL_NO_FILES_HINT

                parts.append(REPL_NO_FILES_HINT)
            if self.rolled_back:
                parts.append("[the session was restored to its state before this cell]")
        return "\n".join(parts) if parts else "[no output]"
