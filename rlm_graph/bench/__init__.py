"""``rlm-graph bench``: does recursion help on your text?

Tasks with computed ground truth over a real corpus (``niah``, ``multi-niah``, ``absent``,
``multi-hop``, ``count``, ``per-part``) and a source tree (``code``), answered by the RLM,
map-reduce, the plain model (``direct``) and BM25 retrieval (``retrieve``) on the same model
(and, asked for by name, the RLM in REPL mode: ``rlm-repl``), each answer scored and marked
grounded or not. ``run_bench(...)`` returns a ``BenchResult`` (``rows``: aggregates,
``samples``: raw results); ``main(argv)`` is the command.

Names load on first use, so the CLI's ``--help`` imports no LangChain, LangGraph or pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "run_bench": "rlm_graph.bench.runner",
    "arun_bench": "rlm_graph.bench.runner",
    "main": "rlm_graph.bench.cli",
    "add_bench_parser": "rlm_graph.bench.cli",
    "run_bench_command": "rlm_graph.bench.cli",
    "BenchResult": "rlm_graph.bench.results",
    "BenchRow": "rlm_graph.bench.results",
    "BenchSettings": "rlm_graph.bench.results",
    "SampleResult": "rlm_graph.bench.results",
    "ROW_KEYS": "rlm_graph.bench.results",
    "TaskSample": "rlm_graph.bench.samples",
    "Needle": "rlm_graph.bench.samples",
    "PartTruth": "rlm_graph.bench.samples",
    "CodeQuestion": "rlm_graph.bench.samples",
    "generate_sample": "rlm_graph.bench.tasks",
    "Corpus": "rlm_graph.bench.corpus",
    "load_corpus": "rlm_graph.bench.corpus",
    "CodeTree": "rlm_graph.bench.code_tasks",
    "load_code_corpus": "rlm_graph.bench.code_tasks",
    "Score": "rlm_graph.bench.scoring",
    "score_answer": "rlm_graph.bench.scoring",
    "BenchInputError": "rlm_graph.bench.options",
}

__all__ = [
    "BenchInputError",
    "BenchResult",
    "BenchRow",
    "BenchSettings",
    "CodeQuestion",
    "CodeTree",
    "Corpus",
    "Needle",
    "PartTruth",
    "ROW_KEYS",
    "SampleResult",
    "Score",
    "TaskSample",
    "add_bench_parser",
    "arun_bench",
    "generate_sample",
    "load_code_corpus",
    "load_corpus",
    "main",
    "run_bench",
    "run_bench_command",
    "score_answer",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from rlm_graph.bench.cli import add_bench_parser, main, run_bench_command
    from rlm_graph.bench.code_tasks import CodeTree, load_code_corpus
    from rlm_graph.bench.corpus import Corpus, load_corpus
    from rlm_graph.bench.options import BenchInputError
    from rlm_graph.bench.results import (
        ROW_KEYS,
        BenchResult,
        BenchRow,
        BenchSettings,
        SampleResult,
    )
    from rlm_graph.bench.runner import arun_bench, run_bench
    from rlm_graph.bench.samples import CodeQuestion, Needle, PartTruth, TaskSample
    from rlm_graph.bench.scoring import Score, score_answer
    from rlm_graph.bench.tasks import generate_sample


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rlm_graph.bench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
