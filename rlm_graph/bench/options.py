"""What a bench run is made of: task, method and length names, parsed from flags or keywords.

Standard library only: the CLI parses and validates these before anything heavy is imported,
so a typo costs a one-line error, not a model start-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

TASKS = ("niah", "multi-niah", "absent", "multi-hop", "count", "per-part", "code")
METHODS = ("rlm", "rlm-repl", "map-reduce", "direct", "retrieve")
# What runs when no method is named: ``rlm-repl`` (REPL mode) is asked for by name (or ``all``).
DEFAULT_METHODS = ("rlm", "map-reduce", "direct", "retrieve")
DEFAULT_LENGTHS = ("8k", "32k", "128k")
# A "k" is a thousand tokens, as model windows are quoted ("128k" = 128,000).
_UNITS = {"": 1, "k": 1_000, "m": 1_000_000}
_LENGTH = re.compile(r"^(\d+(?:\.\d+)?)\s*([km]?)$")
_MULTIPLE = re.compile(r"^(\d+(?:\.\d+)?)\s*x$")
# Below this a "long-context" sample is a few lines; refuse rather than measure noise.
MIN_LENGTH_TOKENS = 50
MAX_NEEDLES = 20


class BenchInputError(ValueError):
    """A bench argument or input that cannot be used; the message is one line."""


@dataclass(frozen=True)
class LengthSpec:
    """A requested sample length: a number of tokens, or a multiple of the model's window."""

    label: str
    tokens: int | None = None
    window_multiple: float | None = None

    def resolve(self, window_tokens: int) -> int:
        if self.tokens is not None:
            return self.tokens
        return max(MIN_LENGTH_TOKENS, round((self.window_multiple or 1.0) * window_tokens))


def _items(value: str | int | Iterable[str | int] | None) -> list[str]:
    """Comma lists, repeated flags and Python sequences all flatten to one list of names."""
    if value is None:
        return []
    if isinstance(value, str | int):
        value = [value]
    out: list[str] = []
    for item in value:
        out += [part.strip() for part in str(item).split(",") if part.strip()]
    return out


def _names(
    value: str | Iterable[str] | None,
    known: tuple[str, ...],
    what: str,
    default: tuple[str, ...] | None = None,
) -> list[str]:
    names = _items(value) or list(known if default is None else default)
    out: list[str] = []
    for name in names:
        key = name.lower()
        if key == "all":
            out += [k for k in known if k not in out]
            continue
        if key not in known:
            raise BenchInputError(f"unknown {what} {name!r}: use {', '.join(known)}")
        if key not in out:
            out.append(key)
    return out


def parse_tasks(value: str | Iterable[str] | None) -> list[str]:
    """Names of ``TASKS`` (comma lists or repeated, ``all`` for every one); none given: all."""
    return _names(value, TASKS, "task")


def parse_methods(value: str | Iterable[str] | None) -> list[str]:
    """``rlm``, ``rlm-repl``, ``map-reduce``, ``direct``, ``retrieve`` (``all``: every one);
    none given: ``DEFAULT_METHODS``, the four without ``rlm-repl``."""
    return _names(value, METHODS, "method", DEFAULT_METHODS)


def parse_length(text: str | int) -> LengthSpec:
    """``8k`` (8,000 tokens), ``128000``, ``1.5k``, ``1m``, or ``4x`` (4 times the model's
    window)."""
    raw = str(text).strip().lower().replace("_", "")
    if match := _MULTIPLE.match(raw):
        multiple = float(match.group(1))
        if multiple <= 0:
            raise BenchInputError(f"length {text!r} must be a positive multiple, e.g. 4x")
        return LengthSpec(label=raw, window_multiple=multiple)
    match = _LENGTH.match(raw)
    if match is None:
        raise BenchInputError(
            f"cannot read length {text!r}: use tokens like 8k, 32k, 128000 or a multiple of "
            "the model's window like 4x"
        )
    tokens = round(float(match.group(1)) * _UNITS[match.group(2)])
    if tokens < MIN_LENGTH_TOKENS:
        raise BenchInputError(f"length {text!r} is too short: at least {MIN_LENGTH_TOKENS} tokens")
    return LengthSpec(label=length_label(tokens), tokens=tokens)


def parse_lengths(value: str | int | Iterable[str | int] | None) -> list[LengthSpec]:
    """Lengths in the order given, duplicates (``8k`` and ``8000``) once."""
    out: list[LengthSpec] = []
    for item in _items(value) or list(DEFAULT_LENGTHS):
        spec = parse_length(item)
        if spec.label not in {s.label for s in out}:
            out.append(spec)
    return out


def check_needles(needles: int) -> int:
    if not 1 <= needles <= MAX_NEEDLES:
        raise BenchInputError(f"--needles must be between 1 and {MAX_NEEDLES}, got {needles}")
    return needles


def length_label(tokens: int) -> str:
    """``8000`` -> ``8k``; other numbers as they are."""
    return f"{tokens // 1000}k" if tokens % 1000 == 0 else str(tokens)
