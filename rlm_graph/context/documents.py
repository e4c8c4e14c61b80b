"""A list of LangChain ``Document``s (from any loader) as a context: each document a part,
like a file in a folder, named by its ``source`` and ``page`` metadata; its metadata travels
with it into citations, so an app can link an answer back to where it came from.

The documents are rendered once and kept in the blob store like any text given directly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rlm_graph.context.parts import PartsStore, PartsWriter
from rlm_graph.errors import ContextError

if TYPE_CHECKING:
    from langchain_core.documents import Document


def is_documents(source: object) -> bool:
    """True for a non-empty list or tuple of LangChain Documents."""
    if not isinstance(source, list | tuple) or not source:
        return False
    from langchain_core.documents import Document

    return all(isinstance(item, Document) for item in source)


def part_name(metadata: dict[str, Any], index: int) -> str:
    """``source`` (a path or URL), ``#page=N`` when the loader gave a page, else ``document-N``."""
    source = str(metadata.get("source") or metadata.get("url") or f"document-{index}")
    page = metadata.get("page")
    return f"{source}#page={page}" if page is not None else source


def _plain(metadata: dict[str, Any]) -> dict[str, Any]:
    """Metadata as JSON data (loaders put dates and other objects there)."""
    return json.loads(json.dumps(metadata, default=str))


def documents_store(documents: Sequence[Document]) -> PartsStore:
    """The documents as one context, in the order given."""
    if not any(doc.page_content.strip() for doc in documents):
        raise ContextError(f"context is empty: all {len(documents):,} documents have no text")
    seen: dict[str, int] = {}
    with PartsWriter(f"{len(documents):,} documents") as writer:
        for index, doc in enumerate(documents, start=1):
            name = part_name(doc.metadata, index)
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:  # two documents from one source and page stay two parts
                name = f"{name} ({seen[name]})"
            # The loader's page (0-based for most PDF loaders) stays in the metadata, as given.
            writer.add_file(name, [doc.page_content.encode("utf-8")], _plain(doc.metadata))
        source = f"{len(documents):,} LangChain documents"
        return writer.finish("dir", "documents", source, "utf-8")
