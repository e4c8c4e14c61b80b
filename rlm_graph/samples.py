"""Generated long documents with a planted fact (a "needle"), for demos, tests and benchmarks.

``python -m rlm_graph.samples big_haystack.txt --chars 60000`` writes one.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

DEFAULT_NEEDLE = "The vault access code is 7391-ALPHA."
DEFAULT_QUESTION = "What is the vault access code?"
DEFAULT_ANSWER = "7391-ALPHA"

_SUBJECTS = [
    "The quarterly report",
    "The facilities team",
    "Our support desk",
    "The auditor",
    "The warehouse manager",
    "The finance office",
    "The night shift",
    "The project lead",
    "The procurement group",
    "The training coordinator",
    "The regional office",
]
_VERBS = [
    "reviewed",
    "updated",
    "postponed",
    "summarized",
    "approved",
    "questioned",
    "archived",
    "circulated",
    "revised",
    "discussed",
    "scheduled",
]
_OBJECTS = [
    "the parking allocation",
    "the cafeteria menu",
    "the printer maintenance plan",
    "the holiday rota",
    "the travel expense policy",
    "the onboarding checklist",
    "the recycling schedule",
    "the meeting room bookings",
    "the badge renewal process",
    "the supplier shortlist",
    "the fire drill timetable",
    "the inventory count",
]
_TAILS = [
    "before the end of the month.",
    "after a short delay.",
    "with minor corrections.",
    "at the request of the board.",
    "without further comment.",
    "for the second time.",
    "in line with last year's practice.",
    "pending a final signature.",
]


def filler_paragraph(rng: random.Random, sentences: int = 5) -> str:
    return " ".join(
        f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_TAILS)}"
        for _ in range(sentences)
    )


def make_haystack(
    chars: int = 60_000,
    *,
    needle: str = DEFAULT_NEEDLE,
    position: float = 0.63,
    seed: int = 7,
) -> str:
    """About ``chars`` characters of numbered paragraphs with ``needle`` planted at
    ``position`` (0..1) of the way through."""
    rng = random.Random(seed)
    paragraphs: list[str] = []
    size = 0
    number = 1
    while size < chars:
        paragraph = f"Note {number}. {filler_paragraph(rng)}"
        paragraphs.append(paragraph)
        size += len(paragraph) + 2
        number += 1
    at = min(len(paragraphs) - 1, int(len(paragraphs) * position))
    paragraphs[at] = f"{paragraphs[at]} {needle}"
    return "\n\n".join(paragraphs) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a haystack document with a needle.")
    parser.add_argument("path", type=Path)
    parser.add_argument("--chars", type=int, default=60_000)
    parser.add_argument("--position", type=float, default=0.63)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    args.path.write_text(
        make_haystack(args.chars, position=args.position, seed=args.seed), encoding="utf-8"
    )
    print(f"wrote {args.path} ({args.path.stat().st_size:,} bytes); ask: {DEFAULT_QUESTION!r}")


if __name__ == "__main__":
    main()
