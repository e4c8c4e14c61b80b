"""A leaf: one direct model call over a slice small enough to read whole.

The one leaf path: a CALL's child at the depth limit or with a slice that fits (``recurse``)
and the root's direct route (``plan``) both answer through ``answer_leaf``. The leaf replies in
the evidence format (``rlm_graph.evidence``): its answer and the passages that support it, which
are then looked up in the slice, or "not found".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from rlm_graph import prompts
from rlm_graph.configuration import RLMRuntime
from rlm_graph.context import ContextView
from rlm_graph.evidence import Evidence, LeafAnswer, check, task_kind, with_lead
from rlm_graph.graph.events import ModelCallEvents
from rlm_graph.graph.judge import judge
from rlm_graph.graph.model_call import call_model_json, json_schema_format
from rlm_graph.models import ResolvedModel
from rlm_graph.state import Usage


@dataclass
class LeafOutcome:
    answer: str | None
    usage: Usage
    error: str | None = None
    outcome: str | None = None  # "found" or "not_found" when the call succeeded
    verified: bool | None = None
    evidence: list[Evidence] = field(default_factory=list)
    # ``usage`` split by the model that spent it: a reader of the passage may be another model.
    by_model: dict[str, Usage] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return "error" if self.error else "done"

    def fields(self) -> dict[str, Any]:
        """What a call's state keeps of it (for its record and its parent)."""
        return {
            "outcome": self.outcome,
            "verified": self.verified,
            "evidence": [item.model_dump() for item in self.evidence],
        }


def leaf_messages(view: ContextView, task: str) -> list[BaseMessage]:
    if view.size == 0:
        user = prompts.NO_CONTEXT_USER.format(task=task)
    else:
        user = prompts.LEAF_USER.format(text=view.reader_text(), task=task)
    return [SystemMessage(prompts.LEAF_SYSTEM), HumanMessage(user)]


# Bounds only for decoding, where a reply cannot be longer than allowed: a small model that
# repeats its quotes stops after three instead of writing to its output limit (measured on the
# 0.5B model: 1,024 tokens, half a minute, and no reply at all).
MAX_DECODED_QUOTES = 3
MAX_DECODED_QUOTE_CHARS = 400
MAX_DECODED_ANSWER_CHARS = 2000


def _bounded_schema() -> dict[str, Any]:
    schema = LeafAnswer.model_json_schema()
    properties = schema["properties"]
    properties["answer"]["maxLength"] = MAX_DECODED_ANSWER_CHARS
    properties["quotes"]["maxItems"] = MAX_DECODED_QUOTES
    properties["quotes"]["items"]["maxLength"] = MAX_DECODED_QUOTE_CHARS
    return schema


RESPONSE_FORMAT = json_schema_format("leaf_answer", _bounded_schema())


async def answer_leaf(
    rt: RLMRuntime,
    model: ResolvedModel,
    view: ContextView,
    task: str,
    *,
    runtime: Any = None,
    call_id: str = "",
    kind: str = "leaf",
    question: str | None = None,
) -> LeafOutcome:
    """One model call that answers ``task`` from the slice ``view``, with its evidence checked;
    failures come back as an ``error``, never raised. A ``model_call`` event reports usage."""
    events = ModelCallEvents(runtime, call_id, kind)
    messages = leaf_messages(view, task)
    reply = await call_model_json(rt, model, messages, RESPONSE_FORMAT, events=events)
    if reply.error:
        return LeafOutcome(None, reply.usage, reply.error, by_model={model.name: reply.usage})
    question = task if question is None else question  # what the evidence must be about
    verdict = check(view, reply.text, question)
    usage = reply.usage
    by_model = {model.name: reply.usage}
    judged = rt.judge and task_kind(question) == "lookup"
    reader = model
    if verdict.reworded and judged:
        # Only a reader can say a passage in other words is about the question, and only one
        # that tells such passages apart (``RLMRuntime.rewording_judge``).
        reader = await asyncio.to_thread(rt.rewording_judge)
        verdict.verified = reader is not None
    if verdict.verified and judged:
        # Words in common are not enough: a reader given only the passage must answer the
        # question the same way (``rlm_graph.graph.judge``).
        candidates = [(item, with_lead(view, item)[1]) for item in verdict.evidence]
        agreed, spent, error = await judge(
            rt, reader, question, verdict.answer, candidates, runtime=runtime, call_id=call_id
        )
        usage = usage.add(spent)
        by_model[reader.name] = by_model.get(reader.name, Usage()).add(spent)
        if agreed is None:
            verdict.verified = False
            verdict.rejected = error or "a reader of its passage alone did not answer so"
        else:
            read_for = question if verdict.reworded else None
            verdict.evidence = [agreed.model_copy(update={"read_for": read_for})]
    return LeafOutcome(
        verdict.answer if verdict.outcome == "found" else None,
        usage,
        outcome=verdict.outcome,
        verified=verdict.verified if verdict.outcome == "found" else None,
        evidence=verdict.evidence,
        by_model=by_model,
    )
