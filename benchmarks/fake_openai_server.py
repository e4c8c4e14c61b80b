"""A fake OpenAI-compatible chat-completions server for tests and benchmarks: real HTTP, fixed
replies, a configurable latency, and a record of every request (what it was, when it came and
went).

    python benchmarks/fake_openai_server.py --port 0 --latency 0.2   # prints its base URL first

or in-process: ``with FakeOpenAIServer(latency=0.2) as server: ... server.base_url``.

It tells four kinds of request apart and answers each so that both systems find the needle
(a code matching ``\\d{4}-ALPHA``):

- ``leaf``: our sub-call, whose system message is ``rlm_graph.prompts.LEAF_SYSTEM`` (our direct
  route uses the same prompt, so it counts as a leaf too); answered with the needle if the last
  message holds one, else ``NOT FOUND``.
- ``planner``: our root, whose system message starts with the first sentence of
  ``rlm_graph.prompts.PLANNER_SYSTEM``; first turn (the last message starts with ``Question:``):
  one ``CALL("find the code", "chunk:i")`` per chunk for ``i < min(chunks, --calls)``; later
  turns: ``FINAL("<needle>")`` from the results.
- ``repl``: our root in REPL mode (``mode="repl"``), whose system message starts with the first
  sentence of ``rlm_graph.prompts.REPL_SYSTEM``; first turn: ```repl blocks, which for a
  count question ("How many records have label X", perhaps "and a date from A to B") counts the
  matching record lines with ``re.findall`` and otherwise splits ``context`` into ``--calls``
  slices and asks ``llm_query_batched`` for the code in each; next turn: ``FINAL_VAR`` of the
  variable that block set.
- ``rlms-root``: the reference implementation's root (a system message that offers
  ``llm_query``); first turn: a ```repl block that splits ``context`` into ``--calls`` slices and
  calls ``llm_query_batched``; next turn: a ```repl block that submits the answer.
- ``rlms-sub``: a request with no system message (rlms sends ``llm_query`` prompts bare); answered
  like a leaf.

With ``fail_rate`` a share of first attempts is answered with a 500, as a flaky provider
would; a retry (OpenAI clients mark it with ``x-stainless-retry-count``) is always answered, so
a client that retries always gets through. Prompts are read from ``rlm_graph.prompts`` at run
time, never copied, so edits to them keep working. ``GET /stats`` returns the record as JSON,
``POST /reset`` clears it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import random
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# The live prompts, not copies: classification keeps working while they are being edited.
from rlm_graph import prompts

NEEDLE = re.compile(r"\d{4}-ALPHA")
# Requests for this model are refused with a 401 whose message repeats the API key, as real
# providers do: tests use it to check that no key reaches records, checkpoints or output.
ECHO_KEY_MODEL = "echo-key-401"
SUB_KINDS = ("leaf", "judge", "rlms-sub")
ROOT_KINDS = ("planner", "repl", "rlms-root")


@dataclass
class RequestRecord:
    kind: str
    arrival: float  # time.perf_counter() of this server's process
    done: float
    prompt_chars: int
    # sha256 of the last message: the same request asked twice (a call paid twice) repeats it
    digest: str = ""


def _text(content: Any) -> str:
    """A message's text; OpenAI allows a list of typed parts as well as a string."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]


def classify(messages: list[dict[str, Any]]) -> str:
    system = next((_text(m.get("content")) for m in messages if m.get("role") == "system"), None)
    if system is None:
        return "rlms-sub"
    if system == prompts.LEAF_SYSTEM:
        return "leaf"
    if system == prompts.JUDGE_SYSTEM:
        return "judge"
    if system == prompts.REDUCE_SYSTEM:
        return "reduce"
    if system.startswith(_first_sentence(prompts.REPL_SYSTEM)):
        return "repl"
    if system.startswith(_first_sentence(prompts.PLANNER_SYSTEM)):
        return "planner"
    if "llm_query" in system:
        return "rlms-root"
    return "other"


def _needle_in(text: str) -> str | None:
    match = NEEDLE.search(text)
    return match.group(0) if match else None


