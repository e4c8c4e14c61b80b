"""Where rlm_graph keeps its files by default (standard library only: the CLI reads it at once)."""

from __future__ import annotations

import os
from pathlib import Path


def default_db_path() -> Path:
    """``$RLM_GRAPH_HOME/checkpoints.sqlite``; RLM_GRAPH_HOME defaults to
    ``$XDG_DATA_HOME/rlm_graph`` (``~/.local/share/rlm_graph``)."""
    home = os.environ.get("RLM_GRAPH_HOME")
    if home:
        return Path(home).expanduser() / "checkpoints.sqlite"
    data = os.environ.get("XDG_DATA_HOME") or "~/.local/share"
    return Path(data).expanduser() / "rlm_graph" / "checkpoints.sqlite"
