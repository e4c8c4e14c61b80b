"""Leaves asked in other words than the text's: found, verified, and verified where nothing is.

    .venv/bin/python benchmarks/reworded_leaves.py [--model local] [--judge-model SPEC] [--tokens 2000]
        [--samples 10] [--seed 30] [--task multi-niah] [--out FILE.json]

Each sample is the bench's own sample (``rlm_graph.bench``, the ``multi-niah`` task by
default) asked in other words than its needles' ("Name every town with a repaired public
timepiece ..." for "The clock tower of Fencombe was restored by ..."), at one leaf's slice
size, in text nobody here wrote (Python's help text). It is put to one leaf through the real
leaf path (prompt, JSON-schema decoding, evidence check, judge) twice:

- over the sample, its needles in it: is a needle's value named, and is the finding verified,
  by the question's words (``lexical``) or only by a reader of the passage alone
  (``reworded``, ``evidence.relevance``)?
- over the same text with its needle sentences taken out: any verified finding there is a
  wrong one (``false verified``), and the ones the reworded path let through are counted apart.

"Before" in the table is what the words alone verify: the reworded path is the change.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rlm_graph import RLM  # noqa: E402
from rlm_graph.bench.corpus import load_corpus  # noqa: E402
from rlm_graph.bench.scoring import score_answer  # noqa: E402
from rlm_graph.bench.tasks import generate_sample  # noqa: E402
from rlm_graph.context import open_context  # noqa: E402
from rlm_graph.graph.leaf import answer_leaf  # noqa: E402


def _path(outcome) -> str:
    """How a leaf's finding stands: not found, unverified, or verified by words or a reader."""
    if outcome.answer is None:
        return "not_found"
    if not outcome.verified:
        return "unverified"
    reworded = any(item.read_for for item in outcome.evidence)
    return "reworded" if reworded else "lexical"


async def measure(args: argparse.Namespace) -> list[dict]:
    rlm = RLM(model=args.model, judge_model=args.judge_model)
    runtime, model = rlm.runtime(), rlm.sub_model
    corpus = load_corpus(args.corpus)
    rows = []
    for index in range(1, 2 * args.samples, 2):  # odd samples are asked in other words
        sample = generate_sample(args.task, corpus, args.tokens, index, seed=args.seed)
        assert sample.paraphrased
        bare = sample.text
        for needle in sample.needles:
            bare = bare.replace(needle.sentence, "")
        row = {"index": index, "shape": sample.shape, "question": sample.question}
        for label, text in (("needles", sample.text), ("bare", bare)):
            started = time.perf_counter()
            outcome = await answer_leaf(
                runtime, model, open_context(text), sample.question, question=sample.question
            )
            score = score_answer(sample, outcome.answer)
            row[label] = {
                "answer": outcome.answer,
                "path": _path(outcome),
                "names_a_needle": score.recall > 0 if label == "needles" else False,
                "seconds": round(time.perf_counter() - started, 1),
            }
            print(f"#{index} {sample.shape} {label}: {row[label]}", file=sys.stderr, flush=True)
        rows.append(row)
        if args.out:
            Path(args.out).write_text(json.dumps(rows, indent=1))
    return rows


def table(rows: list[dict]) -> str:
    n = len(rows)
    found = [r["needles"] for r in rows]
    bare = [r["bare"] for r in rows]
    right = [f for f in found if f["names_a_needle"]]

    def count(items, *paths):
        return sum(1 for item in items if item["path"] in paths)

    wrong_verified = [
        f for f in found if f["path"] in ("lexical", "reworded") and not f["names_a_needle"]
    ]
    lines = [
        "| | before (words only) | after (words, or a reader for other words) |",
        "|---|---:|---:|",
        f"| needle named and verified | {count(right, 'lexical')}/{n} | "
        f"{count(right, 'lexical', 'reworded')}/{n} |",
        f"| needle named, unverified | {len(right) - count(right, 'lexical')}/{n} | "
        f"{count(right, 'unverified')}/{n} |",
        f"| wrong answer verified, slice with needles | "
        f"{sum(1 for f in wrong_verified if f['path'] == 'lexical')}/{n} | "
        f"{len(wrong_verified)}/{n} |",
        f"| verified, slice without needles (all wrong) | {count(bare, 'lexical')}/{n} | "
        f"{count(bare, 'lexical', 'reworded')}/{n} |",
    ]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="local")
    parser.add_argument(
        "--judge-model", help="reader of passages in other words (default: the run's rule)"
    )
    parser.add_argument("--tokens", type=int, default=2000, help="slice size (a leaf's chunk)")
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--seed", type=int, default=30)
    parser.add_argument("--task", default="multi-niah", choices=("multi-niah", "niah"))
    parser.add_argument("--corpus", help="a text file or folder (default: Python's help)")
    parser.add_argument("--out", help="write the rows as JSON here")
    rows = await measure(parser.parse_args())
    print(table(rows))


if __name__ == "__main__":
    asyncio.run(main())