def _chunk_count(text: str) -> int | None:
    """The chunk count our planner's first turn announces, read from a few phrasings."""
    match = re.search(r"([\d,]+) chunks? \(chunk:0", text)
    if match:
        return int(match.group(1).replace(",", ""))
    match = re.search(r"chunk:0 to chunk:(\d+)", text)
    if match:
        return int(match.group(1)) + 1
    listed = [int(n) for n in re.findall(r"chunk:(\d+)", text)]
    return max(listed) + 1 if listed else None


# The task a root hands its range children (with ``ranges``); they CALL their chunks.
PART_TASK = "find the code in this part"


def _planner_reply(messages: list[dict[str, Any]], calls: int, ranges: int = 0) -> str:
    last = _text(messages[-1].get("content"))
    if last.startswith("Question:"):
        count = _chunk_count(last)
        if count is None:
            return 'CALL("find the code", "all")'
        if ranges and not last.startswith(f"Question: {PART_TASK}"):
            # A root of a depth-2 run: one child per range of chunks.
            size = -(-count // ranges)
            return "\n".join(
                f'CALL("{PART_TASK}", "chunks:{a}-{min(count, a + size) - 1}")'
                for a in range(0, count, size)
            )
        return "\n".join(f'CALL("find the code", "chunk:{i}")' for i in range(min(count, calls)))
    found = _needle_in(last)
    return f'FINAL("{found or "NOT FOUND"}")'


# One sub-call per slice, in one batch: the part of a REPL fan-out both roots write.
_SLICE_BATCH = """\
prompts = [
    "Find the access code (four digits, a dash, ALPHA) in this text. "
    "Reply with the code only, or NOT FOUND.\\n\\n" + context[max(0, i * size - 64) : (i + 1) * size]
    for i in range(n)
]
answers = llm_query_batched(prompts)
found = [a.strip() for a in answers if a.strip() != "NOT FOUND"]
"""

# What a root model of rlms writes: Python for its REPL. The slices overlap by 64 characters
# so a needle on a slice boundary is still seen whole by one sub-call.
_RLMS_FAN_OUT = (
    """\
I will split the context into {calls} slices and ask one sub-LLM about each, in one batch.
```repl
n = {calls}
size = -(-len(context) // n)
"""
    + _SLICE_BATCH
    + """\
print(f"{{len(answers)}} answers, found: {{found}}")
```"""
)

_RLMS_SUBMIT = """\
The batch found the code.
```repl
answer["content"] = "{answer}"
answer["ready"] = True
```"""


# What our root writes in REPL mode. A count: the record lines (``Record ID | date | label: X |
# text``) read by a regular expression and filtered in code, one exact number.
_REPL_COUNT = """\
I will count the matching record lines with a regular expression.
```repl
import re
rows = re.findall(r"^Record \\S+ \\| (\\d{{4}}-\\d\\d-\\d\\d) \\| label: (\\S+) \\|", context, re.M)
count = len([1 for day, label in rows if label == {label!r} and {first!r} <= day <= {last!r}])
print(count)
```"""

# Anything else: the code of each slice, asked of a sub-model in one batch. Two cells, and the
# second prints a variable of the first after the batch: a run resumed mid-batch shows that
# both cells' variables came back.
_REPL_FAN_OUT = (
    """\
I will ask one sub-model about each slice of the context, in one batch.
```repl
n = {calls}
size = -(-len(context) // n)
```
```repl
"""
    + _SLICE_BATCH
    + """\
answer = found[0] if found else "NOT FOUND"
print("slices", n, "answers", len(answers), "->", answer)
```"""
)

_COUNT_QUESTION = re.compile(
    r"How many records have label (\w+)(?: and a date from (\S+) to (\S+) )?", re.I
)


def _repl_reply(messages: list[dict[str, Any]], calls: int) -> str:
    if any(m.get("role") == "assistant" for m in messages):
        # The block ran and its output was shown: answer with the variable it set.
        last_reply = max(i for i, m in enumerate(messages) if m.get("role") == "assistant")
        code = _text(messages[last_reply].get("content"))
        return "FINAL_VAR(count)" if "count = " in code else "FINAL_VAR(answer)"
    first = next((_text(m.get("content")) for m in messages if m.get("role") == "user"), "")
    if match := _COUNT_QUESTION.search(first):
        label, start, end = match.group(1), match.group(2), match.group(3)
        return _REPL_COUNT.format(label=label, first=start or "0000", last=end or "9999")
    return _REPL_FAN_OUT.format(calls=calls)


def _rlms_root_reply(messages: list[dict[str, Any]], calls: int) -> str:
    if not any(m.get("role") == "assistant" for m in messages):
        return _RLMS_FAN_OUT.format(calls=calls)
    # The REPL output comes after the root's last reply, followed by a "Turn N" prompt.
    last_reply = max(i for i, m in enumerate(messages) if m.get("role") == "assistant")
    found = _needle_in("\n".join(_text(m.get("content")) for m in messages[last_reply + 1 :]))
    return _RLMS_SUBMIT.format(answer=found or "NOT FOUND")


def reply_for(kind: str, messages: list[dict[str, Any]], calls: int, ranges: int = 0) -> str:
    if kind == "planner":
        return _planner_reply(messages, calls, ranges)
    if kind == "repl":
        return _repl_reply(messages, calls)
    if kind == "rlms-root":
        return _rlms_root_reply(messages, calls)
    if kind == "judge":  # our judge reads one passage: the needle, if the passage holds it
        found = _needle_in(_text(messages[-1].get("content")))
        return json.dumps({"found": found is not None, "answer": found or ""})
    # Leaves, rlms sub-calls, a reduce step, anything else: report the needle if it is there.
    return _needle_in(_text(messages[-1].get("content"))) or "NOT FOUND"


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, as real APIs do: clients pool connections, so a fresh TCP handshake per
    # request would be a cost of this fake, not of the systems under test.
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: object) -> None:  # keep benchmark output clean
        pass

    def _send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.rstrip("/").endswith("/stats"):
            self._send_json(200, self.server.fake.stats())
        elif self.path.rstrip("/").endswith("/models"):
            self._send_json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        arrival = time.perf_counter()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.rstrip("/").endswith("/reset"):
            self.server.fake.reset()
            self._send_json(200, {"ok": True})
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        fake = self.server.fake
        with fake.serving():
            self._complete(fake, json.loads(body), arrival)

    def _complete(self, fake: FakeOpenAIServer, request: dict[str, Any], arrival: float) -> None:
        auth = self.headers.get("Authorization", "")
        fake.seen_auth.append(auth)
        if request.get("model") == ECHO_KEY_MODEL:
            key = auth.removeprefix("Bearer ")
            message = f"Incorrect API key provided: {key}"
            self._send_json(401, {"error": {"message": message, "code": 401}})
            return
        if fake.should_fail(self.headers.get("x-stainless-retry-count", "0")):
            self._send_json(500, {"error": {"message": "scripted failure", "code": 500}})
            return
        messages = request.get("messages") or []
        kind = classify(messages)
        text = reply_for(kind, messages, fake.calls, fake.ranges)
        if kind in SUB_KINDS:
            fake.open_gate.wait()  # held by pause(): a run stays mid fan-out as long as a test needs
        if fake.latency and (not fake.subcalls_only or kind in SUB_KINDS):
            time.sleep(fake.latency)
        prompt_chars = sum(len(_text(m.get("content"))) for m in messages)
        prompt_tokens = prompt_chars // 4 + 1
        completion_tokens = len(text) // 4 + 1
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        model = request.get("model", "fake")
        if request.get("stream"):
            self._send_stream(model, text, usage)
        else:
            self._send_json(
                200,
                {
                    "id": f"chatcmpl-fake-{fake.next_id()}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": text},
                        }
                    ],
                    "usage": usage,
                },
            )
        last = _text(messages[-1].get("content")) if messages else ""
        digest = hashlib.sha256(last.encode()).hexdigest()
        fake.record(RequestRecord(kind, arrival, time.perf_counter(), prompt_chars, digest))

    def _send_stream(self, model: str, text: str, usage: dict[str, int]) -> None:
        """One content chunk and a usage chunk, as server-sent events."""
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model}
        events = [
            {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}}]},
            {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
            {**base, "choices": [], "usage": usage},
        ]
        data = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        raw = data.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default listen backlog (5) drops connections when 16+ clients connect at once, and a
    # dropped SYN costs a 1 s retransmit: far more than the latency being measured.
    request_queue_size = 256
    fake: FakeOpenAIServer

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that goes away mid-request (a killed run, a cancelled call) is normal here.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeOpenAIServer:
    """The server on a background thread; ``start()`` returns the base URL (ending in ``/v1``)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        subcalls_only: bool = False,
        calls: int = 65,
        ranges: int = 0,
        fail_rate: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.latency = latency
        self.fail_rate = fail_rate
        self.failures = 0  # first attempts answered with a 500
        self._rng = random.Random(seed)
        self.subcalls_only = subcalls_only
        self.calls = calls
        # >0: the root's first turn CALLs this many chunk ranges (children then CALL chunks)
        self.ranges = ranges
        self._records: list[RequestRecord] = []
        self.seen_auth: list[str] = []  # every Authorization header received
        self._lock = threading.Lock()
        self._ids = 0
        self._in_flight = 0
        self._idle = threading.Condition(self._lock)
        self.open_gate = threading.Event()
        self.open_gate.set()
        self._httpd = _Server((host, port), _Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> str:
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def next_id(self) -> int:
        with self._lock:
            self._ids += 1
            return self._ids

    def should_fail(self, retry_count: str) -> bool:
        """Whether to refuse this request: a ``fail_rate`` share of first attempts."""
        if not self.fail_rate or retry_count.strip() not in ("", "0"):
            return False
        with self._lock:
            failed = self._rng.random() < self.fail_rate
            self.failures += failed
            return failed

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        """Count a chat request as in flight until its reply is sent (or its client is gone)."""
        with self._lock:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until no request is being answered: a killed client's requests still in the
        server finish (and are recorded) before a test resets or reads the record."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def record(self, entry: RequestRecord) -> None:
        with self._lock:
            self._records.append(entry)

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def pause(self) -> None:
        """Hold every sub-call from now on until ``unpause()``."""
        self.open_gate.clear()

    def unpause(self) -> None:
        self.open_gate.set()

    def reset(self) -> None:
        with self._lock:
            self._records.clear()

    def stats(self) -> dict[str, Any]:
        records = self.records()
        return {
            "clock": "time.perf_counter() of the server process",
            "now": time.perf_counter(),
            "latency": self.latency,
            "latency_subcalls_only": self.subcalls_only,
            "failures": self.failures,
            "requests": [asdict(r) for r in sorted(records, key=lambda r: r.arrival)],
            **summarize(records),
        }


def summarize(records: list[RequestRecord]) -> dict[str, Any]:
    """Counts by kind, the sub-call span and the peak number of sub-calls in flight."""
    by_kind: dict[str, int] = {}
    for r in records:
        by_kind[r.kind] = by_kind.get(r.kind, 0) + 1
    subs = [r for r in records if r.kind in SUB_KINDS]
    span = max(r.done for r in subs) - min(r.arrival for r in subs) if subs else None
    return {
        "by_kind": by_kind,
        "subcalls": len(subs),
        "subcall_span": span,
        "peak_subcalls_in_flight": peak_in_flight(subs),
        "first_arrival": min((r.arrival for r in records), default=None),
        "last_done": max((r.done for r in records), default=None),
    }


def peak_in_flight(records: list[RequestRecord]) -> int:
    # Sweep over arrival (+1) and completion (-1) events; at equal times completions go first.
    events = sorted([(r.arrival, 1) for r in records] + [(r.done, -1) for r in records])
    peak = current = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds slept per request")
    parser.add_argument(
        "--latency-subcalls-only",
        action="store_true",
        help="sleep only on sub-calls (leaf, rlms-sub), not on root turns",
    )
    parser.add_argument(
        "--calls", type=int, default=65, help="sub-calls the fake roots fan out to (65)"
    )
    parser.add_argument(
        "--fail-rate", type=float, default=0.0, help="share of first attempts answered with a 500"
    )
    args = parser.parse_args(argv)
    server = FakeOpenAIServer(
        host=args.host,
        port=args.port,
        latency=args.latency,
        subcalls_only=args.latency_subcalls_only,
        calls=args.calls,
        fail_rate=args.fail_rate,
    )
    print(server.start(), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the normal way to stop it
        stop.wait()
    server.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
