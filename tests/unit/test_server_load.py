"""The graph in ``langgraph dev`` under load: 50 runs at once through the HTTP API
(``langgraph-sdk``), each on its own thread and document, on a scripted model that refuses 5% of
first attempts. Every answer is its thread's, and the server's memory stays bounded: no
document stays open after its run, and what batches add is what the in-memory runtime keeps
per thread."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from langgraph_sdk import get_client

from benchmarks.fake_openai_server import FakeOpenAIServer
from benchmarks.langgraph_server import LANGGRAPH, LangGraphDevServer, descendants
from benchmarks.server_load import (
    FAN_OUT,
    code_of,
    serve_batch,
    server_env,
    write_documents,
    wrong,
)

pytestmark = pytest.mark.skipif(not LANGGRAPH.exists(), reason="needs langgraph-cli[inmem]")

RUNS = 50
# What the in-memory runtime keeps per finished thread (its checkpoints) was measured at
# 0.2-0.4 MB; a run that kept its document, transcript copies or clients would pass this.
MAX_GROWTH_PER_RUN = 1 << 20


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    work = tmp_path_factory.mktemp("load")
    folder = work / "docs"
    write_documents(folder, RUNS)
    with FakeOpenAIServer(calls=FAN_OUT, fail_rate=0.05, seed=50) as model:
        env = server_env(model.base_url, folder)
        with LangGraphDevServer(env=env, work=work / "server", jobs=RUNS) as server:
            yield server, model


def mapped_documents(server: LangGraphDevServer) -> int:
    """Document files the server's processes still have mapped or open."""
    count = 0
    for pid in descendants(server.proc.pid):
        count += Path(f"/proc/{pid}/maps").read_text().count("/docs/doc-")
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):  # closed meanwhile
                count += "/docs/doc-" in str(fd.readlink())
    return count


async def test_50_runs_at_once_each_answer_its_own_and_memory_stays_bounded(served):
    server, model = served
    failures_before = model.failures
    resident = []
    for _ in range(3):
        outcomes = await serve_batch(server.url, RUNS, RUNS)
        assert wrong(outcomes) == []
        assert len({o.thread_id for o in outcomes}) == RUNS
        assert mapped_documents(server) == 0
        resident.append(server.rss_bytes())
    assert model.failures > failures_before  # the model did refuse some requests
    client = get_client(url=server.url)
    for outcome in outcomes:  # what each thread keeps is its own answer too
        state = await client.threads.get_state(outcome.thread_id)
        assert state["values"]["answer"] == code_of(outcome.n)
    # After the first batch (imports, caches, pools warmed), growth is per stored thread.
    assert resident[2] - resident[0] < 2 * RUNS * MAX_GROWTH_PER_RUN, resident
