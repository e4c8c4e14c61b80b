"""One bench sample run again, with its records: what each call asked, read and answered.

    .venv/bin/python benchmarks/replay_sample.py multi-niah 58 2 [--out FILE.json]
        [--model local:0.5b] [--length-tokens 32768]

The bench keeps no records (a row per sample). This regenerates sample N of a task and seed
exactly as ``rlm-graph bench`` does (the default corpus, 4x the 0.5B's window, 3 needles),
runs it as the bench's ``rlm`` method does (``max_depth=1``, ``max_calls=100``, no
checkpointer), prints the answer and one line per call (kind, target, task, answer, verified,
input tokens), and writes the whole result with its records to ``--out``. The local server
answers differently from run to run at temperature 0 when leaves run in parallel: a replay is
another run of the same sample, not a reproduction of the first.
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
from rlm_graph.bench.tasks import generate_sample  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("task")
    parser.add_argument("seed", type=int)
    parser.add_argument("sample", type=int, help="1-based, as the bench numbers them")
    parser.add_argument("--model", default="local:0.5b")
    parser.add_argument("--length-tokens", type=int, default=4 * 8192)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    sample = generate_sample(
        args.task, load_corpus(None), args.length_tokens, args.sample - 1, seed=args.seed
    )
    print(f"question: {sample.question}\ntruth:    {sample.answer}", flush=True)
    rlm = RLM(model=args.model, max_depth=1, max_calls=100, checkpointer=None)
    started = time.perf_counter()
    result = asyncio.run(rlm.ainvoke({"query": sample.question, "context": sample.text.encode()}))
    seconds = time.perf_counter() - started
    for record in result.records:
        answer = " ".join((record.answer or "").split())[:70]
        print(
            f"{record.id:8} {record.kind:5} {record.target:10} {record.task[:50]!r:54} "
            f"-> {answer!r} verified={record.verified} in={record.usage.input_tokens}"
        )
    read = result.usage.input_tokens / max(1, sample.length)
    print(
        f"answer: {result.answer!r}\ngrounded={result.grounded} status={result.status} "
        f"calls={result.usage.model_calls} input={result.usage.input_tokens} "
        f"(~{read:.2f}x the target length) {seconds:.0f} s"
    )
    if args.out is not None:
        payload = {
            "task": args.task,
            "seed": args.seed,
            "sample": args.sample,
            "question": sample.question,
            "truth": sample.answer,
            "result": result.model_dump(mode="json"),
        }
        args.out.write_text(json.dumps(payload, indent=1, default=str))


if __name__ == "__main__":
    main()
