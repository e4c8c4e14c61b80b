"""Keep secrets out of everything a run writes: one redaction function for the whole library.

``redact`` knows every secret the process was given: API keys in the environment, keys passed
in code (``RLM(api_key=...)``, a chat model object carrying a key) once registered, key-shaped
tokens, bearer tokens, and passwords inside URLs (``postgresql://user:PASSWORD@host``). Every
error text goes through it before it reaches a call record, a checkpoint, progress output or
JSON.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any

MASK = "***"
# Shorter values would mask ordinary words; real keys and passwords are longer.
MIN_SECRET_CHARS = 8

_SECRET_ENV = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$", re.IGNORECASE)
# Key shapes worth masking even when they came from nowhere we know (a server echoing a key).
_KEY_SHAPES = re.compile(
    r"\b(?:sk-[A-Za-z0-9_\-]{8,}|xox[abpr]-[A-Za-z0-9\-]{8,}|gh[pousr]_[A-Za-z0-9]{20,}"
    r"|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{30,})"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/\-]{8,}=*")
# scheme://user:password@host -> scheme://user:***@host
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)([^@/\s]+)(@)")
_QUERY_SECRET = re.compile(r"(?i)([?&](?:api[_-]?key|key|token|access_token|password)=)[^&\s#]+")

_registered: set[str] = set()
_lock = threading.Lock()


def register_secret(value: Any) -> None:
    """Remember a secret given in code, so ``redact`` masks it from now on."""
    text = _plain(value)
    if text and len(text) >= MIN_SECRET_CHARS:
        with _lock:
            _registered.add(text)


def register_object_secrets(obj: Any) -> None:
    """Register the secret fields (pydantic ``SecretStr``) of an object such as a chat model."""
    fields = getattr(type(obj), "model_fields", None)
    if not fields:
        return
    for name in fields:
        value = getattr(obj, name, None)
        if type(value).__name__ == "SecretStr":
            register_secret(value)


def _plain(value: Any) -> str | None:
    if value is None:
        return None
    reveal = getattr(value, "get_secret_value", None)
    if callable(reveal):
        value = reveal()
    return value if isinstance(value, str) else None


def _known_secrets() -> list[str]:
    from_env = [
        value
        for name, value in os.environ.items()
        if _SECRET_ENV.search(name) and value and len(value) >= MIN_SECRET_CHARS
    ]
    with _lock:
        known = [*_registered, *from_env]
    # Longest first: a secret that contains another must be masked whole.
    return sorted(set(known), key=len, reverse=True)


def redact(text: str | None) -> str | None:
    """``text`` with every known secret, key-shaped token and URL password masked."""
    if not text:
        return text
    for secret in _known_secrets():
        if secret in text:
            text = text.replace(secret, MASK)
    text = _URL_PASSWORD.sub(rf"\1{MASK}\3", text)
    text = _QUERY_SECRET.sub(rf"\1{MASK}", text)
    text = _BEARER.sub(rf"\1{MASK}", text)
    return _KEY_SHAPES.sub(MASK, text)
