"""The execution tree: derived from call records alone, as a ``networkx.DiGraph``.

One node per call, an edge from each parent to its child carrying the child's place among its
siblings (``order``: the CALL order), so the graph is an arborescence: rooted at the turn's root
call, or, for a thread of several turns, at a ``thread`` node whose children are the roots of the
turns. networkx is imported on first use: a CLI run that only prints an answer never pays for it.

Node attributes are flat and typed (str, int, float, bool) so GraphML and GEXF keep them:
``id``, ``parent``, ``turn``, ``depth``, ``kind``, ``task``, ``target``, ``span_start`` /
``span_end`` (byte offsets in the context), ``file`` / ``line_start`` / ``line_end`` (when the
context is at hand), ``model``, ``status``, ``outcome``, ``verified``, ``answer`` (whole) and
``answer_preview``, ``input_tokens`` / ``output_tokens`` / ``model_calls``, ``cost`` (where a
price is known), ``started_at`` / ``ended_at`` / ``latency``, ``iterations``, ``error``, and
``evidence`` (the backing passages, a list; stored as JSON text in the file formats).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rlm_graph.state import CallRecord

if TYPE_CHECKING:
    import networkx as nx

PREVIEW_CHARS = 120
THREAD_NODE = "thread"
# Dollars per million tokens (input, output) for models whose price we can know; pass your own
# to ``build_tree(prices=...)``. The embedded models cost nothing.
KNOWN_PRICES: dict[str, tuple[float, float]] = {"local:0.5b": (0.0, 0.0), "local:1.5b": (0.0, 0.0)}
# (file, first line, last line) of a byte span of the context, when it can be read.
LineLocator = Callable[[int, int], tuple[str | None, int, int] | None]


def _records(records: Iterable[CallRecord | dict[str, Any]]) -> list[CallRecord]:
    return [r if isinstance(r, CallRecord) else CallRecord.model_validate(r) for r in records]


def call_order(record_id: str) -> tuple[int, ...]:
    """``t2.10.3`` sorts as (2, 10, 3): by turn, then by position in the tree."""
    parts = record_id.lstrip("t").split(".")
    try:
        return tuple(map(int, parts))
    except ValueError:  # an id of another shape: its numeric parts
        return tuple(int(part) for part in parts if part.isdigit())


def node_attributes(
    record: CallRecord,
    prices: dict[str, tuple[float, float]] | None = None,
    locate: LineLocator | None = None,
) -> dict[str, Any]:
    """The flat, typed attributes of one call's node (None values left out)."""
    usage, answer = record.usage, record.answer
    attrs: dict[str, Any] = {
        "id": record.id,
        "turn": record.turn,
        "depth": record.depth,
        "kind": record.kind,
        "task": record.task,
        "target": record.target,
        "span_start": record.context_start,
        "span_end": record.context_end,
        "model": record.model,
        "status": record.status,
        "answer_preview": " ".join(answer.split())[:PREVIEW_CHARS] if answer else "",
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "model_calls": usage.model_calls,
        "model_seconds": usage.model_seconds,
        "iterations": record.iterations,
        "started_at": record.started_at,
    }
    optional = (
        ("parent", record.parent_id),
        ("outcome", record.outcome),
        ("verified", record.verified),
        ("answer", answer),
        ("unverified_answer", record.unverified_answer),
        ("conflicts", record.conflicts or None),
        ("ended_at", record.ended_at),
        ("latency", record.seconds),
        ("error", record.error),
        ("evidence", record.evidence),
    )
    attrs.update((key, value) for key, value in optional if value is not None)
    price = (prices or KNOWN_PRICES).get(record.model)
    if price is not None:
        attrs["cost"] = (usage.input_tokens * price[0] + usage.output_tokens * price[1]) / 1e6
    if locate is not None and record.context_end > record.context_start:
        found = locate(record.context_start, record.context_end)
        if found is not None:
            located = zip(("file", "line_start", "line_end"), found, strict=True)
            attrs.update((key, value) for key, value in located if value is not None)
    return attrs


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a large tree is built: its node dicts hold no cycles,
    and the collections their allocation triggers took half the time of a 100,000-call build."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_tree(
    records: Iterable[CallRecord | dict[str, Any]],
    *,
    thread_id: str | None = None,
    prices: dict[str, tuple[float, float]] | None = None,
    locate: LineLocator | None = None,
) -> nx.DiGraph:
    """The arborescence of ``records``: rooted at the turn's root call, or at a ``thread`` node
    above every turn's root when the records span several turns (or ``thread_id`` is given)."""
    import networkx as nx

    tree = nx.DiGraph()
    with _collector_paused():
        # The order key is computed once per record; nodes and edges go in with the bulk adders.
        ordered = sorted(((call_order(r.id), r) for r in _records(records)), key=lambda p: p[0])
        turns = {record.turn for _, record in ordered}
        threaded = thread_id is not None or len(turns) > 1
        if threaded:
            tree.add_node(
                THREAD_NODE, id=THREAD_NODE, kind="thread", task=thread_id or "", depth=-1
            )
        tree.add_nodes_from((r.id, node_attributes(r, prices, locate)) for _, r in ordered)
        edges: list[tuple[str, str, dict[str, int]]] = []
        for order, record in ordered:
            if record.parent_id is not None:
                if record.parent_id not in tree:
                    raise ValueError(f"call {record.id} names an unknown parent {record.parent_id}")
                edges.append((record.parent_id, record.id, {"order": order[-1]}))
            elif threaded:
                edges.append((THREAD_NODE, record.id, {"order": record.turn}))
        tree.add_edges_from(edges)
    return tree


def tree_summary(tree: nx.DiGraph | Iterable[CallRecord | dict[str, Any]]) -> dict[str, Any]:
    """Nodes, deepest level, leaves and calls per status, of a tree or of its records."""
    nodes = getattr(tree, "nodes", None)
    if nodes is not None:
        calls = [data for _, data in nodes(data=True) if data.get("kind") != "thread"]
    else:
        calls = [record.model_dump() for record in _records(tree)]
    statuses: dict[str, int] = {}
    for data in calls:
        statuses[data["status"]] = statuses.get(data["status"], 0) + 1
    return {
        "nodes": len(calls),
        "max_depth": max((data.get("depth", 0) for data in calls), default=0),
        "leaves": sum(1 for data in calls if data.get("kind") == "leaf"),
        "statuses": statuses,
    }


def tree_to_json(tree: nx.DiGraph) -> dict[str, Any]:
    """node-link JSON, ready for ``json.dumps`` and ``nx.node_link_graph``."""
    import networkx as nx

    return nx.node_link_data(tree, edges="edges")
