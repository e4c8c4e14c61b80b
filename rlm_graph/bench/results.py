"""What a bench run returns and saves: settings, one raw result per sample, aggregate rows.

The saved / printed JSON object holds the settings at its top level (``samples`` there is the
number of samples per task x length x method, as ``--samples``), ``rows`` (the aggregates, with
at least the keys in ``ROW_KEYS``) and ``results`` (the raw per-sample results, which the Python
object calls ``samples``).

``grounded`` is the share of a row's answers that a verified passage of the text backs;
``false_grounded`` the share of those grounded answers that are wrong (None when none is
grounded): how often "backed by the text" still misleads. ``read`` is the input tokens a
sample cost as a multiple of its text's tokens (1.0: the text read once).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from rlm_graph.bench.samples import CodeQuestion, Needle, PartTruth

# The contract of every row in --json: these keys, always (more may follow).
ROW_KEYS = (
    "task",
    "length",
    "method",
    "accuracy",
    "grounded",
    "false_grounded",
    "input_tokens",
    "output_tokens",
    "model_calls",
    "seconds",
    "text_tokens",
    "read",
)
ANSWER_CHARS = 2000  # answers are kept whole up to this, then cut (a runaway model)


class SampleResult(BaseModel):
    """One method on one sample: the answer, its score and what it cost."""

    task: str
    length: int  # target tokens
    length_label: str
    method: str
    sample: int  # 1-based
    samples: int  # of this many
    question: str
    truth: str
    answer: str | None
    correct: bool
    recall: float | None = None  # share of the values / parts / callers named
    parsed: int | None = None  # count: the integer read from the answer
    grounded: bool | None = None  # a verified passage backs the answer; None: the run failed
    false_grounded: bool | None = None  # grounded and wrong
    input_tokens: int = 0
    output_tokens: int = 0
    model_calls: int = 0
    seconds: float = 0.0
    status: str = "done"
    error: str | None = None
    route: str | None = None
    calls_by_kind: dict[str, int] = Field(default_factory=dict)  # rlm: model calls by kind
    seen_tokens: int | None = None
    seen_fraction: float | None = None
    chunks_used: int | None = None
    chunks_total: int | None = None
    text_tokens: int = 0  # the sample's actual size (estimated tokens)
    text_chars: int = 0
    corpus_offset: int = 0
    corpus_repeats: int = 0
    shape: str | None = None  # needle tasks: the needle shape asked about
    paraphrased: bool = False
    distractor: bool = False
    expected: list[str] = Field(default_factory=list)
    needles: list[Needle] = Field(default_factory=list)
    count: int | None = None
    records: int | None = None
    parts: list[PartTruth] = Field(default_factory=list)
    code: CodeQuestion | None = None


class BenchRow(BaseModel):
    """Means over the samples of one task x length x method (totals alongside)."""

    task: str
    length: int
    method: str
    accuracy: float
    grounded: float  # share of the samples whose answer is grounded
    false_grounded: float | None  # share of the grounded answers that are wrong
    input_tokens: float
    output_tokens: float
    model_calls: float
    seconds: float
    text_tokens: float  # mean actual size of the samples' texts
    read: float | None  # input tokens / text tokens (1.0: the text read once)
    length_label: str
    samples: int
    correct: int
    recall: float | None = None
    errors: int = 0
    seen_fraction: float | None = None
    total_input_tokens: int = 0
    total_output_tokens: int = 0
    total_model_calls: int = 0
    total_seconds: float = 0.0


class BenchSettings(BaseModel):
    model: str
    sub_model: str
    window_tokens: int
    corpus: str
    corpus_tokens: int
    code_corpus: str | None = None  # the code task's source tree
    seed: int
    samples: int
    lengths: list[str]
    length_tokens: list[int]
    tasks: list[str]
    methods: list[str]
    needles: int
    max_depth: int
    max_calls: int
    sub_window: int | None = None
    judge_model: str | None = None  # the RLM's reader of passages in other words, if named
    date: str
    rlm_graph_version: str = ""


class BenchResult(BaseModel):
    settings: BenchSettings
    rows: list[BenchRow] = Field(default_factory=list)
    samples: list[SampleResult] = Field(default_factory=list)
    complete: bool = True  # False: interrupted or still running (a partial save)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            **self.settings.model_dump(),
            "complete": self.complete,
            "seconds": round(self.seconds, 3),
            "rows": [row.model_dump() for row in self.rows],
            "results": [result.model_dump() for result in self.samples],
        }


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def aggregate(results: Iterable[SampleResult]) -> list[BenchRow]:
    """One row per task x length x method, in the order the results came."""
    groups: dict[tuple[str, int, str], list[SampleResult]] = {}
    for result in results:
        groups.setdefault((result.task, result.length, result.method), []).append(result)
    rows: list[BenchRow] = []
    for (task, length, method), group in groups.items():
        recalls = [r.recall for r in group if r.recall is not None]
        seen = [r.seen_fraction for r in group if r.seen_fraction is not None]
        grounded = [r for r in group if r.grounded]
        text_tokens = sum(r.text_tokens for r in group)
        rows.append(
            BenchRow(
                task=task,
                length=length,
                method=method,
                accuracy=round(_mean([float(r.correct) for r in group]), 4),
                grounded=round(len(grounded) / len(group), 4),
                false_grounded=(
                    round(sum(not r.correct for r in grounded) / len(grounded), 4)
                    if grounded
                    else None
                ),
                input_tokens=round(_mean([r.input_tokens for r in group]), 1),
                output_tokens=round(_mean([r.output_tokens for r in group]), 1),
                model_calls=round(_mean([r.model_calls for r in group]), 2),
                seconds=round(_mean([r.seconds for r in group]), 3),
                text_tokens=round(text_tokens / len(group), 1),
                read=(
                    round(sum(r.input_tokens for r in group) / text_tokens, 2)
                    if text_tokens
                    else None
                ),
                length_label=group[0].length_label,
                samples=len(group),
                correct=sum(r.correct for r in group),
                recall=round(_mean(recalls), 4) if recalls else None,
                errors=sum(r.status == "error" for r in group),
                seen_fraction=round(_mean(seen), 4) if seen else None,
                total_input_tokens=sum(r.input_tokens for r in group),
                total_output_tokens=sum(r.output_tokens for r in group),
                total_model_calls=sum(r.model_calls for r in group),
                total_seconds=round(sum(r.seconds for r in group), 3),
            )
        )
    return rows
