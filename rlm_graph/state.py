"""Data that crosses node, Send and checkpoint boundaries.

The graph state holds only plain data (dicts, lists, str, int, float) so checkpoints stay
small, portable and safe under ``LANGGRAPH_STRICT_MSGPACK``. The pydantic models here describe
that data and validate it where it enters or leaves the graph.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

ContextKind = Literal["text", "file", "dir"]
CallStatus = Literal["running", "done", "budget_exhausted", "error"]


class ContextRef(BaseModel):
    """A pointer to a slice of a context that lives in a ContextStore, never the text itself.

    Offsets are byte offsets into the store's UTF-8 byte space (identical to character offsets
    for ASCII text). A child's ContextRef is a sub-span of its parent's.
    """

    store_id: str = Field(description="sha256 of the content (text, file) or of the manifest (dir)")
    kind: ContextKind
    uri: str | None = Field(default=None, description="file or folder path to reopen the store")
    start: int = 0
    end: int
    label: str = Field(default="all", description="the target that produced this slice")
    encoding: str | None = Field(
        default=None, description="how the source was decoded (utf-8, utf-16, cp1252, pdf ...)"
    )

    @property
    def size(self) -> int:
        return self.end - self.start


class Usage(BaseModel):
    """Token usage of one or more model calls."""

    input_tokens: int = 0
    output_tokens: int = 0
    model_calls: int = 0
    # Seconds the model took to answer, from the moment the concurrency limit let the call
    # through: a call's latency less this is time spent waiting (for a slot, for children).
    model_seconds: float = 0.0

    def add(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            model_calls=self.model_calls + other.model_calls,
            model_seconds=round(self.model_seconds + other.model_seconds, 6),
        )

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


# "query": a REPL cell's llm_query, one plain model call over the prompt the code wrote.
CallKind = Literal["root", "node", "leaf", "query"]


class CallRecord(BaseModel):
    """One RLM call: a node of the execution tree. The tree is derived from these alone."""

    id: str
    parent_id: str | None = None
    turn: int = Field(default=1, description="the thread's question this call belongs to")
    depth: int = 0
    kind: CallKind = "root"
    task: str
    target: str = "all"
    context_start: int = 0
    context_end: int = 0
    model: str = ""
    status: CallStatus = "running"
    answer: str | None = None
    # A leaf's outcome ("not_found" is an answer too); for every call, whether its answer is
    # backed by a passage found in the text, and those passages with where they stand.
    outcome: Literal["found", "not_found"] | None = None
    verified: bool | None = None
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    # A lookup's answer that nothing located backs: the call answers "not found" and keeps
    # what it would have said here, for a person to look at.
    unverified_answer: str | None = None
    # Verified answers of its children that differ from the answer, when the question asks
    # for one: the text says more than one thing (answer, call_id, where, quote each).
    conflicts: list[dict[str, Any]] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    iterations: int = 0
    started_at: float = 0.0
    ended_at: float | None = None
    error: str | None = None

    @property
    def seconds(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at
