"""How a call ends: one function sets the outcome, one predicate reads it.

Any node may end its call (``plan`` on a model failure or a direct answer, ``call`` on FINAL,
``merge`` when the budget runs out) by returning ``finish(...)``; only ``merge`` routes, and it
writes the call's final record. Error texts are redacted here, the one door every error of a
call passes through on its way to records, checkpoints, progress and JSON.
"""

from __future__ import annotations

from typing import Any

from rlm_graph.questions import asks_for_many
from rlm_graph.secrets import redact

TERMINAL = frozenset({"done", "budget_exhausted", "error"})
# The answer of a call whose question the text does not answer (nothing located backs one).
NOT_FOUND = "not found"
MAX_PARTIAL_CHARS = 4000


def finish(status: str, answer: str | None, error: str | None = None) -> dict[str, Any]:
    """The state update that ends a call with ``status``."""
    if status not in TERMINAL:
        raise ValueError(f"not a final status: {status!r}")
    return {"status": status, "answer": answer, "error": redact(error)}


def is_finished(state: dict[str, Any]) -> bool:
    return state.get("status") in TERMINAL


def partial_answer(state: dict[str, Any], reason: str) -> str:
    """The best answer a call can give without another model call: its children's verified
    findings (the first, when the question asks for one thing; one a line, when it asks for
    every X); unverified ones are only counted."""
    findings = state.get("findings") or []
    verified = list(dict.fromkeys(f["answer"] for f in findings if f.get("verified")))
    unverified = sum(1 for f in findings if not f.get("verified"))
    if not verified:
        note = f" ({unverified} unverified answer(s) left out)" if unverified else ""
        return f"[partial: {reason}] {NOT_FOUND}{note}" if findings else ""
    if not asks_for_many(state.get("query", "")):
        verified = verified[:1]
    return f"[partial: {reason}] " + "\n".join(verified)[:MAX_PARTIAL_CHARS]
