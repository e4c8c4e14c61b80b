"""Limits a user sets, and the remaining budget that travels in graph state.

Budgets are shares, not a shared counter: a parent hands each child a share of what it has
left and subtracts what the child actually used when it returns. That keeps every number in
checkpointed state (a resumed run continues the same budget) and needs no cross-task locking.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pydantic import BaseModel, Field, field_validator


class Limits(BaseModel):
    """What a run may spend. ``None`` means unlimited."""

    max_depth: int = Field(default=1, ge=0, description="levels of CALLs below the root")
    max_calls: int = Field(default=100, ge=1, description="model calls in the whole tree")
    max_tokens: int | None = Field(
        default=None, ge=1, description="input+output tokens, whole tree"
    )
    max_seconds: float | None = Field(default=None, gt=0, description="wall-clock seconds")
    max_iterations: int = Field(default=8, ge=1, description="planner turns per RLM call")

    @field_validator("max_depth")
    @classmethod
    def _depth_is_sane(cls, value: int) -> int:
        if value > 16:
            raise ValueError("max_depth above 16 is almost certainly a mistake")
        return value


class Budget(BaseModel):
    """What one RLM call may still spend. Lives in graph state as a dict."""

    max_depth: int
    max_iterations: int
    calls_left: int
    tokens_left: int | None = None
    seconds_left: float | None = None
    # Wall-clock time of the last accounting step; elapsed time since then is charged next.
    last_tick: float = Field(default_factory=time.time)

    @classmethod
    def from_limits(cls, limits: Limits) -> Budget:
        return cls(
            max_depth=limits.max_depth,
            max_iterations=limits.max_iterations,
            calls_left=limits.max_calls,
            tokens_left=limits.max_tokens,
            seconds_left=limits.max_seconds,
        )

    def tick(self, now: float | None = None, paused: Sequence[tuple[float, float]] = ()) -> Budget:
        """Charge the wall time elapsed since the last tick, except ``paused`` spans (the time a
        crashed run lay dead before its resume)."""
        now = time.time() if now is None else now
        elapsed = max(0.0, now - self.last_tick)
        for start, end in paused:
            elapsed -= max(0.0, min(end, now) - max(start, self.last_tick))
        seconds = None if self.seconds_left is None else self.seconds_left - max(0.0, elapsed)
        return self.model_copy(update={"seconds_left": seconds, "last_tick": now})

    def charge(self, *, calls: int = 0, tokens: int = 0) -> Budget:
        return self.model_copy(
            update={
                "calls_left": self.calls_left - calls,
                "tokens_left": None if self.tokens_left is None else self.tokens_left - tokens,
            }
        )

    def exhausted_reason(self, *, calls_needed: int = 1) -> str | None:
        """Why no further model call may be made, or None if one may."""
        if self.calls_left < calls_needed:
            return "model-call budget used up"
        if self.tokens_left is not None and self.tokens_left <= 0:
            return "token budget used up"
        if self.seconds_left is not None and self.seconds_left <= 0:
            return "time budget used up"
        return None

    def share(self, children: int, *, reserve_calls: int = 1) -> Budget | None:
        """The budget one of ``children`` parallel children gets, or None if none can run.

        The parent keeps ``reserve_calls`` for its own next turn. Time is not divided: children
        run in parallel against the same clock.
        """
        spendable = self.calls_left - reserve_calls
        if children <= 0 or spendable < 1:
            return None
        calls = max(1, spendable // children)
        tokens = None
        if self.tokens_left is not None:
            tokens = max(1, self.tokens_left // (children + 1))
        return self.model_copy(update={"calls_left": calls, "tokens_left": tokens})
