"""Keep API keys out of logs, errors, checkpoints and the tree export."""

from __future__ import annotations

import os
import re

_SECRET_ENV = re.compile(r"(API_KEY|TOKEN|SECRET|PASSWORD)$", re.IGNORECASE)
# Key shapes worth masking even when they did not come from the environment.
_KEY_SHAPES = re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|sk-ant-[A-Za-z0-9_\-]{8,})")


def _secret_values() -> list[str]:
    return [
        value
        for name, value in os.environ.items()
        if _SECRET_ENV.search(name) and value and len(value) >= 6
    ]


def redact(text: str, extra: list[str] | None = None) -> str:
    """Replace every known secret value (env keys and ``extra``) and key-shaped token."""
    for value in [*_secret_values(), *(extra or [])]:
        if value and len(value) >= 6:
            text = text.replace(value, "***")
    return _KEY_SHAPES.sub("***", text)
