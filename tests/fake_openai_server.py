"""A tiny OpenAI-compatible chat server for CLI tests: real HTTP, deterministic replies.

Leaf prompts (the leaf system prompt) are answered with the first match of a needle regex in
the text, else NOT FOUND. Planner prompts get one CALL per chunk on the first turn, then a
FINAL with the first result that is not NOT FOUND.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rlm_graph import prompts

NEEDLE = re.compile(r"\d{4}-ALPHA")
# Requests for this model are refused with a 401 whose message repeats the API key.
ECHO_KEY_MODEL = "echo-key-401"


def reply_for(messages: list[dict]) -> str:
    system = messages[0]["content"]
    last = messages[-1]["content"]
    if system == prompts.LEAF_SYSTEM:
        text = re.search(r"^Text:\n(.*)\n\nQuestion: ", last, re.DOTALL)
        match = NEEDLE.search(text.group(1)) if text else None
        return match.group(0) if match else "NOT FOUND"
    if system == prompts.REDUCE_SYSTEM:
        found = NEEDLE.findall(last)
        return found[0] if found else "NOT FOUND"
    if last.startswith("Question:"):
        count = int(re.search(r"(\d+) chunks \(chunk:0", last).group(1))
        return "\n".join(f'CALL("find the code", "chunk:{i}")' for i in range(count))
    found = re.findall(r"-> (\d{4}-ALPHA)", last)
    return f'FINAL("{found[0]}")' if found else 'FINAL("unknown")'


class Handler(BaseHTTPRequestHandler):
    seen_auth: list[str] = []

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        auth = self.headers.get("Authorization", "")
        Handler.seen_auth.append(auth)
        if body.get("model") == ECHO_KEY_MODEL:
            # Like a real provider rejecting a key: the error text quotes the key back.
            key = auth.removeprefix("Bearer ")
            error = {"error": {"message": f"Incorrect API key provided: {key}", "code": 401}}
            self._send(401, error)
            return
        text = reply_for(body["messages"])
        prompt_tokens = sum(len(m["content"]) for m in body["messages"]) // 4
        payload = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": text},
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": len(text) // 4 + 1,
                "total_tokens": prompt_tokens + len(text) // 4 + 1,
            },
        }
        self._send(200, payload)

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 refuses bursts of parallel sub-calls; the client then retries
    # after a second's backoff, which would look like the library being slow.
    request_queue_size = 256
    daemon_threads = True


class FakeOpenAIServer:
    def __init__(self) -> None:
        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
