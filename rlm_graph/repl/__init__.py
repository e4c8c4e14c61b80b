"""REPL mode's sandbox: the model's code cells run here, with ``context`` and sub-call functions.

The interface (``Sandbox``, ``SandboxSession``) is what the graph uses; ``MontySandbox`` is the
implementation on pydantic-monty. See docs/repl-sandbox.md for what it guarantees.
"""

from rlm_graph.repl.models import (
    ANSWER_FUNCTIONS,
    CONTEXT_VARIABLE,
    SUB_CALL_FUNCTIONS,
    CallError,
    CellOutcome,
    ContextValue,
    ErrorKind,
    PendingCall,
    SandboxLimits,
)
from rlm_graph.repl.monty import MontySandbox, MontySession
from rlm_graph.repl.sandbox import Sandbox, SandboxBusyError, SandboxSession, VariableError
from rlm_graph.repl.state import SandboxStateError, SessionState

__all__ = [
    "ANSWER_FUNCTIONS",
    "CONTEXT_VARIABLE",
    "SUB_CALL_FUNCTIONS",
    "CallError",
    "CellOutcome",
    "ContextValue",
    "ErrorKind",
    "MontySandbox",
    "MontySession",
    "PendingCall",
    "Sandbox",
    "SandboxBusyError",
    "SandboxLimits",
    "SandboxSession",
    "SandboxStateError",
    "SessionState",
    "VariableError",
]
