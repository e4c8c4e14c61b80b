import os

# Checkpoints must round-trip under LangGraph's strict msgpack allowlist.
os.environ.setdefault("LANGGRAPH_STRICT_MSGPACK", "true")
