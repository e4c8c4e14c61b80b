"""An RLM over a fixed context as a LangChain tool, for agents (``RLM.as_tool``).

The agent asks a standalone question; the tool answers it with a run of its own (a new thread
per question) and returns JSON the agent's model can read: the answer, whether passages of
the text back it (``grounded``) and the citations. The same data is the ToolMessage's
``artifact`` for code that wants it without parsing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from langchain_core.tools import StructuredTool

    from rlm_graph.api import RLM
    from rlm_graph.context import ContextView
    from rlm_graph.result import RLMResult

# What a citation tells an agent; byte offsets and call ids are for the tree, not for it.
_CITATION_KEYS = ("quote", "file", "page", "line", "line_end", "metadata")


class RLMToolInput(BaseModel):
    question: str = Field(
        min_length=1, description="one standalone question, answered from the context alone"
    )


class RLMToolAnswer(BaseModel):
    """What the tool returns, as JSON content and as the ToolMessage's artifact."""

    answer: str | None
    grounded: bool = Field(description="true only when verified passages back the answer")
    found: bool
    status: str
    citations: list[dict[str, Any]] = Field(default_factory=list)
    thread_id: str

    @classmethod
    def from_result(cls, result: RLMResult) -> RLMToolAnswer:
        citations = [
            {key: c[key] for key in _CITATION_KEYS if c.get(key) is not None}
            for c in result.citations
        ]
        return cls(
            answer=result.answer,
            grounded=result.grounded,
            found=result.found,
            status=result.status,
            citations=citations,
            thread_id=result.thread_id,
        )


def rlm_tool(rlm: RLM, view: ContextView, name: str, description: str | None) -> StructuredTool:
    from langchain_core.tools import StructuredTool

    async def ask(question: str) -> tuple[str, dict[str, Any]]:
        result = await rlm.ainvoke({"query": question, "context": view})
        answer = RLMToolAnswer.from_result(result)
        return answer.model_dump_json(exclude={"thread_id"}), answer.model_dump()

    def ask_sync(question: str) -> tuple[str, dict[str, Any]]:
        from rlm_graph.sync import run_sync

        return run_sync(lambda: ask(question))

    return StructuredTool.from_function(
        func=ask_sync,
        coroutine=ask,
        name=name,
        description=description
        or (
            f"Answers a question from {view.store.what()} by reading it closely. Input: one "
            "standalone question. Output: JSON with the answer, grounded (true when passages "
            "of the text back it) and the citations (file, page, line, quote)."
        ),
        args_schema=RLMToolInput,
        response_format="content_and_artifact",
    )
