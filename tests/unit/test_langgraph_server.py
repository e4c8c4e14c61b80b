"""The graph in a real LangGraph server (``langgraph dev``, the in-memory runtime), driven through
its HTTP API: threads, runs with settings in ``configurable``, streamed events, final state."""

from __future__ import annotations

import json

import httpx
import pytest

from benchmarks.fake_openai_server import FakeOpenAIServer
from benchmarks.langgraph_server import LANGGRAPH, LangGraphDevServer
from rlm_graph.samples import make_haystack

pytestmark = pytest.mark.skipif(not LANGGRAPH.exists(), reason="needs langgraph-cli[inmem]")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A fake model server, and ``langgraph dev`` serving graphs/rlm.py with it."""
    folder = tmp_path_factory.mktemp("served")
    (folder / "doc.txt").write_text(make_haystack(30_000, seed=5))
    with FakeOpenAIServer(calls=16) as model_server:
        env = {
            "RLM_GRAPH_MODEL": "m",
            "OPENAI_BASE_URL": model_server.base_url,
            "OPENAI_API_KEY": "not-a-real-key",
            "RLM_GRAPH_CONTEXT_ROOT": str(folder),
        }
        with LangGraphDevServer(env=env, work=tmp_path_factory.mktemp("server-cwd")) as served:
            yield served.url, folder


def new_thread(base: str) -> str:
    return httpx.post(f"{base}/threads", json={}, timeout=30).json()["thread_id"]


def run(base: str, thread: str, payload: dict) -> dict:
    response = httpx.post(
        f"{base}/threads/{thread}/runs/wait",
        json={"assistant_id": "rlm", **payload},
        timeout=120,
    )
    response.raise_for_status()
    return response.json()


def test_a_question_streams_events_and_ends_in_the_state(server):
    base, _ = server
    thread = new_thread(base)
    body = {
        "assistant_id": "rlm",
        "input": {"query": "What is the vault access code?", "context": "doc.txt"},
        "config": {"configurable": {"sub_window_tokens": 2000}},
        "stream_mode": ["custom", "values"],
    }
    events = []
    with httpx.stream(
        "POST", f"{base}/threads/{thread}/runs/stream", json=body, timeout=120
    ) as response:
        kind = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind and kind.startswith("custom"):
                events.append(json.loads(line.split(":", 1)[1]))
    finished = [e for e in events if e.get("event") == "call_finished" and e["kind"] == "leaf"]
    assert len(finished) >= 5  # the fan-out, live
    state = httpx.get(f"{base}/threads/{thread}/state", timeout=30).json()["values"]
    assert (state["answer"], state["status"], state["route"]) == ("7391-ALPHA", "done", "recursive")

    again = run(base, thread, {"input": {"query": "And the vault access code again?"}})

    assert (again["answer"], again["turn"]) == ("7391-ALPHA", 2)  # a follow-up turn


def test_settings_come_from_configurable_keys(server):
    base, _ = server
    final = run(
        base,
        new_thread(base),
        {
            "input": {"query": "What is the vault access code?", "context": "doc.txt"},
            "config": {"configurable": {"sub_window_tokens": 2000, "max_calls": 3}},
        },
    )
    # Three model calls in all: a planner turn, one leaf (the rest refused), a final turn.
    assert sum(r["usage"]["model_calls"] for r in final["records"].values()) == 3
    leaves = [r for r in final["records"].values() if r["kind"] == "leaf"]
    assert len(leaves) == 1


def test_context_paths_outside_the_root_are_refused(server, tmp_path):
    base, _ = server
    outside = tmp_path / "secret.txt"
    outside.write_text("not for clients\n" * 100)
    for path in (str(outside), "../" * 8 + "etc/hostname"):
        final = run(
            base,
            new_thread(base),
            {"input": {"query": "What is the vault access code?", "context": path}},
        )
        assert final["status"] == "error" and "outside the folder" in final["error"]
