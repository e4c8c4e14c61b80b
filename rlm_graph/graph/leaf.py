"""A leaf: one direct model call over a slice small enough to read whole."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from rlm_graph import prompts
from rlm_graph.configuration import RLMRuntime
from rlm_graph.context import ContextView
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


async def answer_leaf(
    runtime: RLMRuntime, model: ResolvedModel, view: ContextView, task: str
) -> LeafOutcome:
    if view.size == 0:
        user = prompts.NO_CONTEXT_USER.format(task=task)
    else:
        user = prompts.LEAF_USER.format(text=view.text(), task=task)
    messages: list[BaseMessage] = [SystemMessage(prompts.LEAF_SYSTEM)]
    for question, answer in prompts.LEAF_EXAMPLES:
        messages += [HumanMessage(question), AIMessage(answer)]
    reply = await call_model(runtime, model, [*messages, HumanMessage(user)])
    if reply.error:
        return LeafOutcome(None, reply.usage, reply.error)
    return LeafOutcome(reply.text.strip(), reply.usage)
