"""Parsing target strings (``chunk:3``, ``lines:10-20``, ``file:a.txt`` ...) written by models.

Models are sloppy, so parsing tolerates case, spaces, quotes, thousands separators and common
aliases; anything else gets an error that shows the valid forms.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

from rlm_graph.errors import TargetError

TargetKind = Literal["all", "none", "chunk", "chunks", "chars", "lines", "file", "section"]

TARGET_FORMS = "use all, chunk:N, chunks:N-M, chars:A-B, lines:A-B, file:PATH or none"

_ALIASES: dict[str, TargetKind] = {
    "all": "all",
    "whole": "all",
    "everything": "all",
    "none": "none",
    "nothing": "none",
    "chunk": "chunk",
    "chunks": "chunks",
    "char": "chars",
    "chars": "chars",
    "byte": "chars",
    "bytes": "chars",
    "line": "lines",
    "lines": "lines",
    "file": "file",
    "path": "file",
    "section": "section",
    "sections": "section",
    "part": "section",
}

_HEAD = re.compile(r"(?P<kw>[A-Za-z]+)\s*(?:[:=#]\s*|\s+|(?=\d)|$)(?P<arg>.*)", re.S)
_NUM = r"\d[\d,_]*"
_ONE = re.compile(rf"#?\s*(?P<a>{_NUM})")
_RANGE = re.compile(rf"#?\s*(?P<a>{_NUM})\s*(?:-|–|—|\.\.|:|to)\s*#?\s*(?P<b>{_NUM})", re.I)
_QUOTES = "`'\""


class Target(BaseModel):
    """A parsed target; ``a``/``b`` are the numbers as written (checked against a view later)."""

    kind: TargetKind
    a: int | None = None
    b: int | None = None
    path: str | None = None

    @property
    def label(self) -> str:
        """The canonical spelling, used as ContextRef.label."""
        if self.kind in ("all", "none"):
            return self.kind
        if self.kind == "chunk":
            return f"chunk:{self.a}"
        if self.kind == "file":
            return f"file:{self.path}"
        if self.kind == "section" and self.a == self.b:
            return f"section:{self.a}"
        return f"{self.kind}:{self.a}-{self.b}"


def _int(text: str) -> int:
    return int(text.replace(",", "").replace("_", ""))


def parse_target(raw: str) -> Target:
    """Parse a target string; raises TargetError that teaches the valid forms."""
    text = raw.strip().strip(_QUOTES).strip()
    unknown = TargetError(f"unknown target {raw.strip()!r}: {TARGET_FORMS}")
    head = _HEAD.fullmatch(text)
    if head is None:
        raise unknown
    kind = _ALIASES.get(head["kw"].lower())
    arg = head["arg"].strip().strip(_QUOTES).strip()
    if kind is None:
        raise unknown
    if kind in ("all", "none"):
        if arg:
            raise unknown
        return Target(kind=kind)
    if kind == "file":
        path = arg.replace("\\", "/").removeprefix("./")
        if not path:
            raise TargetError("file: needs a path, e.g. file:src/main.py")
        return Target(kind="file", path=path)
    if m := _RANGE.fullmatch(arg):
        a, b = _int(m["a"]), _int(m["b"])
        if kind == "chunk":  # chunk:3-5 means chunks:3-5
            kind = "chunks"
        return Target(kind=kind, a=a, b=b)
    if m := _ONE.fullmatch(arg):
        n = _int(m["a"])
        if kind == "chars":
            raise TargetError(
                f"chars needs a range: chars:A-B (A inclusive, B exclusive), e.g. chars:{n}-{n + 2000}"
            )
        if kind == "chunks":  # chunks:3 means chunk:3
            kind = "chunk"
        return Target(kind=kind, a=n, b=n)
    examples = {"chunk": "chunk:3", "chunks": "chunks:2-4", "chars": "chars:0-2000"}
    raise TargetError(
        f"cannot read {raw.strip()!r}: write it like {examples.get(kind, 'lines:10-40')}"
    )
