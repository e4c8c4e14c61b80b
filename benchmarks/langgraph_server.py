"""A LangGraph server for this repository's graph, in a subprocess, for tests and benchmarks.

    with LangGraphDevServer(env={"RLM_GRAPH_MODEL": "m", ...}, work=folder) as server:
        server.url  # http://127.0.0.1:PORT, answering /ok

The server runs in ``work`` with a copy of ``langgraph.json`` whose paths point back at this
checkout, so its in-memory runtime's files stay out of the repository.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
LANGGRAPH = Path(sys.executable).with_name("langgraph")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LangGraphServer:
    """A LangGraph API server for ``langgraph.json``, started by ``command(port)`` in ``work``."""

    def __init__(
        self, *, env: dict[str, str], work: Path, jobs: int = 10, start_seconds: float = 180
    ) -> None:
        self.env = {**os.environ, "LANGSMITH_TRACING": "false", **env}
        self.work = work
        self.jobs = jobs
        self.start_seconds = start_seconds
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = work / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def _write_config(self) -> None:
        config = json.loads((ROOT / "langgraph.json").read_text())
        config["dependencies"] = [str(ROOT)]
        config["graphs"] = {
            name: str(ROOT / path.removeprefix("./")) for name, path in config["graphs"].items()
        }
        (self.work / "langgraph.json").write_text(json.dumps(config))

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> str:
        self.work.mkdir(parents=True, exist_ok=True)
        self._write_config()
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=self.work,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.time() + self.start_seconds
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.command()[0]} exited:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/ok", timeout=2).status_code == 200:
                    return self.url
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(
            f"the server did not start in {self.start_seconds:.0f}s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        """Kill the server and its children at once (SIGKILL), as a crash would."""
        assert self.proc is not None
        for pid in reversed(descendants(self.proc.pid)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait()

    def rss_bytes(self) -> int:
        """Resident memory of the server (Linux): its process and every descendant."""
        assert self.proc is not None
        return sum(_rss(pid) for pid in descendants(self.proc.pid))

    def __enter__(self) -> LangGraphServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LangGraphDevServer(LangGraphServer):
    """``langgraph dev`` (the in-memory runtime); ``jobs`` runs at once."""

    def command(self) -> list[str]:
        if not LANGGRAPH.exists():
            raise RuntimeError("langgraph dev needs langgraph-cli[inmem] in this environment")
        return [
            *(str(LANGGRAPH), "dev", "--port", str(self.port), "--no-browser", "--no-reload"),
            *("--n-jobs-per-worker", str(self.jobs)),
        ]


def descendants(pid: int) -> list[int]:
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            queue.extend(int(child) for child in task.read_text().split())
    return pids


def _rss(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # gone meanwhile
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
