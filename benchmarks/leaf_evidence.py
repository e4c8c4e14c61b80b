"""How the embedded models answer as leaves on text nobody tuned a prompt on.

    .venv/bin/python benchmarks/leaf_evidence.py [--models local,local:1.5b] [--pairs 8]
        [--corpus PATH]

Slices of a text nobody tuned a prompt on (by default Python's own help text,
``pydoc_data.topics``; ``--corpus`` takes a file or folder, such as the licence texts in
``/usr/share/common-licenses``: other people's prose), each asked twice: once with a needle
sentence planted at a random line ("The access code for the X archive is NNNN-WORD."), once
without. Every reply goes through the real leaf path (prompt, JSON-schema decoding, the evidence
check) and is classified: right and verified, right but unverified, "not found", an invented
answer (caught as unverified), or the worked example copied back (counted as not found). The
table says how often the model's quotes verify, and how often an empty slice yields an
invention.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rlm_graph import RLM  # noqa: E402
from rlm_graph.bench.corpus import load_corpus  # noqa: E402
from rlm_graph.context import open_context  # noqa: E402
from rlm_graph.graph.leaf import answer_leaf  # noqa: E402

WORDS = ["obsidian", "kestrel", "harbor", "juniper", "quartz", "falcon", "cedar", "lagoon"]


def slices(corpus: str, pairs: int, chars: int, seed: int) -> list[tuple[str, str, str, str]]:
    """(slice with needle, slice without, question, code) for ``pairs`` random places."""
    rng = random.Random(seed)
    out = []
    for _ in range(pairs):
        start = rng.randrange(0, len(corpus) - chars)
        text = corpus[start : start + chars]
        key, code = rng.choice(WORDS), f"{rng.randrange(1000, 9999)}-{rng.choice(WORDS).upper()}"
        lines = text.split("\n")
        at = rng.randrange(1, max(2, len(lines) - 1))
        planted = "\n".join(
            [*lines[:at], f"The access code for the {key} archive is {code}.", *lines[at:]]
        )
        out.append((planted, text, f"What is the access code for the {key} archive?", code))
    return out


async def measure(spec: str, cases: list[tuple[str, str, str, str]]) -> dict[str, object]:
    rlm = RLM(model=spec)
    runtime, model = rlm.runtime(), rlm.sub_model
    counts = {
        key: 0
        for key in (
            "json",
            "right_verified",
            "right_unverified",
            "not_found_on_needle",
            "wrong_on_needle",
            "empty_not_found",
            "empty_invented",
            "empty_invented_verified",
        )
    }
    quotes_given = quotes_verified = 0
    seconds = 0.0
    for planted, empty, question, code in cases:
        for has_needle, text in ((True, planted), (False, empty)):
            view = open_context(text)
            started = time.perf_counter()
            # The real leaf: its prompt, its evidence check and (by default) its judge.
            verdict = await answer_leaf(runtime, model, view, question)
            seconds += time.perf_counter() - started
            counts["json"] += verdict.error is None
            quotes_given += len(verdict.evidence)
            quotes_verified += sum(e.verified for e in verdict.evidence)
            answer = verdict.answer or ""
            if has_needle:
                if verdict.outcome == "not_found":
                    counts["not_found_on_needle"] += 1
                elif code in answer:
                    counts["right_verified" if verdict.verified else "right_unverified"] += 1
                else:
                    counts["wrong_on_needle"] += 1
            elif verdict.outcome == "not_found":
                counts["empty_not_found"] += 1
            else:
                counts["empty_invented"] += 1
                counts["empty_invented_verified"] += bool(verdict.verified)
    return {
        "model": model.name,
        **counts,
        "quotes_given": quotes_given,
        "quotes_verified": quotes_verified,
        "seconds": seconds,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="local", help="comma-separated model specs")
    parser.add_argument(
        "--pairs", type=int, default=8, help="slices, each asked with and without the needle"
    )
    parser.add_argument(
        "--chars", type=int, default=6000, help="characters per slice (~1,500 tokens)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--corpus", help="a text file or folder (default: Python's help text)")
    args = parser.parse_args()
    corpus = load_corpus(args.corpus)
    cases = slices(corpus.text, args.pairs, args.chars, args.seed)
    rows = [await measure(spec.strip(), cases) for spec in args.models.split(",")]
    n = args.pairs
    corpus_flag = f" --corpus {args.corpus}" if args.corpus else ""
    print(
        f"`python benchmarks/leaf_evidence.py --models {args.models} --pairs {n} --chars {args.chars} --seed {args.seed}{corpus_flag}`\n"
    )
    print(f"{n} slices of {corpus.name}, each with a planted needle and without; temperature 0.\n")
    print(
        "| model | replies read | needle: right + verified | right, unverified | said not found | wrong | no needle: not found | invented | of which verified (missed) | passages verified | seconds per leaf |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        quotes = f"{r['quotes_verified']}/{r['quotes_given']}" if r["quotes_given"] else "-"
        print(
            f"| {r['model']} | {r['json']}/{2 * n} | {r['right_verified']}/{n} | {r['right_unverified']}/{n} | "
            f"{r['not_found_on_needle']}/{n} | {r['wrong_on_needle']}/{n} | {r['empty_not_found']}/{n} | "
            f"{r['empty_invented']}/{n} | {r['empty_invented_verified']}/{n} | {quotes} | {r['seconds'] / (2 * n):.1f} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
