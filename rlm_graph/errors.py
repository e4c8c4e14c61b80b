"""Exceptions users can catch. Every message is one line a person can act on."""


class RLMError(Exception):
    """Base class for rlm_graph errors."""


class ContextError(RLMError):
    """The context cannot be used: missing, empty, binary or unreadable."""


class TargetError(RLMError):
    """A target string (chunk:N, lines:A-B, ...) is malformed or out of range."""


class ModelSetupError(RLMError):
    """A model spec cannot be turned into a chat model (missing extra, bad weights, ...)."""


class ThreadError(RLMError):
    """A thread cannot take this question: it is unfinished, or about another context."""
