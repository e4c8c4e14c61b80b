"""Many runs at once on one SQLite file never fail each other: ``ainvoke`` on one loop,
``invoke`` from many threads, several processes; every answer is its own.

The model is the scripted OpenAI-compatible server, reached over real HTTP, refusing 5% of
first attempts with a 500 as a flaky provider does (the client retries). Each run has its own
document, whose code only that run can find, and fans out to 16 leaves.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from benchmarks.fake_openai_server import FakeOpenAIServer
from rlm_graph import RLM
from rlm_graph.samples import make_haystack
from rlm_graph.shared_sqlite import open_savers

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "What is the vault access code?"
FAN_OUT = 16


@pytest.fixture(scope="module")
def model_server():
    # Shared by tests that each run on event loops of their own: the model's HTTP client must
    # work from every one of them.
    with FakeOpenAIServer(calls=FAN_OUT, fail_rate=0.05, seed=18) as server:
        yield server


def code_of(n: int) -> str:
    return f"{1000 + n}-ALPHA"


def document(n: int) -> str:
    """A small document of about 20 chunks (at 100 tokens a chunk) holding run n's code."""
    return make_haystack(8_000, needle=f"The vault access code is {code_of(n)}.", seed=n)


def served_rlm(base_url: str, db: Path | str) -> RLM:
    return RLM(
        model="m",
        base_url=base_url,
        api_key="not-a-real-key",
        checkpointer=str(db),
        chunk_tokens=100,
        sub_window_tokens=400,
        judge=False,
    )


def request(n: int) -> dict:
    return {"query": QUESTION, "context": document(n), "thread_id": f"doc-{n}"}


def leaves(result) -> int:
    return sum(1 for record in result.records if record.kind == "leaf")


async def test_24_concurrent_runs_ten_times_in_a_row_each_answer_its_own(model_server, tmp_path):
    db = tmp_path / "runs.sqlite"
    rlm = served_rlm(model_server.base_url, db)
    failures_before = model_server.failures
    for round_ in range(10):
        numbers = range(24 * round_, 24 * round_ + 24)
        results = await asyncio.gather(*(rlm.ainvoke(request(n)) for n in numbers))
        assert [(r.thread_id, r.status, r.answer) for r in results] == [
            (f"doc-{n}", "done", code_of(n)) for n in numbers
        ], [r.error for r in results if r.error]
        assert {leaves(r) for r in results} == {FAN_OUT}
    assert model_server.failures > failures_before  # the flaky provider did fail requests
    assert open_savers() == 0  # the shared connection closed with its last run
    stored = {run.thread_id: (run.status, run.answer) for run in await rlm.aruns(limit=None)}
    assert stored == {f"doc-{n}": ("done", code_of(n)) for n in range(240)}


async def test_several_rlms_on_one_file_at_once_each_answer_its_own(model_server, tmp_path):
    """Three ``RLM`` objects on one SQLite file (named as a path and as a string), 8 runs each,
    all at once: they share the file's connection as the runs of one ``RLM`` do."""
    db = tmp_path / "runs.sqlite"
    rlms = [served_rlm(model_server.base_url, target) for target in (db, str(db), db)]
    numbers = range(400, 424)
    results = await asyncio.gather(*(rlms[n % 3].ainvoke(request(n)) for n in numbers))
    assert [(r.thread_id, r.status, r.answer) for r in results] == [
        (f"doc-{n}", "done", code_of(n)) for n in numbers
    ], [r.error for r in results if r.error]
    assert open_savers() == 0
    stored = {run.thread_id: run.answer for run in await rlms[1].aruns(limit=None)}
    assert stored == {f"doc-{n}": code_of(n) for n in numbers}


async def test_24_first_runs_at_once_on_a_fresh_postgres_database(model_server, fresh_postgres_url):
    """The first runs on a new database create its tables together: they used to race (23 of
    24 failed with "duplicate key value", then with "deadlock detected")."""
    rlm = served_rlm(model_server.base_url, fresh_postgres_url)
    results = await asyncio.gather(*(rlm.ainvoke(request(n)) for n in range(24)))
    assert [(r.status, r.answer) for r in results] == [("done", code_of(n)) for n in range(24)]


def test_invoke_from_24_threads_at_once_each_answer_its_own(model_server, tmp_path):
    """Sync ``invoke`` from many threads, and again from the same threads: the model's HTTP
    connections and the SQLite connection survive both (each used to fail on a second loop)."""
    rlm = served_rlm(model_server.base_url, tmp_path / "runs.sqlite")
    answers: dict[int, tuple[str, str | None]] = {}

    def ask(n: int) -> None:
        for turn in (n, n + 100):
            result = rlm.invoke(request(turn))
            answers[turn] = (result.status, result.answer)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = {turn: ("done", code_of(turn)) for n in range(24) for turn in (n, n + 100)}
    assert answers == expected


def test_one_model_on_fresh_event_loops_one_after_another(model_server, tmp_path):
    """A script's ``asyncio.run`` twice, then ``invoke``: each a new loop for one model."""
    rlm = served_rlm(model_server.base_url, tmp_path / "runs.sqlite")
    first = asyncio.run(rlm.ainvoke(request(300)))
    second = asyncio.run(rlm.ainvoke(request(301)))
    third = rlm.invoke(request(302))
    assert [(r.status, r.answer) for r in (first, second, third)] == [
        ("done", code_of(n)) for n in (300, 301, 302)
    ]


def run_batch(base_url: str, db: str, first: int, count: int) -> None:
    """One worker process: ``count`` concurrent runs; prints each outcome as a JSON line."""

    async def main() -> None:
        rlm = served_rlm(base_url, db)
        numbers = range(first, first + count)
        results = await asyncio.gather(
            *(rlm.ainvoke(request(n)) for n in numbers), return_exceptions=True
        )
        for n, result in zip(numbers, results, strict=True):
            outcome = repr(result) if isinstance(result, BaseException) else result.answer
            print(json.dumps({"n": n, "answer": outcome}), flush=True)

    asyncio.run(main())


def test_four_processes_on_one_file_each_answer_its_own(model_server, tmp_path):
    db = str(tmp_path / "runs.sqlite")
    code = (
        "import sys\nfrom tests.unit.test_many_runs import run_batch\n"
        "run_batch(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))"
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", code, model_server.base_url, db, str(8 * i), "8"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    answers = {}
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err[-2000:]
        answers.update((row["n"], row["answer"]) for row in map(json.loads, out.splitlines()))
    assert answers == {n: code_of(n) for n in range(32)}
    rlm = served_rlm(model_server.base_url, db)
    stored = {run.thread_id: (run.status, run.answer) for run in rlm.runs(limit=None)}
    assert stored == {f"doc-{n}": ("done", code_of(n)) for n in range(32)}
