"""``RLM.as_tool``: an RLM over a fixed context inside LangGraph's prebuilt ReAct agent."""

from __future__ import annotations

import json

import pytest
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.prebuilt import create_react_agent

from rlm_graph.errors import ContextError
from rlm_graph.testing import ScriptedChatModel
from tests.unit.conftest import make_rlm
from tests.unit.test_context_documents import QUESTION, loaded, quoting_leaf


def agent_model() -> ScriptedChatModel:
    """A fake tool-calling chat model: asks the tool once, then answers from its JSON."""

    def respond(messages):
        tool_results = [m for m in messages if isinstance(m, ToolMessage)]
        if not tool_results:
            call = {"name": "ask_manual", "args": {"question": QUESTION}, "id": "call-1"}
            return AIMessage(content="", tool_calls=[call])
        reply = json.loads(tool_results[-1].content)
        where = reply["citations"][0]["metadata"]["source"] if reply["grounded"] else "nowhere"
        return AIMessage(content=f"{reply['answer']} (from {where})")

    return ScriptedChatModel(respond=respond, judge=None)


# The issue asks for LangGraph's prebuilt agent; it still works, with a notice it has moved.
@pytest.mark.filterwarnings("ignore:create_react_agent has been moved")
async def test_the_tool_answers_inside_a_react_agent_with_grounding_and_citations() -> None:
    rlm = make_rlm(ScriptedChatModel(respond=quoting_leaf))
    tool = rlm.as_tool(loaded(), name="ask_manual", description="Reads the unit's manual.")
    assert tool.name == "ask_manual" and tool.description == "Reads the unit's manual."
    model = agent_model()
    agent = create_react_agent(model, [tool])

    state = await agent.ainvoke({"messages": [("user", "What code opens the vault?")]})

    assert model.bound_tools == [["ask_manual"]]
    tool_message = next(m for m in state["messages"] if isinstance(m, ToolMessage))
    content = json.loads(tool_message.content)
    assert content["answer"] == "7391-ALPHA" and content["grounded"] is True
    citation = content["citations"][0]
    assert citation["file"] == "manual.pdf#page=1" and citation["line"] == 3
    assert citation["metadata"] == {"source": "manual.pdf", "page": 1}
    assert "7391-ALPHA" in citation["quote"]
    assert tool_message.artifact["grounded"] is True and tool_message.artifact["thread_id"]
    assert state["messages"][-1].content == "7391-ALPHA (from manual.pdf)"


async def test_an_answer_the_text_does_not_back_is_not_grounded() -> None:
    rlm = make_rlm(ScriptedChatModel(respond=lambda m: json.dumps({"found": False, "answer": ""})))
    tool = rlm.as_tool([Document("Nothing about codes here.", metadata={"source": "x"})])
    assert "LangChain documents" in tool.description
    content, artifact = await tool.coroutine(question=QUESTION)
    reply = json.loads(content)
    assert reply["grounded"] is False and reply["found"] is False and reply["citations"] == []
    assert artifact["status"] == "done"


def test_the_sync_tool_and_bad_input_at_creation(tmp_path) -> None:
    rlm = make_rlm(ScriptedChatModel(respond=quoting_leaf))
    tool = rlm.as_tool(loaded())
    message = tool.invoke(
        {"type": "tool_call", "name": tool.name, "args": {"question": QUESTION}, "id": "c1"}
    )
    assert json.loads(message.content)["answer"] == "7391-ALPHA"
    with pytest.raises(ContextError, match="not found"):
        rlm.as_tool(str(tmp_path / "missing.txt"))
