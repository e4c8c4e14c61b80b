"""Durable runs as users meet them: the real CLI in processes that are killed with SIGKILL or
stopped with Ctrl-C, then resumed by another process, on SQLite and PostgreSQL (calls mode, and
REPL mode killed in the middle of a cell's batch of sub-calls)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from benchmarks.fake_openai_server import FakeOpenAIServer, summarize
from rlm_graph.samples import make_haystack
from rlm_graph.tree.load import load

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "runs.sqlite")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def env(tmp_path):
    return {
        **os.environ,
        "RLM_GRAPH_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(ROOT),
        "RLM_GRAPH_LEASE_SECONDS": "3",
    }


def cli(*args: str, env: dict, stdin: str | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "rlm_graph.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=timeout,
    )


def start(*args: str, env: dict, stdin: str | None = None) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rlm_graph.cli", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # A suite started in the background by a shell inherits SIGINT ignored, and so would
        # the CLI: give it the default a user's terminal gives it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    if stdin is not None:
        proc.stdin.write(stdin)
    proc.stdin.close()
    return proc


def wait_for_leaves(proc: subprocess.Popen, count: int, target: str = "chunk:") -> None:
    """Read the progress log until ``count`` children of the root on ``target`` have finished
    (``chunk:`` for calls mode's leaves, ``prompt`` for REPL mode's llm_query children)."""
    seen = 0
    for line in proc.stderr:
        if " ok t1." in line and f" {target}" in line:
            seen += 1
            if seen >= count:
                return
    raise AssertionError(f"the run ended before {count} leaves finished: {proc.wait()}")


def ask_args(server, context: str, db: str, thread: str, *extra: str) -> list[str]:
    return [
        "ask", "What is the vault access code?", "--context", context, "--model", "m",
        "--base-url", server.base_url, "--db", db, "--thread", thread,
        "--concurrency", "3", "--sub-window", "2000", *extra,
    ]  # fmt: skip


@pytest.mark.parametrize("depth", [1, 2])
def test_killed_mid_fan_out_resumes_in_another_process(db, env, tmp_path, depth):
    doc = tmp_path / "doc.txt"
    doc.write_text(make_haystack(60_000 if depth == 1 else 140_000, seed=3, position=0.9))
    thread = f"k{depth}-{uuid.uuid4().hex[:6]}"
    with FakeOpenAIServer(
        latency=0.25, subcalls_only=True, calls=16, ranges=4 if depth == 2 else 0
    ) as server:
        proc = start(*ask_args(server, str(doc), db, thread, "--max-depth", str(depth)), env=env)
        wait_for_leaves(proc, 6)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        shown = json.loads(cli("show", thread, "--db", db, "--json", env=env).stdout)
        assert shown["status"] == "crashed"
        # Finished and checkpointed: a leaf whose result was not written yet when the process
        # died is not finished, and runs again.
        done = {
            (r["parent_id"], r["target"])
            for r in shown["records"]
            if r["kind"] == "leaf" and r["status"] == "done"
        }
        assert len(done) >= 2
        assert server.wait_idle()  # a leaf still in the server when the process died is counted
        server.reset()
        resumed = cli("resume", thread, "--db", db, "--json", env=env)
        assert resumed.returncode == 0, resumed.stderr
        out = json.loads(resumed.stdout)
        assert out["answer"] == "7391-ALPHA" and out["status"] == "done"
        leaves = [r for r in out["tree"]["calls"] if r["kind"] == "leaf"]
        asked_again = summarize(server.records())["by_kind"].get("leaf", 0)
        # Every leaf ran exactly once across the two processes: none that had finished again.
        assert asked_again == len(leaves) - len(done)


def test_killed_mid_batch_in_repl_mode_resumes_the_same_cell(db, env, tmp_path):
    doc = tmp_path / "doc.txt"
    doc.write_text(make_haystack(60_000, seed=3, position=0.9))
    thread = f"repl-{uuid.uuid4().hex[:6]}"
    # The fake root writes two cells: one sets ``n``, the next asks llm_query_batched over 8
    # slices and then prints ``n`` and the answers (benchmarks/fake_openai_server.py).
    with FakeOpenAIServer(latency=0.25, subcalls_only=True, calls=8) as server:
        args = ask_args(server, str(doc), db, thread, "--mode", "repl", "--sub-window", "4000")
        proc = start(*args, "--concurrency", "2", env=env)
        wait_for_leaves(proc, 4, target="prompt")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert server.wait_idle()  # the dead process's requests in the server are counted now
        before = summarize(server.records())["by_kind"]
        shown = json.loads(cli("show", thread, "--db", db, "--json", env=env).stdout)
        assert shown["status"] == "crashed"
        queries = [r for r in shown["records"] if r["kind"] == "query"]
        done = {r["id"] for r in queries if r["status"] == "done"}
        # The whole batch was launched, and some of it finished and was checkpointed.
        assert len(queries) == 8 and 2 <= len(done) < 8
        assert before == {"repl": 1, "rlms-sub": before["rlms-sub"]}
        server.reset()
        resumed = cli("resume", thread, "--db", db, "--json", env=env)
        # 5: done, but a code read off the cell's output is no located passage (not found,
        # with the unverified answer), as in test_repl_mode.py.
        assert resumed.returncode == 5, resumed.stderr
        out = json.loads(resumed.stdout)
        after = summarize(server.records())["by_kind"]
        # No finished sub-call paid twice; the planner's first turn not asked again either:
        # one more turn, after the cell, to answer.
        assert after == {"rlms-sub": 8 - len(done), "repl": 1}
        assert out["status"] == "done" and out["unverified_answer"] == "7391-ALPHA"
        calls = out["tree"]["calls"]
        assert sorted(r["id"] for r in calls if r["kind"] == "query") == sorted(
            r["id"] for r in queries
        )
        assert all(r["status"] == "done" for r in calls)
        # The same cell went on: after the batch it printed ``n`` from the cell before it and
        # the answers of the sub-calls from both processes.
        root = load(thread, db).nodes["t1"]
        assert "slices 8 answers 8 -> 7391-ALPHA" in root["prompt"]


def test_ctrl_c_keeps_the_thread_and_names_the_resume_command(env, tmp_path):
    db = str(tmp_path / "runs.sqlite")
    doc = tmp_path / "doc.txt"
    doc.write_text(make_haystack(60_000, seed=3, position=0.9))
    with FakeOpenAIServer(latency=0.25, subcalls_only=True, calls=16) as server:
        proc = start(*ask_args(server, str(doc), db, "stopped"), env=env)
        wait_for_leaves(proc, 3)
        proc.send_signal(signal.SIGINT)
        stderr = proc.stderr.read()
        assert proc.wait(timeout=60) == 130
        assert f"rlm-graph resume stopped --db {db}" in stderr.strip().splitlines()[-1]
        listed = cli("runs", "--db", db, env=env).stdout
        assert "stopped" in listed and "crashed" in listed
        assert cli("resume", "stopped", "--db", db, env=env).returncode == 0


def test_two_workers_never_advance_one_thread(db, env, tmp_path):
    doc = tmp_path / "doc.txt"
    doc.write_text(make_haystack(60_000, seed=3, position=0.9))
    thread = f"shared-{uuid.uuid4().hex[:6]}"
    with FakeOpenAIServer(latency=0.4, subcalls_only=True, calls=16) as server:
        first = start(*ask_args(server, str(doc), db, thread), env=env)
        wait_for_leaves(first, 2)
        server.pause()  # the first worker stays mid fan-out, however slow this machine is
        second = cli("resume", thread, "--db", db, env=env)
        assert second.returncode == 2 and "running elsewhere" in second.stderr
        runs = json.loads(cli("runs", "--db", db, "--json", env=env).stdout)["runs"]
        assert next(r for r in runs if r["thread_id"] == thread)["status"] == "running"
        first.send_signal(signal.SIGKILL)
        first.wait()
        server.unpause()
        # The holder is dead: another worker takes the thread over and finishes it.
        taken = cli("resume", thread, "--db", db, "--json", env=env)
        assert taken.returncode == 0, taken.stderr
        assert json.loads(taken.stdout)["answer"] == "7391-ALPHA"


def test_a_stdin_context_is_resumed_from_the_blob_store(db, env, tmp_path):
    text = make_haystack(60_000, seed=3, position=0.9)
    thread = f"stdin-{uuid.uuid4().hex[:6]}"
    with FakeOpenAIServer(latency=0.25, subcalls_only=True, calls=16) as server:
        proc = start(*ask_args(server, "-", db, thread), env=env, stdin=text)
        wait_for_leaves(proc, 4)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        resumed = cli("resume", thread, "--db", db, "--json", env=env)
        assert resumed.returncode == 0, resumed.stderr
        assert json.loads(resumed.stdout)["answer"] == "7391-ALPHA"


def test_approval_from_the_cli(env, tmp_path):
    db = str(tmp_path / "runs.sqlite")
    doc = tmp_path / "doc.txt"
    doc.write_text(make_haystack(30_000, seed=3))
    with FakeOpenAIServer(calls=16) as server:
        paused = cli(*ask_args(server, str(doc), db, "gate", "--approve-over", "1000"), env=env)
        assert paused.returncode == 4
        assert "rlm-graph approve gate" in paused.stderr.strip().splitlines()[-1]
        assert "paused for approval" in paused.stderr
        calls = tmp_path / "calls.json"
        calls.write_text(json.dumps([{"task": "find the code", "target": "chunk:4"}]))
        approved = cli("approve", "gate", "--db", db, "--calls", str(calls), "--json", env=env)
        # Only the person's call ran, on a chunk without the code: done, and "not found" (5).
        assert approved.returncode == 5, approved.stderr
        assert json.loads(approved.stdout)["found"] is False
        leaves = [r for r in json.loads(approved.stdout)["tree"]["calls"] if r["kind"] == "leaf"]
        assert [r["target"] for r in leaves] == ["chunk:4"]
        again = cli(*ask_args(server, str(doc), db, "gate2", "--approve-over", "1000"), env=env)
        assert again.returncode == 4
        denied = cli("deny", "gate2", "--db", db, env=env)
        # Nothing ran, nothing was read: the run ends, and the text answered nothing (5).
        assert denied.returncode == 5, denied.stderr


def test_a_database_password_is_never_printed(env, tmp_path):
    secret = "hunter2hunter2"
    url = f"postgresql://rlm:{secret}@127.0.0.1:1/none"
    for args in (["runs", "--db", url], ["show", "x", "--db", url]):
        proc = cli(*args, env=env, timeout=60)
        assert proc.returncode == 2
        assert secret not in proc.stdout + proc.stderr
        assert "rlm:***@127.0.0.1" in proc.stderr
