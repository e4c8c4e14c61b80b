"""A leaf: one direct model call over a slice small enough to read whole.

The one leaf path: a CALL's child at the depth limit or with a slice that fits (``recurse``)
and the root's direct route (``plan``) both answer through ``answer_leaf``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from rlm_graph import prompts
from rlm_graph.configuration import RLMRuntime
from rlm_graph.context import ContextView
from rlm_graph.graph.events import ModelCallEvents
from rlm_graph.graph.model_call import call_model
from rlm_graph.models import ResolvedModel
from rlm_graph.state import Usage


@dataclass
class LeafOutcome:
    answer: str | None
    usage: Usage
    error: str | None = None

    @property
    def status(self) -> str:
        return "error" if self.error else "done"


def leaf_messages(view: ContextView, task: str) -> list[BaseMessage]:
    if view.size == 0:
        user = prompts.NO_CONTEXT_USER.format(task=task)
    else:
        user = prompts.LEAF_USER.format(text=view.text(), task=task)
    messages: list[BaseMessage] = [SystemMessage(prompts.LEAF_SYSTEM)]
    for question, answer in prompts.LEAF_EXAMPLES:
        messages += [HumanMessage(question), AIMessage(answer)]
    return [*messages, HumanMessage(user)]


async def answer_leaf(
    rt: RLMRuntime,
    model: ResolvedModel,
    view: ContextView,
    task: str,
    *,
    runtime: Any = None,
    call_id: str = "",
    kind: str = "leaf",
) -> LeafOutcome:
    """One model call that answers ``task`` from the slice ``view``; failures come back as an
    ``error``, never raised. A ``model_call`` event reports its usage."""
    events = ModelCallEvents(runtime, call_id, kind)
    reply = await call_model(rt, model, leaf_messages(view, task), events=events)
    if reply.error:
        return LeafOutcome(None, reply.usage, reply.error)
    return LeafOutcome(reply.text.strip(), reply.usage)
