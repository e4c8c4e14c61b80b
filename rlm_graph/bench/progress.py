"""Progress of a bench run on stderr: one line per finished sample, and a heartbeat.

A sample of the RLM on a slow model can take minutes; while one runs, a line every
``HEARTBEAT_SECONDS`` says what is running, for how long and how many model calls it made,
so a run is never silent for minutes. ``--quiet`` turns all of it off.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator
from typing import Any, TextIO

from rlm_graph.bench.results import SampleResult

HEARTBEAT_SECONDS = 30.0


class SampleWatch:
    """Counts the model calls of the running sample (an RLM ``on_event`` handler)."""

    def __init__(self) -> None:
        self.model_calls = 0
        self.started = time.monotonic()

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("event") == "model_call":
            self.model_calls += 1


class BenchProgress:
    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        enabled: bool = True,
        heartbeat: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.stream = stream
        self.enabled = enabled
        self.heartbeat = heartbeat
        self.started = time.monotonic()

    def _clock(self) -> str:
        seconds = int(time.monotonic() - self.started)
        return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"

    def note(self, text: str) -> None:
        if self.enabled:
            stream = self.stream or sys.stderr
            print(f"bench [{self._clock()}] {text}", file=stream, flush=True)

    def sample_done(self, result: SampleResult) -> None:
        if result.status == "error":
            verdict = f"error ({result.error or 'failed'})"
        else:
            verdict = "correct" if result.correct else "wrong"
        if result.recall is not None and result.task != "niah":
            verdict += f", recall {result.recall:.2f}"
        if result.grounded:
            verdict += ", grounded"
        route = f", route {result.route}" if result.route else ""
        self.note(
            f"{result.task} {result.length_label} {result.method} "
            f"sample {result.sample}/{result.samples}: {verdict} | {result.seconds:.1f}s | "
            f"{result.model_calls} model calls | {result.input_tokens:,} tokens in{route}"
        )

    @contextlib.asynccontextmanager
    async def running(self, label: str) -> AsyncIterator[SampleWatch]:
        """Watch one sample: a heartbeat line every ``heartbeat`` seconds while it runs."""
        watch = SampleWatch()

        async def beat() -> None:
            while True:
                await asyncio.sleep(self.heartbeat)
                elapsed = time.monotonic() - watch.started
                self.note(
                    f"{label}: running {elapsed:.0f}s, {watch.model_calls} model calls so far"
                )

        task = asyncio.create_task(beat()) if self.enabled and self.heartbeat > 0 else None
        try:
            yield watch
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
