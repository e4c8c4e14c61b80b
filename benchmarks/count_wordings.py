"""Count questions in other words than the bench's: right, at the defaults a user gets.

    .venv/bin/python benchmarks/count_wordings.py [--model local] [--samples 8] [--seed 42]
        [--out FILE.json]

Each sample is the bench's own ``count`` sample (records in three formats, Python's help
text as the records' text, a label and, for every other sample, a date window), at 4x the
model's window, with its computed truth. Only the question changes: the bench always asks
"How many records have label X [and a date from A to B (both included)]? Answer with a
number." after a sentence that describes the records; here the question is one of four other
wordings, in turn, without that sentence (a plural, "labelled", "through", "give the number
of", "in how many lines"). The RLM runs at its defaults (``mode="auto"``: the question decides
the mode), so a wording that is not read as a count is measured as it runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rlm_graph import RLM  # noqa: E402
from rlm_graph.bench.corpus import load_corpus  # noqa: E402
from rlm_graph.bench.scoring import score_answer  # noqa: E402
from rlm_graph.bench.tasks import generate_sample  # noqa: E402

LABEL_ONLY = (
    "How many {label} records are there?",
    "Count the records labelled {label}.",
    "In how many lines is the label {label}?",
    "How many {label}s does the text hold?",
)
DATE_WINDOW = (
    "How many {label} records are dated between {first} and {last}, both days included?",
    "Count the records labelled {label} from {first} through {last}.",
    "Give the number of records with label {label} dated {first} to {last}, inclusive.",
    "How many {label}s were recorded from {first} to {last}, both included?",
)


def reworded(sample, index: int) -> str:
    """The sample's question in wording ``index % 4``, without the records' description."""
    if sample.date_range is None:
        return LABEL_ONLY[index % 4].format(label=sample.label)
    first, last = sample.date_range
    return DATE_WINDOW[index % 4].format(label=sample.label, first=first, last=last)


def measure(args: argparse.Namespace) -> list[dict]:
    rlm = RLM(model=args.model)
    corpus = load_corpus(args.corpus)
    length = 4 * rlm.root_model.window_tokens  # the bench's 4x
    rows = []
    for index in range(args.samples):
        sample = generate_sample("count", corpus, length, index, seed=args.seed)
        # Samples go in pairs (a label, then a label and dates), so the wording turns per pair:
        # eight samples meet every wording once with each kind of question.
        question = reworded(sample, index // 2)
        started = time.monotonic()
        result = rlm.invoke({"query": question, "context": sample.text})
        score = score_answer(sample, result.answer)
        rows.append(
            {
                "sample": index + 1,
                "format": sample.record_format,
                "question": question,
                "mode": rlm.mode_for(question),
                "truth": sample.answer,
                "answer": result.answer,
                "status": result.status,
                "correct": score.correct,
                "model_calls": result.usage.model_calls,
                "seconds": round(time.monotonic() - started, 1),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="local")
    parser.add_argument("--corpus", default=None)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    rows = measure(args)
    right = sum(row["correct"] for row in rows)
    print(f"\n{'sample':>6} {'format':<7} {'mode':<5} {'truth':>6} {'answer':>10} right  question")
    for row in rows:
        answer = str(row["answer"])[:10]
        mark = "yes" if row["correct"] else "no"
        print(
            f"{row['sample']:>6} {row['format']:<7} {row['mode']:<5} {row['truth']:>6} "
            f"{answer:>10} {mark:<5}  {row['question']}"
        )
    print(f"\nright: {right}/{len(rows)} (model {args.model}, seed {args.seed})")
    if args.out:
        Path(args.out).write_text(
            json.dumps({"seed": args.seed, "model": args.model, "rows": rows}, indent=1)
        )


if __name__ == "__main__":
    main()
