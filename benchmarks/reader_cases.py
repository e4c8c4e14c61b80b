"""Can a model tell, reading one passage alone, whether it answers a question asked in other
words than the text's? The check behind ``--judge-model`` (``RLMRuntime.rewording_judge``).

    .venv/bin/python benchmarks/reader_cases.py [--models local,local:1.5b]

Fourteen cases: list questions in other words (the bench's multi-niah wordings), each with one
passage. Six passages answer their question in other words ("The ferry from Dunstead carries
883 passengers on each crossing." for "a boat service with a stated capacity"); eight do not
(a passage of Python's help text, or a planted fact of another kind, each naming a name or a
figure, as the passages left to a reader must). Each passage is read through the judge's real
prompt and JSON schema (``graph.judge.read_passage``) and compared with the finding as the
leaf's judge compares it (``agrees``). The cases were written by hand from fresh seed 35's
needles while the rule was designed: a tuning set, not an accuracy to quote on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rlm_graph import RLM  # noqa: E402
from rlm_graph.graph.events import ModelCallEvents  # noqa: E402
from rlm_graph.graph.judge import agrees, read_passage  # noqa: E402

TIMEPIECE = "Name every town with a repaired public timepiece in the text, and who repaired each."
BOAT = "Which towns have a boat service with a stated capacity, and how many people fit on one trip for each?"  # noqa: E501
CROSSING = "Which towns' river crossings have a recorded finishing date, and what is it for each?"
TELESCOPE = (
    "Which towns have a telescope station of known altitude, and what is the altitude of each?"  # noqa: E501
)
HABIT = "Which towns have a habit that newcomers pick up, and what is the habit in each?"
BATHS = "Which towns' bathhouses have a recorded day they welcomed their earliest guests, and what day was it for each?"  # noqa: E501
BOXES = "List every box the text gives a label for, with that label."

CLOCK = "The clock tower of Dunhaven was restored by Livia Wexcombe."
FERRY = "The ferry from Dunstead carries 883 passengers on each crossing."
BRIDGE = "The bridge at Fenmere was completed on 1972-07-20."
OBSERVATORY = "The observatory above Selhaven stands 1,181 metres above sea level."

# (question, passage, whether the passage answers it)
CASES: list[tuple[str, str, bool]] = [
    (TIMEPIECE, CLOCK, True),
    (BOAT, FERRY, True),
    (CROSSING, BRIDGE, True),
    (TELESCOPE, OBSERVATORY, True),
    (HABIT, "In Ostmoor, visitors soon learn to greet the baker by name.", True),
    (BATHS, "The public baths of Harwick opened on 1911-03-02.", True),
    (
        HABIT,
        "The builtins namespace associated with the execution of a code block is actually found by looking up the name '__builtins__' in its global namespace.",
        False,
    ),  # noqa: E501
    (TIMEPIECE, "Python was created by Guido van Rossum at CWI in the Netherlands.", False),
    (TELESCOPE, FERRY, False),
    (BATHS, BRIDGE, False),
    (BOAT, OBSERVATORY, False),
    (TIMEPIECE, "The town hall of Dunhaven was built by Livia Wexcombe.", False),
    (HABIT, "In Ostmoor the harbour freezes every winter.", False),
    (
        BOXES,
        "The __defaults__ attribute is a tuple containing default argument values, or None.",
        False,
    ),  # noqa: E501
]


async def measure(spec: str) -> dict[str, int]:
    rlm = RLM(model=spec)
    runtime, model = rlm.runtime(), rlm.sub_model
    counts = {"answers_agreed": 0, "answers": 0, "others_agreed": 0, "others": 0}
    for question, passage, answers in CASES:
        reading, _, error = await read_passage(
            runtime, model, question, passage, ModelCallEvents(None, "", "judge")
        )
        agreed = error is None and reading is not None and agrees(reading, passage, question)
        key = "answers" if answers else "others"
        counts[key] += 1
        counts[f"{key}_agreed"] += agreed
        print(f"{spec} {answers!s:5} agreed={agreed!s:5} {passage[:60]!r} -> {reading!r:.100}",
              file=sys.stderr, flush=True)  # fmt: skip
    return counts


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="local,local:1.5b")
    args = parser.parse_args()
    rows = [(spec, await measure(spec)) for spec in args.models.split(",")]
    print("| reader | answers in other words, agreed | passages about something else, agreed |")
    print("|---|---:|---:|")
    for spec, c in rows:
        print(f"| {spec} | {c['answers_agreed']}/{c['answers']} | {c['others_agreed']}/{c['others']} |")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
