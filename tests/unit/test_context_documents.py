"""LangChain Documents as a context: parts named by their metadata, metadata in citations,
kept in the blob store for a follow-up turn and a resume."""

from __future__ import annotations

import json

import pytest
from langchain_core.documents import Document

from rlm_graph.context import open_context
from rlm_graph.errors import ContextError
from rlm_graph.evidence import locate
from rlm_graph.testing import ScriptedChatModel, leaf_text
from tests.unit.conftest import make_rlm

QUESTION = "What is the vault access code?"
QUOTE = "The vault access code is 7391-ALPHA."


def loaded() -> list[Document]:
    """What a PDF loader and a web loader hand over."""
    return [
        Document("Installation.\nUnpack the unit.", metadata={"source": "manual.pdf", "page": 0}),
        Document(
            f"Access.\nKeep this safe.\n{QUOTE}", metadata={"source": "manual.pdf", "page": 1}
        ),
        Document("Release notes: nothing new.", metadata={"source": "https://example.org/notes"}),
        Document("An untitled memo.", metadata={}),
    ]


def quoting_leaf(messages) -> str:
    if QUOTE in leaf_text(messages):
        return json.dumps({"found": True, "answer": "7391-ALPHA", "quotes": [QUOTE]})
    return json.dumps({"found": False, "answer": ""})


def test_each_document_is_a_part_named_by_its_metadata() -> None:
    view = open_context(loaded())
    assert view.kind == "dir" and view.store.uri is None
    assert [f.path for f in view.files()] == [
        "manual.pdf#page=0",
        "manual.pdf#page=1",
        "https://example.org/notes",
        "document-4",
    ]
    assert "4 LangChain documents" in view.describe()
    assert view.child("file:manual.pdf#page=1").text() == f"Access.\nKeep this safe.\n{QUOTE}"
    found = locate(view, QUOTE)
    assert (found.file, found.line) == ("manual.pdf#page=1", 3)
    assert found.metadata == {"source": "manual.pdf", "page": 1}


def test_same_source_twice_stays_two_parts_and_odd_metadata_is_kept_as_text() -> None:
    from datetime import date

    docs = [
        Document("one", metadata={"source": "a.txt", "when": date(2024, 1, 2)}),
        Document("two", metadata={"source": "a.txt"}),
    ]
    view = open_context(docs)
    assert [f.path for f in view.files()] == ["a.txt", "a.txt (2)"]
    assert view.store.parts()[0].metadata == {"source": "a.txt", "when": "2024-01-02"}


def test_documents_with_no_text_are_refused() -> None:
    with pytest.raises(ContextError, match="all 2 documents have no text"):
        open_context([Document(" "), Document("")])


async def test_invoke_with_documents_cites_their_metadata_and_a_follow_up_needs_none(
    checkpointer,
) -> None:
    rlm = make_rlm(ScriptedChatModel(respond=quoting_leaf), checkpointer=checkpointer)
    result = await rlm.ainvoke({"query": QUESTION, "context": loaded(), "thread_id": "docs"})
    assert result.answer == "7391-ALPHA" and result.grounded
    citation = result.citations[0]
    assert citation["file"] == "manual.pdf#page=1" and citation["line"] == 3
    assert citation["metadata"] == {"source": "manual.pdf", "page": 1}

    # A new RLM object (a new process) on the same database reads the documents from the
    # blob store: the follow-up turn passes no context.
    if checkpointer is not None:
        rlm = make_rlm(ScriptedChatModel(respond=quoting_leaf), checkpointer=checkpointer)
    again = await rlm.ainvoke({"query": QUESTION, "thread_id": "docs"})
    assert again.turn == 2 and again.answer == "7391-ALPHA"
    assert again.citations[0]["metadata"] == {"source": "manual.pdf", "page": 1}
