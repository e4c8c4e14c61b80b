"""Progress that tells the truth: every token counted, a clock that ticks, running vs queued,
and plain log lines when stderr is not a terminal."""

from __future__ import annotations

import io
import re

from rich.console import Console

from rlm_graph.progress import ProgressDisplay, ProgressLog, RunProgress
from tests.unit.conftest import chunk_calls, final_from_results, make_rlm, planner


async def test_progress_counts_every_token_of_the_run(haystack):
    progress = RunProgress()
    model = planner(lambda m, t: chunk_calls("find", 5) if t == 0 else final_from_results(m))
    result = await make_rlm(model, on_event=progress.update).ainvoke(
        {"query": "What is the vault access code?", "context": haystack}
    )
    assert result.usage.model_calls == 7
    # Planner turns included: the summary and the live line agree.
    assert (progress.input_tokens, progress.output_tokens, progress.model_calls) == (
        result.usage.input_tokens,
        result.usage.output_tokens,
        result.usage.model_calls,
    )
    assert progress.turns_done == 2 and progress.calls_finished == progress.calls_started == 5
    assert progress.route == "recursive"


def test_turn_counts_only_finished_turns():
    progress = RunProgress()
    progress.update({"event": "turn_started", "id": "t1", "kind": "plan"})
    assert "planning turn 1" in progress.line() and progress.turns_done == 0
    progress.update({"event": "model_call", "id": "t1", "kind": "plan", "input_tokens": 9})
    assert "1 planner turns" in progress.line()


async def test_running_and_queued_are_told_apart(haystack):
    """Five leaves at a limit of two: while the first two run, three wait."""
    progress = RunProgress()
    lines: list[str] = []

    def watch(event):
        progress.update(event)
        lines.append(progress.line())

    model = planner(
        lambda m, t: chunk_calls("find", 5) if t == 0 else final_from_results(m), latency=0.05
    )
    await make_rlm(model, concurrency=2, on_event=watch).ainvoke(
        {"query": "What is the vault access code?", "context": haystack}
    )
    assert any("2 running, 3 queued" in line for line in lines)  # never 5 running
    assert not any(re.search(r"[3-9] running", line) for line in lines)
    assert "0 running, 0 queued" in progress.line()


def test_the_clock_ticks_without_events():
    display = ProgressDisplay(Console(file=io.StringIO()))

    def shown() -> str:
        console = Console(file=io.StringIO(), record=True, width=160)
        console.print(display.__rich__())
        return console.export_text()

    before = shown()
    display.progress.started -= 65  # a minute passes with no event at all
    assert "1m05s" in shown() and shown() != before


async def test_log_lines_when_not_a_terminal(haystack):
    stream = io.StringIO()
    model = planner(lambda m, t: chunk_calls("find", 3) if t == 0 else final_from_results(m))
    with ProgressLog(stream) as log:
        await make_rlm(model, on_event=log).ainvoke(
            {"query": "What is the vault access code?", "context": haystack}
        )
    lines = stream.getvalue().splitlines()
    assert any("route recursive" in line for line in lines)
    assert len([line for line in lines if re.search(r"\bok t1\.\d chunk:\d", line)]) == 3
    assert len([line for line in lines if "t1 plan turn done" in line]) == 2
    assert all(re.match(r"\[\s*\d+s\] ", line) for line in lines)


async def test_log_heartbeat_while_nothing_finishes(haystack):
    stream = io.StringIO()
    model = planner(
        lambda m, t: chunk_calls("find", 1) if t == 0 else final_from_results(m), latency=1.5
    )
    with ProgressLog(stream, heartbeat=0.5) as log:
        await make_rlm(model, on_event=log).ainvoke(
            {"query": "What is the vault access code?", "context": haystack}
        )
    assert "calls 0/" in stream.getvalue() or "planning turn" in stream.getvalue()


async def test_finished_calls_show_whether_their_answer_is_verified(haystack):
    stream = io.StringIO()
    model = planner(lambda m, t: chunk_calls("find", 8) if t == 0 else final_from_results(m))
    with ProgressLog(stream) as log:
        await make_rlm(model, on_event=log).ainvoke(
            {"query": "What is the vault access code?", "context": haystack}
        )
    text = stream.getvalue()
    assert re.search(r"ok t1\.\d chunk:\d -> 7391-ALPHA \[verified: line \d+\]", text)
    assert re.search(r"ok t1\.\d chunk:\d -> not found", text)
