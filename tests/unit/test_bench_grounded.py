"""Grounded and false-grounded answers: where each method's flag comes from, how rows
aggregate it, the JSON keys and table columns, and a run over every task on the fake."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from rlm_graph.bench import ROW_KEYS, SampleResult, main, run_bench
from rlm_graph.bench.corpus import default_corpus
from rlm_graph.bench.methods import MethodOutcome, MethodSetup, run_method
from rlm_graph.bench.options import TASKS
from rlm_graph.bench.report import format_table
from rlm_graph.bench.results import BenchResult, BenchSettings, aggregate
from rlm_graph.bench.runner import _result
from rlm_graph.bench.tasks import generate_sample
from rlm_graph.state import Usage
from tests.unit.test_bench import known, oracle


def _sample(method: str, grounded: bool | None, correct: bool, **kw) -> SampleResult:
    return SampleResult(
        task="niah",
        length=2000,
        length_label="2k",
        method=method,
        sample=1,
        samples=4,
        question="q",
        truth="t",
        answer="a",
        correct=correct,
        grounded=grounded,
        false_grounded=None if grounded is None else grounded and not correct,
        input_tokens=kw.get("input_tokens", 300),
        text_tokens=kw.get("text_tokens", 200),
    )


def test_rows_count_grounded_and_false_grounded_answers():
    results = [
        _sample("rlm", True, True),
        _sample("rlm", True, False),
        _sample("rlm", False, True),
        _sample("rlm", None, False),  # a failed run: no answer to ground
        _sample("direct", False, True, input_tokens=100),
        _sample("direct", False, False, input_tokens=100),
    ]
    rlm, direct = aggregate(results)
    assert rlm.grounded == 0.5 and rlm.false_grounded == 0.5
    assert direct.grounded == 0.0 and direct.false_grounded is None
    assert rlm.text_tokens == 200 and rlm.read == 1.5 and direct.read == 0.5
    settings = BenchSettings(
        model="m",
        sub_model="m",
        window_tokens=1000,
        corpus="c",
        corpus_tokens=1,
        seed=0,
        samples=4,
        lengths=["2k"],
        length_tokens=[2000],
        tasks=["niah"],
        methods=["rlm", "direct"],
        needles=3,
        max_depth=1,
        max_calls=10,
        date="now",
    )
    table = format_table(BenchResult(settings=settings, rows=[rlm, direct], samples=results))
    header, _, first, second = table.splitlines()[:4]
    for column in ("accuracy", "grounded", "false gr", "read", "text tok"):
        assert column in header
    assert header.index("grounded") < header.index("false gr") < header.index("read")
    assert "1.5x" in first and "0.50" in first and "0.5x" in second
    cells = second.split()
    assert cells[cells.index("direct") + 2 : cells.index("direct") + 5] == ["0.50", "0.00", "-"]


def test_a_sample_result_is_false_grounded_when_grounded_and_wrong():
    sample = generate_sample("niah", default_corpus(), 2000, 4, seed=0)  # a code needle
    args = (sample, "2k", "direct", 1)
    wrong = _result(*args, MethodOutcome(answer="0000-NOPE", grounded=True), 1.0)
    assert wrong.grounded and wrong.false_grounded and not wrong.correct
    right = _result(*args, MethodOutcome(answer=sample.answer, grounded=True), 1.0)
    assert right.correct and right.grounded and right.false_grounded is False
    failed = _result(*args, MethodOutcome(status="error", error="x"), 1.0)
    assert failed.grounded is None and failed.false_grounded is None


@pytest.mark.parametrize(
    ("leaf", "answer", "grounded"),
    [
        (dict(answer="42", outcome="found", verified=True), "42", True),
        (dict(answer="42", outcome="found", verified=False), "42", False),
        (dict(answer=None, outcome="not_found", verified=None), "NOT FOUND", False),
        (dict(answer=None, error="boom"), None, None),
    ],
)
async def test_direct_and_retrieve_take_grounded_from_the_leaf(monkeypatch, leaf, answer, grounded):
    pytest.importorskip("bm25s")
    from rlm_graph.graph import leaf as leaf_module

    async def fake_leaf(rt, model, view, task, **kwargs):
        return leaf_module.LeafOutcome(usage=Usage(), **leaf)

    monkeypatch.setattr(leaf_module, "answer_leaf", fake_leaf)
    model = oracle()
    sample = generate_sample("niah", default_corpus(), 2000, 0)
    for method in ("direct", "retrieve"):
        outcome = await run_method(method, MethodSetup(root=model, sub=model), sample)
        assert (outcome.answer, outcome.grounded) == (answer, grounded)


@pytest.mark.parametrize(
    ("status", "flag", "grounded"),
    [("done", True, True), ("done", False, False), ("error", False, None)],
)
async def test_recursive_methods_take_grounded_from_the_result(monkeypatch, status, flag, grounded):
    result = SimpleNamespace(
        answer="a", status=status, error=None, usage=Usage(), route="recursive", grounded=flag
    )

    class FakeRLM:
        async def ainvoke(self, payload):
            return result

    monkeypatch.setattr(
        MethodSetup, "rlm", lambda self, planner="model", on_event=None, mode=None: FakeRLM()
    )
    model = oracle()
    sample = generate_sample("niah", default_corpus(), 2000, 0)
    for method in ("rlm", "map-reduce"):
        outcome = await run_method(method, MethodSetup(root=model, sub=model), sample)
        assert outcome.grounded is grounded


def test_every_task_runs_end_to_end_and_rows_carry_the_new_keys(tmp_path):
    corpus = default_corpus()
    for task in ("niah", "multi-niah", "multi-hop"):
        known(corpus, task, 2000, 1)
    result = run_bench(
        tasks="all",
        lengths="2k",
        samples=1,
        methods="direct,map-reduce",
        model=oracle(window=8000),
        corpus=corpus,
        out=tmp_path / "all.json",
    )
    data = json.loads((tmp_path / "all.json").read_text())
    assert data["tasks"] == list(TASKS) and data["code_corpus"].startswith("asyncio")
    assert [(r["task"], r["method"]) for r in data["rows"]] == [
        (t, m) for t in TASKS for m in ("direct", "map-reduce")
    ]
    for row in data["rows"]:
        assert set(ROW_KEYS) <= set(row)
        assert {"grounded", "false_grounded", "text_tokens", "read"} <= set(row)
        assert 0 <= row["grounded"] <= 1 and row["text_tokens"] > 0 and row["read"] > 0
        assert row["errors"] == 0
    by = {(r.task, r.method): r for r in result.rows}
    # The fake reads whatever fits: the planted facts and the empty answer are right.
    for task in ("niah", "multi-niah", "multi-hop", "absent", "count"):
        assert by[(task, "direct")].accuracy == 1.0, task
    raw = {r["task"]: r for r in data["results"] if r["method"] == "direct"}
    assert raw["niah"]["shape"] == "sentence" and raw["niah"]["expected"]
    assert raw["per-part"]["parts"] and raw["code"]["code"]["files"]
    for r in data["results"]:
        assert r["false_grounded"] == (r["grounded"] and not r["correct"])


def test_the_command_prints_the_new_columns(monkeypatch, tmp_path, capsys):
    import rlm_graph.models

    monkeypatch.setattr(rlm_graph.models, "resolve_model", lambda spec, **kw: oracle(window=8000))
    known(default_corpus(), "multi-hop", 2000, 1)
    argv = ["--task", "multi-hop,absent", "--lengths", "2k", "--samples", "1", "--model", "x"]
    argv += ["--methods", "direct", "--out", str(tmp_path / "o.json"), "--quiet"]
    assert main(argv) == 0
    header, _, first, *_ = capsys.readouterr().out.splitlines()
    assert header.split()[:8] == [
        "task",
        "length",
        "method",
        "n",
        "accuracy",
        "grounded",
        "false",
        "gr",
    ]
    assert first.split()[:5] == ["multi-hop", "2k", "direct", "1", "1.00"]
