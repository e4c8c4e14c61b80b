"""Progress events, written to LangGraph's ``custom`` stream.

Stream the graph with ``stream_mode="custom", subgraphs=True`` (the CLI does) to watch calls
start and finish anywhere in the tree.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime


def emit(runtime: Runtime[Any], event: str, **fields: Any) -> None:
    writer = getattr(runtime, "stream_writer", None)
    if writer is not None:
        writer({"event": event, **fields})
