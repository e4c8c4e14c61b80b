"""The execution tree of any stored run (finished, running, crashed), from its checkpoints.

Records come from the thread's state and, for calls still in flight, from pending writes and
the checkpoint namespaces of planning children (``rlm_graph.runs``). Where the context can be
reopened, each call's span gets its file and lines, and each call its prompt: a leaf's is
rebuilt from the leaf prompt and its slice; a planning call's is its conversation, read from its
own checkpoints (a child's live in its namespace, ``recurse:<task id>``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rlm_graph.persistence import CheckpointTarget

if TYPE_CHECKING:
    import networkx as nx

# A prompt is kept whole in networkx up to this size; beyond, its head and a note.
PROMPT_CHARS = 6_000


async def checkpoint_namespaces(saver: Any, thread_id: str) -> list[str]:
    """Every checkpoint namespace of a thread: ``""`` for the root, ``recurse:<id>`` (and
    ``recurse:<id>|recurse:<id>`` ...) for planning children."""
    seen: set[str] = set()
    async for item in saver.alist({"configurable": {"thread_id": thread_id}}):
        seen.add(item.config["configurable"].get("checkpoint_ns", ""))
    return sorted(seen, key=lambda ns: (ns.count("|"), ns))


async def namespace_states(graph: Any, saver: Any, thread_id: str) -> dict[str, dict[str, Any]]:
    """The latest state of every namespace of a thread (the graph reads a child's namespace
    with its own channels: the child graph is this graph)."""
    states = {}
    for ns in await checkpoint_namespaces(saver, thread_id):
        config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns}}
        snapshot = await graph.aget_state(config)
        if snapshot.values:
            states[ns] = snapshot.values
    return states


def _clip(text: str) -> str:
    if len(text) <= PROMPT_CHARS:
        return text
    return text[:PROMPT_CHARS] + f"\n[... {len(text) - PROMPT_CHARS:,} more characters]"


def _transcript_text(values: dict[str, Any], settings: dict[str, Any] | None) -> str:
    """A planner's conversation under the system prompt it ran with (the run's settings)."""
    from rlm_graph import prompts
    from rlm_graph.settings import RunSettings

    system = prompts.PLANNER_SYSTEM
    if (settings or {}).get("mode") == "repl":
        try:
            sub_tokens = f"{RunSettings.model_validate(settings).sub_reading_tokens:,}"
        except ValueError:  # settings stored by an older version: the limit is not known
            sub_tokens = "?"
        system = prompts.REPL_SYSTEM.format(sub_tokens=sub_tokens)
    turns = [f"[system]\n{system}"]
    for entry in values.get("transcript") or []:
        who = "model" if entry.get("author") == "model" else "rlm"
        turns.append(f"[{who}]\n{entry.get('text', '')}")
    return "\n\n".join(turns)


async def aload(
    thread_id: str,
    db: CheckpointTarget = "default",
    *,
    prices: dict[str, tuple[float, float]] | None = None,
    prompts: bool = True,
) -> nx.DiGraph:
    """The stored thread's tree: a ``thread`` node over the root of each turn."""
    from rlm_graph.context import ContextRegistry
    from rlm_graph.errors import ThreadError
    from rlm_graph.graph.builder import build_rlm_graph
    from rlm_graph.graph.leaf import leaf_messages
    from rlm_graph.persistence import open_backend
    from rlm_graph.runs import _records
    from rlm_graph.state import ContextRef
    from rlm_graph.tree.export import build_tree

    async with open_backend(db) as backend:
        graph = build_rlm_graph().compile(checkpointer=backend.saver)
        config = {"configurable": {"thread_id": thread_id}}
        snapshot = await graph.aget_state(config)
        if not snapshot.values:
            raise ThreadError(f"no thread {thread_id} in {backend.where}")
        records = await _records(graph, thread_id, snapshot)
        states = await namespace_states(graph, backend.saver, thread_id) if prompts else {}
        registry = ContextRegistry(backend.blobs)
        view = None
        try:
            ref = ContextRef.model_validate(
                snapshot.values.get("thread_context") or snapshot.values["context"]
            )
            view = registry.view(ref)
        except Exception:  # noqa: BLE001 - a context gone missing costs the lines, not the tree
            view = None
        try:
            tree = build_tree(records, thread_id=thread_id, prices=prices, locate=_locator(view))
            if prompts:
                settings = snapshot.values.get("settings")
                planner_prompts = {
                    values.get("call_id"): _transcript_text(values, settings)
                    for values in states.values()
                    if values.get("transcript")
                }
                for record in records:
                    text = planner_prompts.get(record.id)
                    if text is None and record.kind == "leaf" and view is not None:
                        text = _leaf_prompt(view, record, leaf_messages)
                    if text:
                        tree.nodes[record.id]["prompt"] = _clip(text)
        finally:
            registry.close()
    return tree


def _leaf_prompt(view: Any, record: Any, leaf_messages: Any) -> str:
    from rlm_graph.context import ContextView
    from rlm_graph.protocol.message import content_text
    from rlm_graph.state import ContextRef

    ref = ContextRef(
        store_id=view.ref.store_id,
        kind=view.ref.kind,
        uri=view.ref.uri,
        start=record.context_start,
        end=record.context_end,
    )
    messages = leaf_messages(ContextView(view.store, ref), record.task)
    return "\n\n".join(f"[{m.type}]\n{content_text(m.content)}" for m in messages)


def _locator(view: Any):
    if view is None:
        return None
    from rlm_graph.evidence import lines_of

    def locate(start: int, end: int) -> tuple[str | None, int, int] | None:
        found = lines_of(view, start, end)
        return found["file"], found["line"], found["line_end"]

    return locate


def load(thread_id: str, db: CheckpointTarget = "default", **kwargs: Any) -> nx.DiGraph:
    """Sync :func:`aload`: ``rlm_graph.tree.load(thread_id, db)``."""
    from rlm_graph.sync import run_sync

    return run_sync(lambda: aload(thread_id, db, **kwargs))
