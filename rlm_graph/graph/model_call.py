"""One model invocation: concurrency limit, usage, timing, and failure as data."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from rlm_graph.configuration import RLMRuntime
from rlm_graph.graph.events import ModelCallEvents
from rlm_graph.models import ResolvedModel, usage_from_message
from rlm_graph.protocol.message import content_text
from rlm_graph.secrets import redact
from rlm_graph.state import Usage
from rlm_graph.tokens import estimate_tokens


@dataclass
class ModelReply:
    message: AIMessage | None
    usage: Usage
    seconds: float
    error: str | None = None

    @property
    def text(self) -> str:
        return "" if self.message is None else content_text(self.message.content)


def to_messages(system: str, transcript: list[dict[str, str]]) -> list[BaseMessage]:
    """Chat messages from a stored transcript: ``{"author": "rlm" | "model", "text": ...}``.

    (Not ``role``/``content``: LangGraph would turn such dicts into message objects.)
    """
    messages: list[BaseMessage] = [SystemMessage(system)]
    for entry in transcript:
        cls = AIMessage if entry["author"] == "model" else HumanMessage
        messages.append(cls(entry["text"]))
    return messages


def describe_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    kind = type(exc).__name__
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) or "timeout" in kind.lower():
        return f"model timed out ({kind})"
    # Redact before cutting: a cut must not leave half a key behind.
    return redact(f"{kind}: {text}")[:300]


async def call_model(
    runtime: RLMRuntime,
    model: ResolvedModel,
    messages: list[BaseMessage],
    *,
    bound: Any = None,
    events: ModelCallEvents | None = None,
    stop: list[str] | None = None,
    until: Callable[[str], bool] | None = None,
) -> ModelReply:
    """Invoke ``bound`` (or the plain chat model) under the global concurrency limit.

    Exceptions (timeouts, HTTP errors, malformed responses) come back as ``error`` so the
    caller can turn them into an observation or a failed call record. ``events`` reports the
    call queued, running and finished (with its usage). ``stop``: sequences the server stops
    writing at (a model whose server refuses them is asked again without). ``until``: the
    reply is streamed and no longer read once ``until(text so far)`` holds at a line's end
    (closing the stream stops the server writing; the caller cuts what it does not want).
    """
    if stop:
        bound = model.chat.bind(stop=stop)
        return await _option_or_plain(runtime, model, messages, bound, "stop", events, until)
    runnable = bound if bound is not None else model.chat
    prompt_chars = sum(len(content_text(m.content)) for m in messages)
    started = time.perf_counter()
    running: float | None = None  # when the concurrency limit let the call through
    if events is not None:
        events.queued()
    try:
        async with runtime.limiter:
            running = time.perf_counter()
            if events is not None:
                events.started()
            if until is None:
                raw = await runnable.ainvoke(messages)
            else:
                raw = await _stream_until(model, runnable, messages, until)
    except Exception as exc:  # noqa: BLE001 - any model failure is an observation
        cut = _cut_off_reply(exc)
        if cut is not None:  # the reply hit the output limit: what it wrote is still a reply
            reply = ModelReply(cut, usage_from_message(cut, prompt_chars=prompt_chars), 0.0)
        else:
            usage = Usage(model_calls=1, input_tokens=max(1, estimate_tokens(prompt_chars)))
            reply = ModelReply(None, usage, 0.0, describe_error(exc))
        reply.seconds = time.perf_counter() - started
    else:
        if isinstance(raw, dict) and "raw" in raw:  # with_structured_output(include_raw=True)
            # Asked for its decoding constraint; its "parsed" is not read: parse_turn reads every
            # form, keeps a reply's good actions beside a bad one (parsed is None then) and caps
            # a turn at MAX_ACTIONS_PER_TURN.
            raw = raw["raw"]
        message = raw if isinstance(raw, AIMessage) else AIMessage(content=content_text(raw))
        usage = usage_from_message(message, prompt_chars=prompt_chars)
        reply = ModelReply(message, usage, time.perf_counter() - started)
    if running is not None:
        reply.usage.model_seconds = round(time.perf_counter() - running, 6)
    if events is not None:
        events.finished(reply.usage, reply.seconds, reply.error)
    return reply


async def _stream_until(
    model: ResolvedModel, runnable: Any, messages: list[BaseMessage], until: Callable[[str], bool]
) -> AIMessage:
    """Stream the reply and stop reading once ``until`` holds at the end of a line."""
    # Token counts arrive in a stream's last chunk only when asked for (OpenAI-style clients).
    kwargs = {"stream_usage": True} if "stream_usage" in type(model.chat).model_fields else {}
    total: Any = None
    stream = runnable.astream(messages, **kwargs)
    try:
        async for chunk in stream:
            total = chunk if total is None else total + chunk
            if "\n" in content_text(chunk.content) and until(content_text(total.content)):
                break
    finally:
        await stream.aclose()  # the HTTP stream closes: the server stops writing
    if total is None:
        return AIMessage(content="")
    return AIMessage(
        content=content_text(total.content),
        usage_metadata=getattr(total, "usage_metadata", None),
        response_metadata=dict(getattr(total, "response_metadata", None) or {}),
    )


def _cut_off_reply(exc: BaseException) -> AIMessage | None:
    """The text of a reply the client refused because it reached the output limit (the OpenAI
    SDK's ``LengthFinishReasonError`` under a JSON schema carries the completion), or None."""
    completion = getattr(exc, "completion", None)
    choices = getattr(completion, "choices", None) or []
    if not choices:
        return None
    text = getattr(choices[0].message, "content", None) or ""
    usage = getattr(completion, "usage", None)
    metadata = {}
    if usage is not None:
        metadata["token_usage"] = {
            "prompt_tokens": getattr(usage, "prompt_tokens", 0),
            "completion_tokens": getattr(usage, "completion_tokens", 0),
        }
    return AIMessage(content=text, response_metadata={**metadata, "finish_reason": "length"})


def json_schema_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's ``response_format`` for a JSON schema, passed as is: the reply is parsed by the
    caller, leniently (a reply that is not valid JSON after all is still read)."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}


async def call_model_json(
    runtime: RLMRuntime,
    model: ResolvedModel,
    messages: list[BaseMessage],
    response_format: dict[str, Any],
    *,
    events: ModelCallEvents | None = None,
) -> ModelReply:
    """:func:`call_model` decoding under ``response_format`` where the model's server can
    (``ResolvedModel.json_schema``); elsewhere, or on a server that refuses it, the plain call
    (the prompt asks for the same shape in words)."""
    if not model.json_schema:
        return await call_model(runtime, model, messages, events=events)
    bound = model.chat.bind(response_format=response_format)
    return await _option_or_plain(runtime, model, messages, bound, "response_format", events)


async def _option_or_plain(
    runtime: RLMRuntime,
    model: ResolvedModel,
    messages: list[BaseMessage],
    bound: Any,
    option: str,
    events: ModelCallEvents | None,
    until: Callable[[str], bool] | None = None,
) -> ModelReply:
    """The call with a server option bound (stop sequences, a JSON schema); when the server
    refuses that option (its error names it), the plain call, the refused one's usage kept."""
    # The one retry of a model call. Not LangGraph's RetryPolicy: that re-runs a whole node on
    # an exception, where this asks one model call again without an option, charged to the budget.
    reply = await call_model(runtime, model, messages, bound=bound, events=events, until=until)
    if reply.error and option in reply.error.lower():
        again = await call_model(runtime, model, messages, events=events)
        again.usage = again.usage.add(reply.usage)
        return again
    return reply
