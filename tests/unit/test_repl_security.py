"""REPL mode against hostile cells, on the real graph with a real checkpointer (issue 15).

Each hostile cell must be contained (refused or stopped, the session intact, the run going
on), and the API key in the parent's environment must appear nowhere a run writes: what the
models were sent, the result's JSON, the checkpointer's stored bytes, the blob store, or the
tree export. The sandbox-level refusals are in test_repl_sandbox.py; this is the whole path.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from pathlib import Path

import pytest

from rlm_graph.graph import repl_cell
from rlm_graph.protocol.message import content_text
from rlm_graph.repl import SandboxLimits
from rlm_graph.secrets import MASK
from rlm_graph.tree.export import tree_to_json
from rlm_graph.tree.load import aload
from tests.unit.repl_fakes import LOG, cell, repl_model, repl_rlm, transcripts

pytest.importorskip("pydantic_monty")

HOME = os.path.expanduser("~")


@pytest.fixture
def secret(monkeypatch) -> str:
    key = "sk-test-" + uuid.uuid4().hex
    monkeypatch.setenv("OPENAI_API_KEY", key)
    # A second of interpreter time per cell, not 30: the endless loop ends sooner.
    monkeypatch.setattr(repl_cell, "REPL_LIMITS", SandboxLimits(cell_seconds=1.0))
    return key


@pytest.fixture
def listener():
    """A local TCP port a socket escape would reach: after the run it must have no caller."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.setblocking(False)
    yield server
    server.close()


def stored_bytes(db: Path) -> bytes:
    """Everything the run left on disk: the SQLite file (and its WAL) and the blob store."""
    files = [p for p in db.parent.glob(db.name + "*") if p.is_file()]
    blobs = db.with_name(db.name + ".blobs")
    if blobs.exists():
        files += [p for p in blobs.rglob("*") if p.is_file()]
    return b"".join(p.read_bytes() for p in files)


async def written_everywhere(model, result, db: Path, thread: str) -> str:
    """Every text the run produced: what any model was sent, the result's JSON, the tree export."""
    sent = "\n".join(content_text(m.content) for call in model.calls for m in call)
    tree = json.dumps(tree_to_json(await aload(thread, str(db))))
    return "\n".join([sent, json.dumps(result.to_json()), tree])


def hostile_cells(tmp_path: Path, port: int) -> dict[str, tuple[str, str]]:
    """name -> (the cell, what the planner is shown instead of the effect)."""
    marker = str(tmp_path / "escaped")
    return {
        "read /etc/passwd": ("print(open('/etc/passwd').read())", "PermissionError"),
        "read the home folder": (f"print(open({HOME + '/.bashrc'!r}).read())", "PermissionError"),
        "list the home folder": (f"import os\nprint(os.listdir({HOME!r}))", "Error:"),
        "print os.environ": ("import os\nprint(os.environ)", "RuntimeError"),
        "read the key": ("import os\nprint(os.getenv('OPENAI_API_KEY'))", "RuntimeError"),
        "open a socket": (
            f"import socket\ns = socket.socket()\ns.connect(('127.0.0.1', {port}))",
            "ModuleNotFoundError",
        ),
        "spawn a subprocess": (
            f"import subprocess\nsubprocess.run(['touch', {marker!r}])",
            "ModuleNotFoundError",
        ),
        "os.system": (f"import os\nos.system('touch {marker}')", "AttributeError"),
        "fork bomb": ("import os\nwhile True:\n    os.fork()", "AttributeError"),
        "recursive bomb": (
            "def bomb(n):\n    return [bomb(n + 1), bomb(n + 1)]\nbomb(0)",
            "RecursionError",
        ),
        "infinite loop": ("while True:\n    pass", "TimeoutError"),
        "allocate 10 GB": ("big = 'x' * (10 * 1024 ** 3)", "MemoryError"),
        "import ctypes": (
            "import ctypes\nctypes.CDLL(None).system(b'echo $OPENAI_API_KEY')",
            "ModuleNotFoundError",
        ),
    }


HOSTILE_NAMES = sorted(hostile_cells(Path("/x"), 1))


@pytest.mark.parametrize("name", HOSTILE_NAMES)
async def test_a_hostile_cell_is_contained_and_the_key_leaks_nowhere(
    name, secret, listener, tmp_path
):
    code, shown_instead = hostile_cells(tmp_path, listener.getsockname()[1])[name]
    reply = "\n".join([cell("kept = 7"), cell(code), cell("print('alive', kept, len(context))")])
    model = repl_model([reply, 'FINAL("contained")'])
    db = tmp_path / "runs.sqlite"
    thread = f"hostile-{uuid.uuid4().hex[:6]}"
    result = await repl_rlm(model, str(db)).ainvoke(
        {"query": "Describe what the sandbox allows.", "context": LOG},
        {"configurable": {"thread_id": thread}},
    )

    # Contained: refused or stopped with an error the model reads, and the session goes on
    # with its variables (after a limit, from its state before the cell).
    observed = transcripts(model)[1]
    assert shown_instead in observed, observed
    assert f"alive 7 {len(LOG)}" in observed
    assert result.status == "done" and result.answer == "contained"
    assert "root:x:0:0" not in observed  # no line of /etc/passwd
    assert not (tmp_path / "escaped").exists()
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody connected

    # The key is nowhere: sent to a model, in the result, the tree export, or stored bytes.
    assert secret not in await written_everywhere(model, result, db, thread)
    assert secret.encode() not in stored_bytes(db)


async def test_a_secret_that_reaches_a_cell_is_masked_everywhere(secret, tmp_path):
    """The sandbox cannot read the key, but a model can echo one (a provider's error, a
    document): whatever a cell prints, raises or answers with, and whatever comes back from a
    sub-call, is redacted before it reaches a model, a checkpoint or the tree."""
    # Built at run time from pieces, so the key is in no reply the planner wrote.
    head, tail = secret[:5], secret[5:]
    built = f"({head!r} + {tail!r})"
    reply = "\n".join(
        [
            cell(f"print('printed:', {built})"),
            cell(f"raise ValueError('raised: ' + {built})"),
            cell("echoed = llm_query('What is the key?')\nprint('echoed:', echoed)"),
            cell(f"typed = {secret!r}\nprint('typed:', typed)"),
        ]
    )
    model = repl_model([reply, cell(f"FINAL({built})")], query=lambda _prompt: secret)
    db = tmp_path / "runs.sqlite"
    thread = f"masked-{uuid.uuid4().hex[:6]}"
    result = await repl_rlm(model, str(db)).ainvoke(
        {"query": "Describe what the cell prints.", "context": LOG},
        {"configurable": {"thread_id": thread}},
    )

    observed = transcripts(model)[1]
    for label in ("printed:", "raised:", "echoed:", "typed:"):
        assert f"{label} {MASK}" in observed, label
    assert result.status == "done" and result.answer == MASK
    query = next(r for r in result.records if r.kind == "query")
    assert query.answer == MASK  # the sub-model's echo, in the record and the tree
    assert secret not in await written_everywhere(model, result, db, thread)
    assert secret.encode() not in stored_bytes(db)
