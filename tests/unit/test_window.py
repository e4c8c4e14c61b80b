"""A planner conversation fitted to the model's window, and fitted again when the server's
tokenizer counts more tokens than the estimate."""

from __future__ import annotations

import pytest
from langchain_core.messages import BaseMessage, HumanMessage

from rlm_graph.graph.model_call import ModelReply
from rlm_graph.graph.window import (
    CUT,
    ELIDED,
    Refusal,
    estimated_tokens,
    fit_transcript,
    refusal,
    within_window,
)
from rlm_graph.models import resolve_model
from rlm_graph.state import Usage
from tests.unit.conftest import make_rlm, planner
from tests.unit.repl_fakes import cell, repl_model, repl_rlm

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
def test_a_refusal_for_length_says_how_long_the_request_and_the_window_were(error):
    assert refusal(error) == Refusal(requested=8406, window=8192)


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
    assert refusal(error) is None


def test_a_refusal_for_length_without_sizes_is_still_one():
    assert refusal("BadRequestError: context_length_exceeded") == Refusal(0, 0)


def test_digits_count_a_token_each_in_a_planner_conversation():
    # Qwen2.5's tokenizer writes every digit as a token (a table of ids and dates, estimated
    # at 4 bytes a token, overflowed an 8,192-token window: ``tokens.dense_tokens``).
    assert estimated_tokens("1234-5678 " * 100) > estimated_tokens("abcd-efgh " * 100) + 500


def peeks(turns: int) -> list[dict[str, str]]:
    """An opening turn, then ``turns`` PEEKs of 2,000 characters each."""
    transcript = [{"author": "rlm", "text": "Q" * 400}]
    for i in range(turns):
        transcript += [
            {"author": "model", "text": f"PEEK {i}"},
            {"author": "rlm", "text": f"R{i} " + "x" * 2000},
        ]
    return transcript


def test_fit_transcript_elides_oldest_middle_turns():
    transcript = peeks(6)
    fitted = fit_transcript("S" * 350, transcript, window_tokens=2500, reserve_tokens=1000)
    assert fitted[0] == transcript[0] and fitted[-2:] == transcript[-2:]
    assert fitted[1]["text"] == ELIDED
    assert sum(estimated_tokens(m["text"]) for m in fitted) <= 2500 - 1000 - 100
    assert transcript[1]["text"] == "PEEK 0"  # the stored transcript is untouched


def test_a_denser_count_fits_fewer_messages():
    transcript = peeks(6)
    plain = fit_transcript("S" * 350, transcript, window_tokens=4000, reserve_tokens=1000)
    denser = fit_transcript("S" * 350, transcript, 4000, 1000, density=2.0)
    assert sum(estimated_tokens(m["text"]) for m in denser) * 2 <= 3400 - 1000 - 200
    assert sum(map(len, (m["text"] for m in denser))) < sum(map(len, (m["text"] for m in plain)))


def test_a_long_observation_before_the_order_to_answer_keeps_its_tail():
    # A turn that must answer ends with a short order, and the observation before it was kept
    # whole however long (many PEEKs and results in one turn): the likeliest way the last turn
    # of a run (multi-niah seed 67 sample 5) sent 8,406 tokens to an 8,192-token window.
    transcript = [
        {"author": "rlm", "text": "Q" * 400},
        {"author": "model", "text": "PEEK 0"},
        {"author": "rlm", "text": "R0 " + "x" * 2000},
        {"author": "model", "text": "PEEK 1, PEEK 2, PEEK 3"},
        {"author": "rlm", "text": "R1 " + "x" * 30_000 + " NEWEST"},
        {"author": "rlm", "text": "Answer now: reply with FINAL. Found so far: 1234-ALPHA"},
    ]
    fitted = fit_transcript("S" * 350, transcript, window_tokens=4000, reserve_tokens=1000)
    assert fitted[-1] == transcript[-1]  # the order to answer, whole
    assert fitted[-2]["text"].startswith(CUT) and fitted[-2]["text"].endswith(" NEWEST")
    assert sum(estimated_tokens(m["text"]) for m in fitted) <= 3400 - 1000 - 92


