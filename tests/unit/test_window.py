"""A planner conversation fitted to the model's window, and fitted again when the server's
tokenizer counts more tokens than the estimate."""

from __future__ import annotations

import pytest
from langchain_core.messages import BaseMessage

from rlm_graph.graph.model_call import ModelReply
from rlm_graph.graph.window import estimated_tokens, fit_transcript, overshoot, within_window
from rlm_graph.models import resolve_model
from rlm_graph.state import Usage
from tests.unit.conftest import make_rlm, planner

LLAMA_CPP = (
    "OpenAIInvalidRequestError: Error code: 400 - request (8406 tokens) exceeds the "
    "available context size (8192 tokens), try increasing it"
)
OPENAI = (
    "BadRequestError: Error code: 400 - This model's maximum context length is 8192 tokens. "
    "However, your messages resulted in 8,406 tokens. Please reduce the length."
)
VLLM = (
    "BadRequestError: Error code: 400 - This model's maximum context length is 8192 tokens. "
    "However, you requested 8406 tokens (7382 in the messages, 1024 in the completion)."
)


@pytest.mark.parametrize("error", [LLAMA_CPP, OPENAI, VLLM])
def test_a_refusal_for_length_says_how_much_too_long_the_request_was(error):
    assert overshoot(error) == pytest.approx(8406 / 8192 / 0.9)


@pytest.mark.parametrize(
    "error",
    [
        None,
        "",
        "model timed out (ReadTimeout)",
        "APIConnectionError: Connection refused (8 tokens)",
    ],
)
def test_other_failures_are_no_refusal_for_length(error):
    assert overshoot(error) is None


def test_a_refusal_for_length_without_sizes_is_taken_as_half_again():
    assert overshoot("BadRequestError: context_length_exceeded") == 1.5


def test_digits_count_a_token_each_in_a_planner_conversation():
    # Qwen2.5's tokenizer writes every digit as a token: a conversation that had read lines of
    # codes and dates was sent at 8,406 tokens to an 8,192-token window.
    assert estimated_tokens("1234-5678 " * 100) > estimated_tokens("abcd-efgh " * 100) + 500


def test_a_denser_count_fits_fewer_messages():
    transcript = [{"author": "rlm", "text": "Q" * 400}]
    for i in range(6):
        transcript += [
            {"author": "model", "text": f"PEEK {i}"},
            {"author": "rlm", "text": f"R{i} " + "x" * 2000},
        ]
    plain = fit_transcript("S" * 350, transcript, window_tokens=4000, reserve_tokens=1000)
    denser = fit_transcript("S" * 350, transcript, 4000, 1000, density=2.0)
    assert sum(estimated_tokens(m["text"]) for m in denser) * 2 <= 3400 - 1000 - 200
    assert sum(map(len, (m["text"] for m in denser))) < sum(map(len, (m["text"] for m in plain)))


async def test_a_refused_request_is_fitted_again_denser_and_every_try_is_charged():
    densities = []

    async def ask(density: float) -> ModelReply:
        densities.append(density)
        usage = Usage(model_calls=1, input_tokens=100)
        if len(densities) == 1:
            return ModelReply(None, usage, 0.0, LLAMA_CPP)
        return ModelReply(None, usage, 0.0)

    reply = await within_window(ask)
    assert reply.error is None
    assert densities == [1.0, pytest.approx(8406 / 8192 / 0.9)]
    assert reply.usage.model_calls == 2 and reply.usage.input_tokens == 200


async def test_other_failures_are_not_asked_again():
    densities = []

    async def ask(density: float) -> ModelReply:
        densities.append(density)
        return ModelReply(None, Usage(model_calls=1), 0.0, "model timed out (ReadTimeout)")

    reply = await within_window(ask)
    assert densities == [1.0] and reply.error == "model timed out (ReadTimeout)"


async def test_a_request_still_too_long_is_tried_three_times_at_most():
    calls = []

    async def ask(density: float) -> ModelReply:
        calls.append(density)
        return ModelReply(None, Usage(model_calls=1), 0.0, LLAMA_CPP)

    reply = await within_window(ask)
    assert len(calls) == 3 and calls[0] < calls[1] < calls[2]
    assert reply.error == LLAMA_CPP and reply.usage.model_calls == 3


class DenseServer:
    """A server whose tokenizer counts 2 tokens for every 3 characters (2.7 times the
    estimate) and refuses, as llama.cpp does, a request longer than its window."""

    def __init__(self, window_tokens: int) -> None:
        self.window_tokens = window_tokens
        self.refused = 0
        self.sizes: list[int] = []

    def check(self, messages: list[BaseMessage]) -> None:
        tokens = sum(len(str(m.content)) for m in messages) * 2 // 3
        if tokens > self.window_tokens:
            self.refused += 1
            raise ValueError(
                f"Error code: 400 - request ({tokens} tokens) exceeds the available "
                f"context size ({self.window_tokens} tokens), try increasing it"
            )
        self.sizes.append(tokens)


async def test_a_planner_turn_the_server_refuses_for_length_is_sent_again_shorter():
    server = DenseServer(window_tokens=3000)

    def turns(messages, turn):
        server.check(messages)
        return f'PEEK("chars:{turn * 1500}-{turn * 1500 + 1500}")' if turn < 6 else 'FINAL("x")'

    model = resolve_model(planner(turns), window_tokens=3000)
    result = await make_rlm(model, sub_window_tokens=600, max_iterations=10).ainvoke(
        {"query": "What is the vault access code?", "context": "word " * 20_000}
    )
    assert server.refused >= 1  # the estimate alone would have overflowed this server
    assert result.status != "error", result.error
    assert result.unverified_answer == "x"
    assert max(server.sizes) <= 3000
