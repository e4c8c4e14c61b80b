"""The text's own lists, read for a list question no word keys (``graph/alike.py``).

For each ``multi-niah`` sample asked, the first sentence of each group of sentences stated alike
is read by the reader of other words (the 1.5B), larger groups first, until one is read as an
item, as ``review._searched_items`` does when the thesaurus's words key nothing; then the same
text with the list's items taken out, where every item read is a wrong one. The thesaurus step
before it is left out: this measures the fallback alone, on every sample asked.

    python benchmarks/own_lists.py --seeds 36,40 --samples 1,3,5

prints one row per sample and text, then the items reached and the wrong items read.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from rlm_graph import RLM
from rlm_graph.bench.corpus import load_corpus
from rlm_graph.bench.tasks import generate_sample
from rlm_graph.context import ContextView, TextStore
from rlm_graph.evidence import is_not_found, with_lead
from rlm_graph.graph.alike import alike_groups
from rlm_graph.graph.judge import read_passage
from rlm_graph.graph.phrase_search import MAX_READ
from rlm_graph.graph.review import item_reading


async def first_item(rt, reader, question: str, text: str) -> tuple[int, str | None, str]:
    """How many sentences were read, the line read as an item (None: none), its sentence."""
    view = ContextView(TextStore(text.encode()))
    groups = alike_groups(view)
    stated = {group[0].quote for group in groups}
    for count, group in enumerate(groups[:MAX_READ], start=1):
        item = group[0]
        lead = with_lead(view, item)[1]
        read, _, error = await read_passage(
            rt, reader, question, f"{'' if lead in stated else lead} {item.quote}".strip(), None
        )
        if error or read is None or is_not_found(read):
            continue
        line = item_reading(read, item.quote, question, twin=False, named=True)
        if line is not None:
            return count, line, item.quote
    return min(len(groups), MAX_READ), None, ""


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="36,40")
    parser.add_argument("--samples", default="1,3,5", help="sample indices (0-based)")
    parser.add_argument("--judge-model", default=None, help="default: the product's default")
    args = parser.parse_args()
    corpus = load_corpus(None)
    reader = None
    reached = total = wrong = reads = 0
    print("| seed | sample | asked | text | reads | item read | right |")
    print("|---|---:|---|---|---:|---|---|")
    for seed in (int(s) for s in args.seeds.split(",")):
        for index in (int(i) for i in args.samples.split(",")):
            sample = generate_sample("multi-niah", corpus, 4 * 8192, index, seed=seed)
            rt = RLM(model="local:0.5b", judge_model=args.judge_model).runtime(
                query=sample.question
            )
            reader = reader or await asyncio.to_thread(rt.rewording_judge)
            facts = [n.sentence for n in sample.needles if n.role == "fact"]
            stripped = sample.text
            for fact in facts:
                stripped = stripped.replace(fact, "")
            asked = "other words" if sample.paraphrased else "own words"
            for kind, text in (("with items", sample.text), ("items out", stripped)):
                started = time.monotonic()
                count, line, quote = await first_item(rt, reader, sample.question, text)
                right = line is not None and quote in facts
                if kind == "with items":
                    total += 1
                    reached += right
                else:
                    reads += count
                    wrong += line is not None
                print(
                    f"| {seed} | {index + 1} | {asked} | {kind} | {count} | {line or '-'} | "
                    f"{'yes' if right else 'no'} | ({time.monotonic() - started:.0f} s)"
                )
    print(
        f"\nitems reached: {reached}/{total}; wrong items read with the items out: "
        f"{wrong} in {reads} reads"
    )


if __name__ == "__main__":
    asyncio.run(main())
