"""Deterministic fake chat models for unit tests and benchmarks (never for real runs)."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import PrivateAttr

from rlm_graph import prompts
from rlm_graph.protocol.message import content_text
from rlm_graph.tokens import estimate_tokens

Responder = Callable[[list[BaseMessage]], "str | AIMessage"]


def passage_reader(messages: list[BaseMessage]) -> str:
    """The default fake judge: it reads the whole passage back as its answer, so it agrees
    with a finding exactly when the finding's answer stands in the passage; asked whether an
    asked what kind of thing a phrase names, it cannot say ("thing"), which decides nothing."""
    if _text(messages[0]) == prompts.KIND_SYSTEM:
        return json.dumps({"names": "thing"})
    match = re.search(r"^Passage: (.*?)\n\nQuestion: ", _text(messages[-1]), re.DOTALL)
    passage = match.group(1).strip() if match else ""
    return json.dumps({"found": bool(passage), "answer": passage})


def _text(message: BaseMessage) -> str:
    return content_text(message.content)


class ScriptedChatModel(BaseChatModel):
    """Replies with ``respond(messages)``; optional fixed latency; reports usage (``estimate_tokens``).

    ``respond`` may raise to simulate a failing model. ``max_in_flight`` is the most calls
    that were ever running at once, counted across threads. ``structured_requests`` and
    ``bound_tools`` record what ``with_structured_output`` and ``bind_tools`` were asked for,
    and ``response_formats`` the name of each call's bound ``response_format`` schema (None:
    none), so tests can check that a feature really used them. Stop sequences cut the reply
    as a server would (``stops`` records them).
    """

    respond: Responder
    # Judge prompts (``rlm_graph.graph.judge``) go here, not to ``respond``; None: to respond.
    judge: Responder | None = passage_reader
    latency: float | Callable[[list[BaseMessage]], float] = 0.0
    model_name: str = "fake"
    calls: list[list[BaseMessage]] = []
    in_flight: int = 0
    max_in_flight: int = 0
    structured_requests: list[dict[str, Any]] = []
    bound_tools: list[list[str]] = []
    response_formats: list[str | None] = []
    stops: list[list[str] | None] = []  # the stop sequences each call was given
    lines_streamed: int = 0
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def _latency(self, messages: list[BaseMessage]) -> float:
        return self.latency(messages) if callable(self.latency) else self.latency

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    def _reply(
        self, messages: list[BaseMessage], kwargs: dict[str, Any], stop: list[str] | None = None
    ) -> ChatResult:
        self.calls.append(list(messages))
        self.stops.append(list(stop) if stop else None)
        response_format = kwargs.get("response_format") or {}
        self.response_formats.append(response_format.get("json_schema", {}).get("name"))
        judged = self.judge is not None and is_judge_prompt(messages)
        reply = self.judge(messages) if judged else self.respond(messages)  # type: ignore[misc]
        message = reply if isinstance(reply, AIMessage) else AIMessage(content=str(reply))
        if stop and isinstance(message.content, str):  # as a server does: cut at the first
            cuts = [i for i in (message.content.find(s) for s in stop) if i >= 0]
            if cuts:
                message.content = message.content[: min(cuts)]
        input_tokens = max(1, estimate_tokens("".join(_text(m) for m in messages)))
        output_tokens = max(1, estimate_tokens(_text(message)))
        message.usage_metadata = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        }
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if delay := self._latency(messages):
            time.sleep(delay)
        return self._reply(messages, kwargs, stop)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if delay := self._latency(messages):
                await asyncio.sleep(delay)
            return self._reply(messages, kwargs, stop)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        """The reply a line at a time, then its usage; ``lines_streamed`` counts the lines a
        caller read before it stopped reading."""
        result = await self._agenerate(messages, stop, run_manager, **kwargs)
        message = result.generations[0].message
        for line in content_text(message.content).splitlines(keepends=True):
            self.lines_streamed += 1
            yield ChatGenerationChunk(message=AIMessageChunk(content=line))
        yield ChatGenerationChunk(
            message=AIMessageChunk(content="", usage_metadata=message.usage_metadata)
        )

    def with_structured_output(
        self, schema: Any, *, include_raw: bool = False, method: str | None = None, **kwargs: Any
    ) -> Runnable:
        """Like a provider's structured output: the reply's JSON text, with the raw message."""
        self.structured_requests.append({"schema": schema, "method": method})

        def wrap(message: AIMessage) -> Any:
            return (
                {"raw": message, "parsed": None, "parsing_error": None} if include_raw else message
            )

        return self | RunnableLambda(wrap)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable:
        names = [
            tool.get("function", tool).get("name", "?")
            if isinstance(tool, dict)
            else getattr(tool, "name", "?")
            for tool in tools
        ]
        self.bound_tools.append(names)
        return self.bind(tools=list(tools), **kwargs)


def is_leaf_prompt(messages: list[BaseMessage]) -> bool:
    return _text(messages[0]) == prompts.LEAF_SYSTEM


def is_found_lines_prompt(messages: list[BaseMessage]) -> bool:
    """The read of the sentences the question's names found (``graph/found_lines``)."""
    return _text(messages[0]) == prompts.FOUND_LINES_SYSTEM


def found_lines_text(messages: list[BaseMessage]) -> str:
    """The sentences a found-lines prompt carries."""
    match = re.search(r"^Sentences:\n(.*)\n\nQuestion: ", _text(messages[-1]), re.DOTALL)
    return match.group(1) if match else ""


def is_judge_prompt(messages: list[BaseMessage]) -> bool:
    """The judge's prompts: a passage read alone, an answer's kind, or other words for a
    question's word (the reader of other words is asked them)."""
    return _text(messages[0]) in (
        prompts.JUDGE_SYSTEM,
        prompts.KIND_SYSTEM,
        prompts.OTHER_WORDS_SYSTEM,
    )


def is_reduce_prompt(messages: list[BaseMessage]) -> bool:
    return _text(messages[0]) == prompts.REDUCE_SYSTEM


def leaf_text(messages: list[BaseMessage]) -> str:
    """The slice a leaf prompt carries."""
    match = re.search(r"^Text:\n(.*)\n\nTask: ", _text(messages[-1]), re.DOTALL)
    return match.group(1) if match else ""


def needle_finder(pattern: str) -> Responder:
    """A leaf that answers with the first match of ``pattern`` in its slice, else NOT FOUND;
    a reduce step that returns the first finding that is not NOT FOUND."""
    regex = re.compile(pattern)

    def respond(messages: list[BaseMessage]) -> str:
        if is_reduce_prompt(messages):
            found = regex.search(_text(messages[-1]))
            return found.group(0) if found else "NOT FOUND"
        match = regex.search(leaf_text(messages))
        return match.group(0) if match else "NOT FOUND"

    return respond
