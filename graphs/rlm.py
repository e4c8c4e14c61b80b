"""Module-level compiled graph for LangGraph Studio / the LangGraph server (langgraph.json).

The server supplies the checkpointer. Runtime context (models, registry) is built from the
environment when the caller passes none: RLM_GRAPH_MODEL (default ``local``),
RLM_GRAPH_SUB_MODEL, OPENAI_BASE_URL. The input's ``context`` is a file or folder path.
"""

from rlm_graph.graph import build_rlm_graph

graph = build_rlm_graph().compile()
