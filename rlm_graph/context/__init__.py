"""Contexts that stay outside the prompt: stores, views, targets, chunking, grep, registry."""

from rlm_graph.context.chunking import Chunking, ChunkLayout
from rlm_graph.context.directory import DirectoryStore
from rlm_graph.context.grep import GrepHit, GrepResult
from rlm_graph.context.lines import LineIndex
from rlm_graph.context.open import looks_like_path, open_context
from rlm_graph.context.registry import ContextRegistry
from rlm_graph.context.stores import ContextStore, FileEntry, FileStore, TextStore
from rlm_graph.context.targets import TARGET_FORMS, Target, parse_target
from rlm_graph.context.view import ContextView

__all__ = [
    "TARGET_FORMS",
    "ChunkLayout",
    "Chunking",
    "ContextRegistry",
    "ContextStore",
    "ContextView",
    "DirectoryStore",
    "FileEntry",
    "FileStore",
    "GrepHit",
    "GrepResult",
    "LineIndex",
    "Target",
    "TextStore",
    "looks_like_path",
    "open_context",
    "parse_target",
]
