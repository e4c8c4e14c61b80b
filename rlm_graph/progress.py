"""Progress of a run, fed by the graph's custom-stream events (``rlm_graph.graph.events``).

On a terminal: a live line whose clock ticks on its own, with every finished call printed
above it. Elsewhere (stderr piped to a file or ``tee``): one plain log line per finished call
and per planner turn, so a long run is never silent.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO


@dataclass
class RunProgress:
    """What the events have told so far. Tokens come from ``model_call`` events only, so
    every model call (planner turns, leaves, reduce steps) is counted exactly once."""

    started: float = field(default_factory=time.time)
    route: str | None = None
    turns_done: int = 0
    planning: set[str] = field(default_factory=set)  # calls whose planner turn is under way
    calls_started: int = 0
    calls_finished: int = 0
    calls_failed: int = 0
    max_depth: int = 0
    model_calls: int = 0  # finished
    model_calls_queued: int = 0  # ever queued
    model_calls_started: int = 0  # ever given a slot
    input_tokens: int = 0
    output_tokens: int = 0

    def update(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "route":
            self.route = event.get("route")
        elif kind == "turn_started":
            self.planning.add(event.get("id", ""))
        elif kind == "model_call_queued":
            self.model_calls_queued += 1
        elif kind == "model_call_started":
            self.model_calls_started += 1
        elif kind == "model_call":
            self.model_calls += 1
            self.input_tokens += event.get("input_tokens", 0)
            self.output_tokens += event.get("output_tokens", 0)
            if event.get("kind") != "leaf":
                self.turns_done += 1
                self.planning.discard(event.get("id", ""))
        elif kind == "call_started" and event.get("kind") != "root":
            self.calls_started += 1
            self.max_depth = max(self.max_depth, event.get("depth", 0))
        elif kind == "call_finished" and event.get("kind") != "root":
            self.calls_finished += 1
            if event.get("status") == "error":
                self.calls_failed += 1

    @property
    def elapsed(self) -> float:
        return time.time() - self.started

    def line(self) -> str:
        """E.g. ``1m05s | recursive | planning turn 2 | calls 12/65 done, 16 running, 37 queued
        | depth 1 | tokens 20,578 in / 1,234 out``: most telling first, as a terminal may crop
        the end. Running and queued count model calls (the concurrency limit's view)."""
        parts = [clock(self.elapsed)]
        if self.route:
            parts.append(self.route)
        if self.planning:
            parts.append(f"planning turn {self.turns_done + 1}")
        else:
            parts.append(f"{self.turns_done} planner turns")
        calls = f"calls {self.calls_finished}/{self.calls_started} done"
        if self.calls_failed:
            calls += f" ({self.calls_failed} failed)"
        running = self.model_calls_started - self.model_calls
        queued = self.model_calls_queued - self.model_calls_started
        calls += f", {running} running, {queued} queued"
        parts.append(calls)
        parts.append(f"depth {self.max_depth}")
        parts.append(f"tokens {self.input_tokens:,} in / {self.output_tokens:,} out")
        return " | ".join(parts)


def clock(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def finished_call_line(event: dict[str, Any]) -> str:
    """``ok t1.7 chunk:6 -> 7391-ALPHA [verified: lines 410-411] (0.4s, 1,204 tokens)``."""
    mark = "ok" if event.get("status") == "done" else event.get("status", "?")
    tokens = event.get("input_tokens", 0) + event.get("output_tokens", 0)
    if event.get("outcome") == "not_found":
        answer = "not found"
    elif event.get("verified"):
        answer = f"{event.get('answer', '')} [verified: {event.get('where')}]"
    elif event.get("verified") is False:
        answer = f"{event.get('answer', '')} [unverified]"
    else:
        answer = event.get("answer", "")
    return (
        f"{mark:>6} {event.get('id', '')} {event.get('target', '')} -> {answer}"
        f"  ({event.get('seconds', 0):.1f}s, {tokens:,} tokens)"
    )


@dataclass
class LiveCall:
    id: str
    parent: str | None
    target: str
    kind: str
    status: str = "running"
    answer: str = ""
    verified: bool | None = None
    children: list[str] = field(default_factory=list)


class LiveTree:
    """The calls of a run as they start and finish, drawn as a tree (rich) that stays short:
    per call, the running children and the latest finished ones, the rest counted."""

    SHOWN_CHILDREN = 8
    MAX_DEPTH = 3

    def __init__(self) -> None:
        self.calls: dict[str, LiveCall] = {}
        self.roots: list[str] = []

    def update(self, event: dict[str, Any]) -> None:
        kind, call_id = event.get("event"), event.get("id", "")
        if kind == "call_started":
            call = LiveCall(
                call_id, event.get("parent"), event.get("target", ""), event.get("kind", "")
            )
            self.calls[call_id] = call
            parent = self.calls.get(call.parent or "")
            if parent is not None:
                parent.children.append(call_id)
            elif call.kind == "root":
                self.roots.append(call_id)
        elif kind == "call_finished" and call_id in self.calls:
            call = self.calls[call_id]
            call.status = event.get("status", "done")
            call.verified = event.get("verified")
            call.answer = (
                "not found" if event.get("outcome") == "not_found" else event.get("answer", "")
            )

    def _label(self, call: LiveCall) -> Any:
        from rich.text import Text

        style = {"running": "yellow", "done": "green", "error": "red"}.get(call.status, "magenta")
        text = Text(f"{call.id} ", style="bold")
        text.append(f"{call.target} ", style="dim")
        if call.status == "running":
            text.append("running", style=style)
        else:
            mark = " ✓" if call.verified else (" ?" if call.verified is False else "")
            text.append(f"{call.answer[:50]}{mark}", style=style)
        return text

    def _add(self, branch: Any, call_id: str, depth: int) -> None:
        call = self.calls[call_id]
        node = branch.add(self._label(call))
        if depth >= self.MAX_DEPTH or not call.children:
            if call.children:
                node.add(f"[dim]{len(call.children)} calls below[/dim]")
            return
        children = [self.calls[c] for c in call.children]
        running = [c for c in children if c.status == "running"]
        finished = [c for c in children if c.status != "running"]
        shown = (running + finished[::-1])[: self.SHOWN_CHILDREN]
        for child in sorted(shown, key=lambda c: children.index(c)):
            self._add(node, child.id, depth + 1)
        hidden = len(children) - len(shown)
        if hidden:
            node.add(f"[dim]... {hidden} more ({len(finished)} done, {len(running)} running)[/dim]")

    def render(self) -> Any:
        from rich.tree import Tree

        tree = Tree("[dim]calls[/dim]", guide_style="dim")
        for root in self.roots[-2:]:
            self._add(tree, root, 0)
        return tree


class ProgressDisplay:
    """The live terminal display (rich): the tree of calls growing, a ticking status line
    under it, and each finished call printed above."""

    def __init__(self, console: Any) -> None:
        from rich.live import Live

        self.console = console
        self.progress = RunProgress()
        self.tree = LiveTree()
        # Live re-renders this object several times a second, so the clock moves by itself.
        self.live = Live(self, console=console, refresh_per_second=4, transient=True)

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.text import Text

        return Group(self.tree.render(), Text("  " + self.progress.line(), style="cyan"))

    def __enter__(self) -> ProgressDisplay:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(*exc)

    def __call__(self, event: dict[str, Any]) -> None:
        self.progress.update(event)
        self.tree.update(event)
        if event.get("event") == "call_finished" and event.get("kind") != "root":
            self.console.print("  " + finished_call_line(event), highlight=False, markup=False)


class ProgressLog:
    """Plain lines for a stream that is not a terminal: one per finished call and turn, and
    the status line when nothing else was printed for ``heartbeat`` seconds."""

    def __init__(
        self,
        stream: TextIO | None = None,
        heartbeat: float = 30.0,
    ) -> None:
        self.stream = stream or sys.stderr
        self.progress = RunProgress()
        self.heartbeat = heartbeat
        self._last_line = time.time()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="rlm-progress", daemon=True)

    def __enter__(self) -> ProgressLog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()

    def _beat(self) -> None:
        while not self._stop.wait(1.0):
            if time.time() - self._last_line >= self.heartbeat:
                self._print(self.progress.line())

    def _print(self, text: str) -> None:
        with self._lock:
            print(f"[{clock(self.progress.elapsed):>6}] {text}", file=self.stream, flush=True)
            self._last_line = time.time()

    def __call__(self, event: dict[str, Any]) -> None:
        self.progress.update(event)
        kind = event.get("event")
        if kind == "route":
            self._print(f"route {event.get('route')} (context ~{event.get('tokens', 0):,} tokens)")
        elif kind == "model_call" and event.get("kind") != "leaf":
            state = f"failed: {event['error']}" if event.get("error") else "done"
            self._print(
                f"{event.get('id')} {event.get('kind')} turn {state} "
                f"({event.get('input_tokens', 0):,} tokens in, "
                f"{event.get('output_tokens', 0):,} out, {event.get('seconds', 0):.1f}s)"
            )
        elif kind == "call_finished" and event.get("kind") != "root":
            self._print(finished_call_line(event))
