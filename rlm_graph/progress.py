"""A live progress line for terminals, fed by the graph's custom-stream events."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text


class ProgressDisplay:
    """Calls started/finished, deepest level, tokens, elapsed; one line per finished call."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.started = time.time()
        self.calls_started = 0
        self.calls_finished = 0
        self.max_depth = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.turns = 0
        self.live = Live(self._line(), console=console, refresh_per_second=4, transient=True)

    def __enter__(self) -> ProgressDisplay:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(*exc)

    def _line(self) -> Text:
        running = self.calls_started - self.calls_finished
        elapsed = time.time() - self.started
        return Text(
            f"  planner turns {self.turns} | calls {self.calls_finished}/{self.calls_started} "
            f"done, {running} open | depth {self.max_depth} | tokens "
            f"{self.input_tokens:,} in / {self.output_tokens:,} out | {elapsed:,.0f}s",
            style="cyan",
        )

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "turn":
            self.turns += 1
        elif kind == "call_started":
            self.calls_started += 1
            self.max_depth = max(self.max_depth, event.get("depth", 0))
        elif kind == "call_finished":
            self.calls_finished += 1
            self.input_tokens += event.get("input_tokens", 0)
            self.output_tokens += event.get("output_tokens", 0)
            mark = "✓" if event.get("status") == "done" else "✗"
            answer = " ".join(str(event.get("answer", "")).split())[:60]
            self.console.print(
                f"  {mark} {event['id']} {event.get('target', '')} -> {answer}",
                highlight=False,
                markup=False,
            )
        self.live.update(self._line())
