"""The sandbox interface REPL mode is written against.

A sandbox runs the model's code cells in a session that keeps its variables between cells,
with ``context`` bound to the run's context. A cell either finishes (output, error) or pauses
at sub-calls (``llm_query``, ``llm_query_batched``, ``rlm_query``, ``rlm_query_batched``);
the host answers them and the same cell goes on. ``FINAL(value)`` / ``FINAL_VAR(value)`` called by
the code set the outcome's ``final`` (the code's own answer) and the cell goes on. A session's state serialises to bytes at any
point between calls, so a crash between a pause and its answers loses nothing.

``MontySandbox`` implements this on pydantic-monty; a container runtime can replace it by
implementing the same two protocols.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from rlm_graph.repl.models import CallError, CellOutcome, ContextValue, SandboxLimits


class SandboxBusyError(RuntimeError):
    """The session is paused at sub-calls (or is not paused) and cannot take this request."""


class VariableError(LookupError):
    """A variable asked for by name (FINAL_VAR) is not defined or not a valid name."""


@runtime_checkable
class SandboxSession(Protocol):
    """One REPL session: a live interpreter holding the code's variables."""

    @property
    def paused(self) -> bool:
        """True between a paused outcome and the ``resume`` that answers it."""
        ...

    async def run(self, code: str) -> CellOutcome:
        """Run one cell. Raises SandboxBusyError while a cell is paused."""
        ...

    async def resume(self, results: Mapping[str, str | CallError]) -> CellOutcome:
        """Answer every pending call of the paused cell (by ``PendingCall.id``) and go on."""
        ...

    async def read_variable(self, name: str) -> str:
        """A variable's value as text (``str(value)``), for FINAL_VAR. Raises VariableError."""
        ...

    async def collection_size(self, name: str) -> tuple[str, int] | None:
        """The type name and length of a list, tuple, set or dict variable; None for any
        other value. Raises VariableError."""
        ...

    async def state(self) -> bytes:
        """The session's state (variables, and a paused cell if any), without the context."""
        ...

    async def close(self) -> None:
        """Release the interpreter. The session cannot be used afterwards."""
        ...


@runtime_checkable
class Sandbox(Protocol):
    """A factory of sessions. One per process is enough; it may own worker processes."""

    async def start(
        self, context: ContextValue, limits: SandboxLimits | None = None, prelude: str = ""
    ) -> SandboxSession:
        """A fresh session with ``context`` bound: a str, or a folder as file name -> text;
        ``prelude``, the host's own code (helpers such as ``record_fields``), run before any cell and
        not counted as one."""
        ...

    async def restore(
        self, state: bytes, context: ContextValue, limits: SandboxLimits | None = None
    ) -> SandboxSession:
        """A session rebuilt from ``state()`` bytes and the same context. A state taken while
        paused comes back paused: answer it with ``resume``. ``limits`` default to the saved
        ones (monty restores its interpreter limits from the state whatever is passed)."""
        ...

    async def aclose(self) -> None:
        """Stop every worker this sandbox started."""
        ...
