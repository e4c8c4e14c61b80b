"""One redaction function knows every secret a run was given, and nothing a run writes holds one."""

from __future__ import annotations

import json

import pytest

from benchmarks.fake_openai_server import ECHO_KEY_MODEL, FakeOpenAIServer
from rlm_graph import RLM
from rlm_graph.persistence import describe_target
from rlm_graph.samples import make_haystack
from rlm_graph.secrets import redact, register_secret

# Not key-shaped on purpose: only knowing it was given can mask it.
CODE_KEY = "codepassed-Zq81-kX7p-93mm"


@pytest.fixture(scope="module")
def server():
    with FakeOpenAIServer() as running:
        yield running


def test_redact_masks_known_and_key_shaped_secrets(monkeypatch):
    monkeypatch.setenv("SOME_SERVICE_API_KEY", "env-secret-value-123")
    register_secret("registered-in-code-456")
    text = (
        "env-secret-value-123 registered-in-code-456 sk-abcdefghijkl1234 "
        "postgresql://rlm:hunter2hunter2@db.example:5432/runs "
        "Authorization: Bearer abc.def.ghi-123456 https://x.test/v1?api_key=qwerty12345&x=1"
    )
    masked = redact(text)
    for secret in (
        "env-secret-value-123",
        "registered-in-code-456",
        "sk-abcdefghijkl1234",
        "hunter2hunter2",
        "abc.def.ghi-123456",
        "qwerty12345",
    ):
        assert secret not in masked
    assert "postgresql://rlm:***@db.example:5432/runs" in masked
    assert redact(None) is None and redact("") == ""
    register_secret("short")  # too short to mask safely: ordinary words would go
    assert redact("a short note") == "a short note"


def test_database_url_password_is_never_printed():
    shown = describe_target("postgresql://rlm:hunter2hunter2@localhost:5432/runs")
    assert "hunter2hunter2" not in shown and "rlm:***@localhost" in shown


async def test_code_passed_key_in_an_error_never_reaches_a_checkpoint(server, tmp_path):
    db = tmp_path / "runs.sqlite"
    rlm = RLM(
        model=ECHO_KEY_MODEL,
        base_url=server.base_url,
        api_key=CODE_KEY,
        checkpointer=str(db),
        sub_window_tokens=1000,
        timeout=10,
    )
    result = await rlm.ainvoke(
        {"query": "What is the vault access code?", "context": make_haystack(20_000)}
    )
    assert result.status == "error"
    assert "401" in result.error and "Incorrect API key provided: ***" in result.error
    assert CODE_KEY not in json.dumps(result.to_json())
    stored = db.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert b"Incorrect API key provided" in stored  # the error did reach the checkpoints
    assert CODE_KEY.encode() not in stored
