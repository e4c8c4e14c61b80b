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
        Handler.seen_auth.append(self.headers.get("Authorization", ""))
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
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeOpenAIServer:
    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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
