"""Model spec strings (``local``, ``openai:gpt-4o-mini``, ...) turned into chat models.

Everything above this module sees one ``ResolvedModel``: the LangChain chat model, a display name
that is safe to print or store in checkpoints (never a key), and how many tokens one request may
hold, which the graph uses to decide how large a slice of the context a call may read.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from langchain_core.language_models import BaseChatModel

from rlm_graph.errors import ModelSetupError
from rlm_graph.models.http import loop_safe_async_client
from rlm_graph.models.local import DEFAULT_LOCAL_VARIANT, get_local_server, local_chat_model
from rlm_graph.models.weights import WEIGHTS
from rlm_graph.secrets import redact, register_object_secrets, register_secret

__all__ = [
    "DEFAULT_REMOTE_CONCURRENCY",
    "DEFAULT_WINDOWS",
    "SPEC_FORMS",
    "ResolvedModel",
    "resolve_model",
]

DEFAULT_WINDOWS: dict[str, int] = {
    "openai": 128_000,
    "openai-compatible": 32_768,
    "anthropic": 200_000,
    "ollama": 32_768,
    "other": 32_768,  # any other provider and any chat model passed in directly
}
# The 0.5B model answers poorly long before its slot is full; keep its default requests small.
_LOCAL_WINDOW_CAPS: dict[str, int] = {"0.5b": 16_384}
# Model calls in flight by default: remote APIs and servers take many at once (the reference
# implementation uses 16); the embedded model takes as many as its server has slots.
DEFAULT_REMOTE_CONCURRENCY = 16
# Local OpenAI-compatible servers (vLLM, llama.cpp, LM Studio) ignore the key; the client needs one.
_PLACEHOLDER_KEY = "not-needed"

SPEC_FORMS = (
    "'local' / 'local:0.5b' / 'local:1.5b' (embedded model), 'openai:NAME', "
    "'NAME' or 'openai-compatible:NAME' with base_url (or OPENAI_BASE_URL), "
    "'anthropic:NAME', 'ollama:NAME', 'PROVIDER:NAME', or a LangChain chat model object"
)
# The pip extra that brings each provider's LangChain package.
_EXTRAS = {"openai": "openai", "anthropic": "anthropic", "ollama": "ollama"}
_DIRECT_CLASSES = {
    "anthropic": ("langchain_anthropic", "ChatAnthropic"),
    "ollama": ("langchain_ollama", "ChatOllama"),
}


@dataclass(frozen=True)
class ResolvedModel:
    """A chat model ready for the graph, with a printable name and its per-request window."""

    # Excluded from repr: provider objects can carry base URLs with credentials in them.
    chat: BaseChatModel = dataclasses.field(repr=False, compare=False)
    name: str
    window_tokens: int
    # How many calls to this model may be in flight at once unless the user says otherwise.
    concurrency: int = DEFAULT_REMOTE_CONCURRENCY
    # How to build it again (a stored run resumes with them): the spec string (None for a chat
    # model object passed in code), the server it was pointed at, the request timeout.
    spec: str | None = None
    base_url: str | None = dataclasses.field(default=None, repr=False)  # may hold a password
    timeout: float | None = None
    # Whether the server decodes under a JSON schema (response_format json_schema): leaves then
    # answer in the evidence format for sure; other models are asked for it in words.
    json_schema: bool = False


def resolve_model(
    spec: str | BaseChatModel | ResolvedModel,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    temperature: float = 0.0,
    timeout: float | None = None,
    window_tokens: int | None = None,
) -> ResolvedModel:
    """Turn a spec string or a chat model into a ``ResolvedModel``.

    ``window_tokens`` overrides the per-request window; the other keywords configure models
    built from a spec string and are ignored for objects passed in.
    """
    register_secret(api_key)  # from here on, no error text can carry it
    if window_tokens is not None and window_tokens < 1:
        raise ModelSetupError(f"window_tokens must be a positive number, got {window_tokens}")
    if isinstance(spec, ResolvedModel):
        if window_tokens is None:
            return spec
        return dataclasses.replace(spec, window_tokens=window_tokens)
    if isinstance(spec, BaseChatModel):
        register_object_secrets(spec)
        return ResolvedModel(
            chat=spec,
            name=_object_name(spec),
            window_tokens=window_tokens or DEFAULT_WINDOWS["other"],
        )
    if not isinstance(spec, str):
        raise ModelSetupError(
            f"unsupported model spec of type {type(spec).__name__}; use {SPEC_FORMS}"
        )

    resolved = _resolve_spec(spec.strip(), base_url, api_key, temperature, timeout, window_tokens)
    url = None if resolved.name.startswith("local:") else (base_url or _env_base_url())
    return dataclasses.replace(resolved, spec=spec.strip(), base_url=url, timeout=timeout)


def _env_base_url() -> str | None:
    return os.environ.get("OPENAI_BASE_URL") or None


def _resolve_spec(
    text: str,
    base_url: str | None,
    api_key: str | None,
    temperature: float,
    timeout: float | None,
    window_tokens: int | None,
) -> ResolvedModel:
    head, sep, name = text.partition(":")
    provider = head.strip().lower()
    name = name.strip()
    try:
        if not sep:
            if not text:
                raise ModelSetupError(f"empty model spec; use {SPEC_FORMS}")
            if provider == "local":
                return _resolve_local(DEFAULT_LOCAL_VARIANT, temperature, timeout, window_tokens)
            # A bare name: only meaningful against an OpenAI-compatible server.
            return _resolve_openai(
                text, base_url, api_key, temperature, timeout, window_tokens, compatible=True
            )
        if not provider or not name:
            raise ModelSetupError(f"malformed model spec {text!r}; use {SPEC_FORMS}")
        if provider == "local":
            return _resolve_local(name.lower(), temperature, timeout, window_tokens)
        if provider in ("openai", "openai-compatible"):
            return _resolve_openai(
                name,
                base_url,
                api_key,
                temperature,
                timeout,
                window_tokens,
                compatible=provider == "openai-compatible",
            )
        return _resolve_provider(
            provider, name, base_url, api_key, temperature, timeout, window_tokens
        )
    except ModelSetupError as exc:
        # Belt and braces: whatever a provider put in its error, a key never leaves here.
        message = redact(str(exc))
        if message == str(exc):
            raise
        raise ModelSetupError(message) from None


def _resolve_local(
    variant: str,
    temperature: float,
    timeout: float | None,
    window_tokens: int | None,
) -> ResolvedModel:
    if variant not in WEIGHTS:
        known = ", ".join(f"'local:{v}'" for v in sorted(WEIGHTS))
        raise ModelSetupError(f"unknown local model 'local:{variant}'; use 'local' or {known}")
    server = get_local_server(variant)
    kwargs: dict[str, Any] = {"temperature": temperature}
    if timeout is not None:
        kwargs["timeout"] = timeout
    chat = local_chat_model(variant, **kwargs)
    window = server.window_tokens
    if variant in _LOCAL_WINDOW_CAPS:
        window = min(window, _LOCAL_WINDOW_CAPS[variant])
    return ResolvedModel(
        chat=chat,
        name=f"local:{variant}",
        window_tokens=window_tokens or window,
        concurrency=server.n_parallel,
        json_schema=True,  # llama.cpp's server constrains output to a JSON schema
    )


def _resolve_openai(
    name: str,
    base_url: str | None,
    api_key: str | None,
    temperature: float,
    timeout: float | None,
    window_tokens: int | None,
    *,
    compatible: bool,
) -> ResolvedModel:
    url = base_url or os.environ.get("OPENAI_BASE_URL") or None
    if compatible and not url:
        raise ModelSetupError(
            f"model spec {name!r} has no provider and no base URL (pass base_url= or set "
            f"OPENAI_BASE_URL); use {SPEC_FORMS}"
        )
    key = api_key or os.environ.get("OPENAI_API_KEY") or None
    if key is None:
        if url is None:
            raise ModelSetupError(
                f"openai:{name} needs an API key: set OPENAI_API_KEY or pass api_key=..."
            )
        key = _PLACEHOLDER_KEY
    chat_openai = _import_class("openai", "langchain_openai", "ChatOpenAI")
    kwargs: dict[str, Any] = {
        "model": name,
        "api_key": key,
        "temperature": temperature,
        "http_async_client": loop_safe_async_client(),
    }
    if url:
        kwargs["base_url"] = url
    if timeout is not None:
        kwargs["timeout"] = timeout
    chat = _construct(chat_openai, kwargs, f"openai:{name}")
    if compatible:
        display = f"openai-compatible:{name}@{_host_port(url)}"
        default_window = DEFAULT_WINDOWS["openai-compatible"]
    else:
        # Say where a custom endpoint points so two 'openai:X' models can be told apart.
        display = f"openai:{name}" + (f"@{_host_port(url)}" if url else "")
        default_window = DEFAULT_WINDOWS["openai"]
    return ResolvedModel(
        chat=chat, name=display, window_tokens=window_tokens or default_window, json_schema=True
    )


def _resolve_provider(
    provider: str,
    name: str,
    base_url: str | None,
    api_key: str | None,
    temperature: float,
    timeout: float | None,
    window_tokens: int | None,
) -> ResolvedModel:
    kwargs: dict[str, Any] = {"temperature": temperature}
    if api_key is not None:
        kwargs["api_key"] = api_key
    if base_url is not None:
        kwargs["base_url"] = base_url
    if timeout is not None:
        # ChatOllama has no timeout field; its HTTP client takes one.
        if provider == "ollama":
            kwargs["client_kwargs"] = {"timeout": timeout}
        else:
            kwargs["timeout"] = timeout
    display = f"{provider}:{name}"
    window = window_tokens or DEFAULT_WINDOWS.get(provider, DEFAULT_WINDOWS["other"])
    init_chat_model = _init_chat_model()
    if init_chat_model is not None:
        try:
            chat = init_chat_model(name, model_provider=provider, **kwargs)
        except ImportError as exc:
            raise ModelSetupError(
                f"{display} needs its LangChain package: {_extra_hint(provider)}"
            ) from exc
        except ValueError as exc:
            raise ModelSetupError(
                f"cannot build {display}: {redact(str(exc))}; use {SPEC_FORMS}"
            ) from None
        return ResolvedModel(chat=chat, name=display, window_tokens=window)
    if provider not in _DIRECT_CLASSES:
        raise ModelSetupError(
            f"provider {provider!r} needs LangChain's init_chat_model: pip install langchain "
            f"and the provider's langchain package; built in without it: openai, anthropic, ollama"
        )
    module, class_name = _DIRECT_CLASSES[provider]
    chat_class = _import_class(provider, module, class_name)
    chat = _construct(chat_class, {"model": name, **kwargs}, display)
    return ResolvedModel(chat=chat, name=display, window_tokens=window)


def _init_chat_model() -> Any:
    try:
        from langchain.chat_models import init_chat_model
    except ImportError:
        return None
    return init_chat_model


def _import_class(provider: str, module: str, class_name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), class_name)
    except ImportError as exc:
        raise ModelSetupError(
            f"{provider} models need {module.replace('_', '-')}: {_extra_hint(provider)}"
        ) from exc


def _construct(chat_class: Any, kwargs: dict[str, Any], display: str) -> Any:
    try:
        chat = chat_class(**kwargs)
    except Exception as exc:
        # `from None`: the original exception could quote the key back at us.
        raise ModelSetupError(
            f"cannot build {display}: {redact(f'{type(exc).__name__}: {exc}')}"
        ) from None
    register_object_secrets(chat)
    return chat


def _extra_hint(provider: str) -> str:
    extra = _EXTRAS.get(provider)
    if extra is None:
        return f"pip install langchain langchain-{provider}"
    return f"pip install 'rlm-graph[{extra}]'"


def _object_name(chat: BaseChatModel) -> str:
    for attribute in ("model_name", "model", "model_id"):
        value = getattr(chat, attribute, None)
        if isinstance(value, str) and value:
            return value
    return type(chat).__name__


def _host_port(url: str | None) -> str:
    """``host:port`` of a URL: no scheme, user info, path or query that could hold a secret."""
    if not url:
        return "default"
    try:
        parts = urlsplit(url if "//" in url else f"//{url}")
        host = parts.hostname or "unknown"
        port = parts.port
    except ValueError:
        return "unknown"
    return f"{host}:{port}" if port else host
