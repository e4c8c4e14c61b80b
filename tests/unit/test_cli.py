"""The real CLI, as a subprocess, against a real (fake-model) OpenAI-compatible HTTP server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.fake_openai_server import FakeOpenAIServer
from rlm_graph.samples import make_haystack

SECRET = "sk-test-SECRET-0123456789abcdef"


@pytest.fixture(scope="module")
def server():
    with FakeOpenAIServer() as running:
        yield running


@pytest.fixture
def env(tmp_path):
    return {
        **os.environ,
        "OPENAI_API_KEY": SECRET,
        "RLM_GRAPH_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }


def run_cli(*args: str, env: dict, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rlm_graph.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
    )


@pytest.fixture
def haystack_file(tmp_path) -> Path:
    path = tmp_path / "haystack.txt"
    path.write_text(make_haystack(30_000, seed=5))
    return path


def ask(server, context: str, *extra: str, env: dict, stdin: str | None = None):
    return run_cli(
        "ask",
        "What is the vault access code?",
        "--context",
        context,
        "--model",
        "test-model",
        "--base-url",
        server.base_url,
        "--sub-window",
        "2000",
        *extra,
        env=env,
        stdin=stdin,
    )


def test_json_output_has_the_contract_keys(server, haystack_file, env, tmp_path):
    db = tmp_path / "runs.sqlite"
    proc = ask(server, str(haystack_file), "--json", "--db", str(db), "--thread", "t-1", env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["answer"] == "7391-ALPHA"
    assert out["status"] == "done"
    assert out["thread_id"] == "t-1"
    assert set(out["usage"]) >= {"input_tokens", "output_tokens", "model_calls"}
    # A leaf per call of the tree, two planner turns, and the judge reading the needle's passage.
    assert out["usage"]["model_calls"] == out["tree"]["nodes"] - 1 + 2 + 1
    assert out["found"] is True and out["grounded"] is True
    assert 0 < out["root_input_tokens"] < out["usage"]["input_tokens"]
    assert out["tree"]["max_depth"] == 1
    # The answer cites where it was found, and is marked grounded.
    assert out["grounded"] is True
    citation = out["citations"][0]
    assert citation["call_id"].startswith("t1.") and citation["line"] >= 1
    assert "7391-ALPHA" in citation["quote"] and citation["verified"]
    # The key reached the server, and nowhere else.
    assert any(SECRET in auth for auth in server.seen_auth if auth)
    assert SECRET not in proc.stdout + proc.stderr
    assert SECRET.encode() not in db.read_bytes()


def test_plain_output_prints_answer_and_default_db(server, haystack_file, env, tmp_path):
    proc = ask(server, str(haystack_file), env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "7391-ALPHA"
    assert (tmp_path / "home" / "checkpoints.sqlite").exists()
    assert "thread" in proc.stderr


def test_stdin_context(server, haystack_file, env):
    proc = ask(server, "-", "--json", env=env, stdin=haystack_file.read_text())
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["answer"] == "7391-ALPHA"


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "not found"), (b"", "empty"), (b"   \n\n", "empty"), (b"\x00\x01\x02binary", "binary")],
)
def test_bad_context_files_fail_clearly(server, env, tmp_path, content, message):
    path = tmp_path / "ctx.txt"
    if content is not None:
        path.write_bytes(content)
    proc = ask(server, str(path), env=env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0].lower()
    assert proc.stdout == ""


def test_empty_stdin_fails_clearly(server, env):
    proc = ask(server, "-", env=env, stdin="")
    assert proc.returncode == 2 and "empty" in proc.stderr


def test_budget_exhaustion_exits_nonzero_with_one_line_reason(server, haystack_file, env):
    proc = ask(server, str(haystack_file), "--max-calls", "1", env=env)
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines()[-1].startswith("rlm-graph: budget_exhausted")


def test_unreachable_server_is_an_error_not_a_traceback(haystack_file, env):
    proc = run_cli(
        "ask",
        "q",
        "--context",
        str(haystack_file),
        "--model",
        "m",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--sub-window",
        "2000",
        "--timeout",
        "5",
        env=env,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("rlm-graph: error")


def test_map_reduce_planner_from_cli(server, haystack_file, env):
    proc = ask(server, str(haystack_file), "--planner", "map-reduce", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["answer"] == "7391-ALPHA"


def test_follow_up_turn_on_a_thread_needs_no_context(server, haystack_file, env, tmp_path):
    db = str(tmp_path / "runs.sqlite")
    first = ask(server, str(haystack_file), "--json", "--db", db, "--thread", "conv", env=env)
    assert first.returncode == 0, first.stderr
    again = run_cli(
        "ask", "What is the vault access code, again?", "--model", "test-model",
        "--base-url", server.base_url, "--sub-window", "2000", "--db", db, "--thread", "conv",
        "--json", env=env,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    out = json.loads(again.stdout)
    assert (out["answer"], out["turn"], out["thread_id"]) == ("7391-ALPHA", 2, "conv")
    assert {call["id"].split(".")[0] for call in out["tree"]["calls"]} == {"t2"}
    first_usage = json.loads(first.stdout)["usage"]["model_calls"]
    assert out["thread_usage"]["model_calls"] == first_usage + out["usage"]["model_calls"]


def test_another_context_on_a_thread_is_refused_in_one_line(server, haystack_file, env, tmp_path):
    db = str(tmp_path / "runs.sqlite")
    assert ask(server, str(haystack_file), "--db", db, "--thread", "t", env=env).returncode == 0
    other = tmp_path / "other.txt"
    other.write_text("Some other document altogether.\n" * 50)
    proc = ask(server, str(other), "--db", db, "--thread", "t", env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("rlm-graph: thread t is about another")


def test_a_new_thread_needs_a_context(server, env):
    proc = run_cli("ask", "q", "--model", "m", "--base-url", server.base_url, env=env)
    assert proc.returncode == 2 and "--context is required" in proc.stderr
    proc = run_cli(
        "ask", "q", "--thread", "fresh", "--model", "m", "--base-url", server.base_url, env=env
    )
    assert proc.returncode == 2 and "new thread needs one" in proc.stderr


def test_route_and_direct_below_in_json(server, env, tmp_path):
    small = tmp_path / "small.txt"
    small.write_text("The vault access code is 7391-ALPHA.\n")
    direct = ask(server, str(small), "--json", env=env)
    assert json.loads(direct.stdout)["route"] == "direct"
    planned = ask(server, str(small), "--json", "--direct-below", "0", env=env)
    assert json.loads(planned.stdout)["route"] == "recursive"
    assert json.loads(planned.stdout)["answer"] == "7391-ALPHA"


def test_piped_stderr_gets_plain_progress_lines(server, haystack_file, env):
    proc = ask(server, str(haystack_file), env=env)  # stderr is a pipe here, not a terminal
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert any(line.startswith("[") and "route recursive" in line for line in lines)
    finished = [line for line in lines if re.search(r"\bok t1\.\d+ chunk:\d+ -> ", line)]
    assert len(finished) >= 5
    assert "\x1b[" not in proc.stderr  # no terminal control codes in a log
    quiet = ask(server, str(haystack_file), "--quiet", env=env)
    assert quiet.stderr.count("\n") == 1  # only the summary line


def test_help_and_argument_errors_load_no_heavy_library(env):
    code = (
        "import sys\n"
        "from rlm_graph.cli import main\n"
        "for argv in (['--help'], ['ask']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = [m for m in ('langgraph', 'langchain_core', 'openai', 'networkx', 'pydantic')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert "HEAVY []" in proc.stdout, proc.stdout + proc.stderr


def test_a_model_server_that_is_down_fails_with_no_answer(env, tmp_path):
    """Nothing listens at the URL: exit 1, the reason on stderr, nothing on stdout (no "not
    found" as if the text had been read)."""
    path = tmp_path / "short.txt"
    path.write_text("A short text.\n")
    proc = run_cli(
        "ask", "q", "--context", str(path), "--model", "m", "--base-url", "http://127.0.0.1:9/v1",
        "--timeout", "5", env=env,
    )  # fmt: skip
    assert proc.returncode == 1 and proc.stdout == ""
    assert "error" in proc.stderr.strip().splitlines()[-1].lower()
