"""How often a leaf whose slice holds the fact finds it, against the slice's size in tokens.

    .venv/bin/python benchmarks/leaf_curve.py [--models local,local:1.5b]
        [--sizes 1000,2000,4000,6000] [--samples 5] [--seed 11] [--corpus PATH]
        [--code-corpus PATH] [--out FILE.json]

Each sample is the bench's own ``niah`` sample at that size (``rlm_graph.bench``): a needle of
one of five shapes (a sentence fact, a name, a date, a number, a code) planted at a random depth
in text nobody here wrote, with the question in the needle's own words or in others. It is
asked of one leaf over the whole sample through the real leaf path (prompt, JSON-schema
decoding, evidence check, judge), on prose (Python's help text by default) and on source code
(the standard library's asyncio package by default, its files joined). A row counts answers
that are right and verified, right but unverified, "not found" and wrong, with the seconds per
leaf call. The default chunking is set from this curve (``configuration.py``).
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
from rlm_graph.bench.code_tasks import default_code_corpus, load_code_corpus  # noqa: E402
from rlm_graph.bench.corpus import Corpus, Section, load_corpus  # noqa: E402
from rlm_graph.bench.scoring import score_answer  # noqa: E402
from rlm_graph.bench.tasks import generate_sample  # noqa: E402
from rlm_graph.context import open_context  # noqa: E402
from rlm_graph.graph.leaf import answer_leaf  # noqa: E402


def code_as_corpus(path: str | None) -> Corpus:
    """A source tree as one text, its files one after another (``# file: <path>`` lines)."""
    tree = load_code_corpus(path) if path else default_code_corpus()
    pieces, sections, offset = [], [], 0
    for file in tree.files:
        block = f"# file: {file.path}\n{file.text}\n"
        sections.append(Section(title=file.path, start=offset, end=offset + len(block)))
        pieces.append(block)
        offset += len(block)
    return Corpus(
        name=f"code:{tree.name}", text="".join(pieces), files=len(tree.files), sections=sections
    )


async def measure(spec: str, corpus: Corpus, size: int, samples: int, seed: int) -> dict:
    rlm = RLM(model=spec)
    runtime, model = rlm.runtime(), rlm.sub_model
    row = {"model": model.name, "corpus": corpus.name, "tokens": size, "samples": samples}
    row.update(right_verified=0, right_unverified=0, not_found=0, wrong=0, wrong_verified=0)
    seconds = 0.0
    for index in range(samples):
        sample = generate_sample("niah", corpus, size, index, seed=seed)
        started = time.perf_counter()
        verdict = await answer_leaf(
            runtime, model, open_context(sample.text), sample.question, question=sample.question
        )
        seconds += time.perf_counter() - started
        right = score_answer(sample, verdict.answer).correct
        if verdict.outcome == "not_found":
            row["not_found"] += 1
        elif right:
            row["right_verified" if verdict.verified else "right_unverified"] += 1
        else:
            row["wrong"] += 1
            row["wrong_verified"] += bool(verdict.verified)
        print(
            f"  {model.name} {corpus.name} {size} #{index} {sample.shape}: "
            f"{'right' if right else 'wrong'} {verdict.outcome} verified={verdict.verified} "
            f"{time.perf_counter() - started:.0f}s",
            file=sys.stderr,
        )
    row["seconds_per_leaf"] = round(seconds / max(1, samples), 1)
    return row


def table(rows: list[dict]) -> str:
    head = "| model | corpus | slice tokens | n | right+verified | right, unverified | not found | wrong (verified) | s/leaf |"
    out = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(
            f"| {r['model']} | {r['corpus']} | {r['tokens']:,} | {r['samples']} | "
            f"{r['right_verified']} | {r['right_unverified']} | {r['not_found']} | "
            f"{r['wrong']} ({r['wrong_verified']}) | {r['seconds_per_leaf']} |"
        )
    return "\n".join(out)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="local", help="comma-separated model specs")
    parser.add_argument("--sizes", default="1000,2000,4000,6000", help="slice sizes in tokens")
    parser.add_argument("--samples", type=int, default=5, help="samples per size (5 shapes)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--corpus", help="prose: a text file or folder (default: Python's help)")
    parser.add_argument("--code-corpus", help="a folder of .py files (default: asyncio)")
    parser.add_argument("--only", choices=("prose", "code"), help="one corpus only")
    parser.add_argument("--out", help="write the rows as JSON here")
    args = parser.parse_args()
    corpora = {
        "prose": lambda: load_corpus(args.corpus),
        "code": lambda: code_as_corpus(args.code_corpus),
    }
    rows = []
    for name, load in corpora.items():
        if args.only and name != args.only:
            continue
        corpus = load()
        for spec in args.models.split(","):
            for size in (int(s) for s in args.sizes.split(",")):
                rows.append(await measure(spec.strip(), corpus, size, args.samples, args.seed))
                if args.out:
                    Path(args.out).write_text(json.dumps(rows, indent=1))
    print(table(rows))


if __name__ == "__main__":
    asyncio.run(main())
