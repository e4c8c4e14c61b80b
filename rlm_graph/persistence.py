"""Checkpointers from a user's choice: a SQLite path (the default), memory, or a saver."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from rlm_graph.errors import RLMError


def default_db_path() -> Path:
    """``$RLM_GRAPH_HOME/checkpoints.sqlite``; RLM_GRAPH_HOME defaults to
    ``$XDG_DATA_HOME/rlm_graph`` (``~/.local/share/rlm_graph``)."""
    home = os.environ.get("RLM_GRAPH_HOME")
    if home:
        return Path(home).expanduser() / "checkpoints.sqlite"
    data = os.environ.get("XDG_DATA_HOME") or "~/.local/share"
    return Path(data).expanduser() / "rlm_graph" / "checkpoints.sqlite"


CheckpointTarget = BaseCheckpointSaver | str | os.PathLike | None


@asynccontextmanager
async def open_checkpointer(target: CheckpointTarget) -> AsyncIterator[BaseCheckpointSaver]:
    """Yield a ready async checkpointer.

    - a ``BaseCheckpointSaver``: used as is (the caller owns it);
    - ``None`` or ``":memory:"``: an in-process ``InMemorySaver``;
    - ``"default"``: the SQLite file at :func:`default_db_path`;
    - any other string or path: a SQLite file there (parent folders are created).
    """
    if isinstance(target, BaseCheckpointSaver):
        yield target
        return
    if target is None or str(target) == ":memory:":
        yield InMemorySaver()
        return
    text = str(target)
    if text.startswith(("postgres://", "postgresql://")):
        raise RLMError("PostgreSQL checkpoints are not supported yet; use a SQLite path")
    path = default_db_path() if text == "default" else Path(text).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RLMError(f"cannot create the checkpoint folder {path.parent}: {exc}") from exc
    if path.is_dir():
        raise RLMError(f"checkpoint path is a folder, expected a file: {path}")
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        yield saver
