"""An async HTTP client for OpenAI-compatible models that works from any event loop.

Why: an async connection pool belongs to the event loop that opened its connections, and
``langchain-openai`` shares one pool per base URL between all its model objects. So the second
``asyncio.run(rlm.ainvoke(...))`` of a process, or ``ainvoke`` after ``invoke``, failed with
"Event loop is closed". This client keeps one pool per event loop instead; a loop's pool goes
when the loop does.
"""

from __future__ import annotations

import asyncio
import importlib
import weakref
from functools import cache
from typing import Any


def loop_safe_async_client() -> Any:
    """An async client of the HTTP library the ``openai`` SDK uses, with a pool per loop; for
    ``ChatOpenAI(http_async_client=...)``."""
    import openai

    transport = _transport_class()()
    return openai.DefaultAsyncHttpxClient(transport=transport)


@cache
def _transport_class() -> type:
    import openai

    # The SDK's default client derives from its HTTP library's AsyncClient (httpx, or httpx2
    # from openai 3 on); transports handed to it must come from the same library.
    base = openai.DefaultAsyncHttpxClient.__mro__[1]
    httpx = importlib.import_module(base.__module__.partition(".")[0])

    class PerLoopTransport(httpx.AsyncBaseTransport):
        """Hands each request to the connection pool of the loop it runs on."""

        def __init__(self) -> None:
            self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
                weakref.WeakKeyDictionary()
            )

        def _pool(self) -> Any:
            loop = asyncio.get_running_loop()
            pool = self._pools.get(loop)
            if pool is None:
                limits = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
                pool = self._pools[loop] = httpx.AsyncHTTPTransport(limits=limits)
            return pool

        async def handle_async_request(self, request: Any) -> Any:
            return await self._pool().handle_async_request(request)

        async def aclose(self) -> None:
            pool = self._pools.pop(asyncio.get_running_loop(), None)
            if pool is not None:
                await pool.aclose()

    return PerLoopTransport
