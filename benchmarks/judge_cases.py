"""How often the judge (``rlm_graph.graph.judge``) agrees with a passage that answers the
question, and refuses one that does not, on the bench's own generated questions.

    .venv/bin/python benchmarks/judge_cases.py [--models local,local:1.5b] [--samples 6]
        [--seed 13] [--prompt current|typed] [--out FILE.json]

Cases come from ``rlm_graph.bench`` samples (facts planted in text nobody here wrote, five
answer shapes, questions in the needle's words or others), each judged exactly as a leaf's
finding is (the passage with the sentence before it, the real prompt and JSON schema):

- ``niah``: the fact's sentence. Right: the judge answers as the fact does.
- ``absent``: another key's fact (a distractor). Right: no agreement with its value.
- ``multi-hop``: each link of the chain alone ("A bought a boat from B", "B was born in Z").
  Right: no agreement with the link's value; neither link alone answers the question.

A wrong passage reaches the judge only when the word check lets it through (a leaf's finding
quoting it is about the question and says the answer, ``evidence.check`` over the ~2,000-token
slice around it); the last column counts the judge's refusals among those.

``--prompt typed`` tries a judge that first names the kind of thing the question asks for.
``--word-check-only`` runs no model: per task and role, how many passages the word check
(``evidence.check``) lets through to the judge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rlm_graph import RLM, prompts  # noqa: E402
from rlm_graph.bench.corpus import load_corpus  # noqa: E402
from rlm_graph.bench.tasks import generate_sample  # noqa: E402
from rlm_graph.context import open_context  # noqa: E402
from rlm_graph.evidence import check, passage, with_lead  # noqa: E402
from rlm_graph.graph import judge as judge_module  # noqa: E402
from rlm_graph.graph.events import ModelCallEvents  # noqa: E402
from rlm_graph.graph.judge import agrees, is_kind, read_passage  # noqa: E402
from rlm_graph.graph.model_call import json_schema_format  # noqa: E402
from rlm_graph.questions import asked_kind  # noqa: E402

TYPED_SYSTEM = """\
Answer the question using only the passage. First name the kind of thing the question asks \
for (a person, a place, a date, a number, an action, ...). If the passage does not give that \
kind of thing as the answer to this very question, reply {"asks_for": "...", "found": false, \
"answer": ""}. Otherwise reply {"asks_for": "...", "found": true, "answer": "..."} with the \
answer as the passage says it."""
TYPED_FORMAT = json_schema_format(
    "passage_answer",
    {
        "type": "object",
        "properties": {
            "asks_for": {"type": "string", "maxLength": 40},
            "found": {"type": "boolean"},
            "answer": {"type": "string", "maxLength": 300},
        },
        "required": ["asks_for", "found", "answer"],
        "additionalProperties": False,
    },
)


# The slice a leaf would read around a fact: the bench's default chunk (~2,000 tokens).
SLICE_CHARS = 8000


def judged_text(text: str, offset: int, sentence: str) -> tuple[str, bool]:
    """The fact's passage with the sentence before it, as a leaf's finding is judged, and
    whether it gets to the judge at all: a leaf that quoted it and answered with its value
    is verified by the word check first (about the question, says the answer)."""
    lo = max(0, offset - SLICE_CHARS // 2)
    piece = text[lo : lo + SLICE_CHARS]
    view = open_context(piece)
    start = len(piece[: offset - lo].encode())
    item = passage(view, start, start + len(sentence.encode()))
    return f"{with_lead(view, item)[1]} {item.quote}".strip(), view


def cases(samples: int, seed: int) -> list[dict]:
    corpus = load_corpus(None)
    out = []
    for task in ("niah", "absent", "multi-hop"):
        for index in range(samples):
            sample = generate_sample(task, corpus, 2000, index, seed=seed)
            for needle in sample.needles:
                text, view = judged_text(sample.text, needle.char_offset, needle.sentence)
                reply = json.dumps(
                    {"found": True, "answer": needle.value, "quotes": [needle.sentence]}
                )
                out.append(
                    {
                        "task": task,
                        "role": needle.role,
                        "shape": needle.shape,
                        "question": sample.question,
                        "passage": text,
                        "word_check": check(view, reply, sample.question).verified,
                        "value": needle.value,
                        "answers": task == "niah" and needle.role == "fact",
                    }
                )
    return out


async def judge_all(spec: str, items: list[dict], *, kind_check: bool = False) -> dict:
    rlm = RLM(model=spec)
    rt, model = rlm.runtime(), rlm.sub_model
    events = ModelCallEvents(None, "", "judge")
    row = {
        "model": model.name,
        "accepted_right": 0,
        "right": 0,
        "refused_wrong": 0,
        "wrong": 0,
        "wrong_past_word_check": 0,
        "refused_past_word_check": 0,
    }
    started = time.perf_counter()
    for item in items:
        reading, _, error = await read_passage(rt, model, item["question"], item["passage"], events)
        agreed = error is None and reading is not None and agrees(reading, item["value"])
        kind = asked_kind(item["question"])
        if agreed and kind_check and kind is not None:  # of the finding's answer, as cited
            agreed, _, _ = await is_kind(rt, model, item["value"], kind, events)
        key = "right" if item["answers"] else "wrong"
        row[key] += 1
        if item["answers"]:
            row["accepted_right"] += agreed
        else:
            row["refused_wrong"] += not agreed
            if item["word_check"]:  # the wrong passages a leaf's finding would bring here
                row["wrong_past_word_check"] += 1
                row["refused_past_word_check"] += not agreed
        print(
            f"  {model.name} {item['task']}/{item['role']}/{item['shape']}: "
            f"{'agreed' if agreed else 'refused'} ({reading!r}) word check "
            f"{'passed' if item['word_check'] else 'failed'}",
            file=sys.stderr,
        )
    row["seconds_per_judge"] = round((time.perf_counter() - started) / max(1, len(items)), 1)
    return row


def print_word_check(items: list[dict], seed: int) -> None:
    """Per task and role: passages the word check passes, of all (right ones should pass)."""
    rows: dict[str, list[int]] = {}
    for item in items:
        role = "fact (right)" if item["answers"] else item["role"]
        counts = rows.setdefault(f"{item['task']} | {role}", [0, 0])
        counts[0] += item["word_check"]
        counts[1] += 1
    print(f"seed {seed}\n\n| task | passage | past the word check |\n|---|---|---:|")
    for key, (passed, total) in sorted(rows.items()):
        print(f"| {key} | {passed}/{total} |")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="local")
    parser.add_argument("--samples", type=int, default=6, help="samples per task")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--prompt", choices=("current", "typed"), default="current")
    parser.add_argument(
        "--kind-check",
        action="store_true",
        help="after agreeing, ask if the answer is the kind asked for",
    )
    parser.add_argument(
        "--word-check-only", action="store_true", help="no model: what the word check passes"
    )
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.word_check_only:
        print_word_check(cases(args.samples, args.seed), args.seed)
        return
    if args.prompt == "typed":
        prompts.JUDGE_SYSTEM = TYPED_SYSTEM
        judge_module.JUDGE_FORMAT = TYPED_FORMAT
    items = cases(args.samples, args.seed)
    rows = []
    for spec in args.models.split(","):
        row = await judge_all(spec.strip(), items, kind_check=args.kind_check)
        rows.append(
            {**row, "prompt": args.prompt + ("+kind" if args.kind_check else ""), "seed": args.seed}
        )
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    print(
        "| model | prompt | right passages agreed | wrong passages refused | "
        "of them past the word check | s/judge |"
    )
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['model']} | {r['prompt']} | {r['accepted_right']}/{r['right']} | "
            f"{r['refused_wrong']}/{r['wrong']} | "
            f"{r['refused_past_word_check']}/{r['wrong_past_word_check']} | "
            f"{r['seconds_per_judge']} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