def test_an_opening_turn_too_long_for_the_window_loses_its_middle():
    opening = "QUESTION " + "y" * 20_000 + " BUDGET"
    transcript = [
        {"author": "rlm", "text": opening},
        {"author": "model", "text": "PEEK 0"},
        {"author": "rlm", "text": "R0 " + "x" * 2000},
    ]
    fitted = fit_transcript("S" * 350, transcript, window_tokens=4000, reserve_tokens=1000)
    first = fitted[0]["text"]
    assert first.startswith("QUESTION ") and first.endswith(" BUDGET") and CUT in first
    assert sum(estimated_tokens(m["text"]) for m in fitted) <= 3400 - 1000 - 90
    assert transcript[0]["text"] == opening  # the stored transcript is untouched


def fitted(densities: list[float]):
    """A fit that records each density it is asked for and gives 4,000 characters (1,004
    estimated tokens with the message's framing)."""

    def fit(density: float) -> list[BaseMessage]:
        densities.append(density)
        return [HumanMessage("x" * 4000)]

    return fit


def replies(*errors: str | None):
    """A send that answers with these errors in turn (None: a reply), each call charged."""
    sent = iter(errors)

    async def send(messages: list[BaseMessage]) -> ModelReply:
        return ModelReply(None, Usage(model_calls=1, input_tokens=100), 0.0, next(sent))

    return send


async def test_a_refused_request_is_fitted_again_at_the_density_measured():
    densities: list[float] = []
    reply = await within_window(fitted(densities), replies(LLAMA_CPP, None), 8192)
    assert reply.error is None
    assert densities == [1.0, pytest.approx(8406 / 1004)]
    assert reply.usage.model_calls == 2 and reply.usage.input_tokens == 200


async def test_a_server_with_a_smaller_window_than_configured_is_fitted_to_its_own():
    densities: list[float] = []
    await within_window(fitted(densities), replies(LLAMA_CPP, None), 16384)
    assert densities == [1.0, pytest.approx(8406 / 1004 * 2)]


async def test_a_refusal_without_sizes_is_fitted_again_denser_by_half():
    densities: list[float] = []
    await within_window(fitted(densities), replies("context_length_exceeded", None), 8192)
    assert densities == [1.0, 1.5]


async def test_other_failures_are_not_sent_again():
    densities: list[float] = []
    reply = await within_window(fitted(densities), replies("model timed out (ReadTimeout)"), 8192)
    assert densities == [1.0] and reply.error == "model timed out (ReadTimeout)"


async def test_a_request_still_too_long_is_tried_three_times_at_most():
    densities: list[float] = []
    reply = await within_window(fitted(densities), replies(LLAMA_CPP, LLAMA_CPP, LLAMA_CPP), 8192)
    assert len(densities) == 3 and densities[0] < densities[1] < densities[2]
    assert reply.error == LLAMA_CPP and reply.usage.model_calls == 3


class DenseServer:
    """A server whose tokenizer counts a token for every ``chars_per_token`` characters
    (the estimate: 4) and refuses, as llama.cpp does, a request longer than its window."""

    def __init__(self, window_tokens: int, chars_per_token: float) -> None:
        self.window_tokens = window_tokens
        self.chars_per_token = chars_per_token
        self.refused = 0
        self.sizes: list[int] = []

    def check(self, messages: list[BaseMessage]) -> None:
        tokens = int(sum(len(str(m.content)) for m in messages) / self.chars_per_token)
        if tokens > self.window_tokens:
            self.refused += 1
            raise ValueError(
                f"Error code: 400 - request ({tokens} tokens) exceeds the available "
                f"context size ({self.window_tokens} tokens), try increasing it"
            )
        self.sizes.append(tokens)


async def test_a_planner_turn_the_server_refuses_for_length_is_sent_again_shorter():
    server = DenseServer(window_tokens=3000, chars_per_token=1.5)

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


async def test_a_repl_turn_the_server_refuses_for_length_is_sent_again_shorter():
    server = DenseServer(window_tokens=4000, chars_per_token=1.0)

    def turns(messages, turn):
        server.check(messages)
        if turn < 5:
            return cell(f"print(context[{turn * 2000}:{turn * 2000 + 2000}])")
        return 'FINAL("x")'

    model = resolve_model(repl_model(turns), window_tokens=4000)
    result = await repl_rlm(model, max_iterations=10).ainvoke(
        {"query": "What is the vault access code?", "context": "word " * 4_000}
    )
    assert server.refused >= 1
    assert result.status != "error", result.error
    assert result.unverified_answer == "x"  # the turns after the refusal ran to the FINAL
    assert max(server.sizes) <= 4000
