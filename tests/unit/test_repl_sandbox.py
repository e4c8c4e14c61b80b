"""The REPL sandbox (rlm_graph.repl) on pydantic-monty: sessions, sub-call pauses, durable
state, limits, refused OS access and the Python subset models write."""

from __future__ import annotations

import os
import sys

import pytest

from rlm_graph.repl import (
    CallError,
    CellOutcome,
    MontySandbox,
    Sandbox,
    SandboxBusyError,
    SandboxLimits,
    SandboxSession,
    SandboxStateError,
    VariableError,
)

pytest.importorskip("pydantic_monty")

FAST = SandboxLimits(cell_seconds=2.0, memory_bytes=64 * 1024 * 1024, recursion_depth=200)


@pytest.fixture
async def sandbox():
    async with MontySandbox(max_workers=4) as sb:
        yield sb


@pytest.fixture
async def session(sandbox):
    s = await sandbox.start("alpha beta\ngamma 42\ndelta 7\n", FAST)
    yield s
    await s.close()


async def finished(session: SandboxSession, code: str) -> CellOutcome:
    outcome = await session.run(code)
    assert outcome.status == "finished", outcome
    return outcome


# -- sessions ---------------------------------------------------------------------------------


async def test_implements_the_interface(sandbox, session):
    assert isinstance(sandbox, Sandbox)
    assert isinstance(session, SandboxSession)


async def test_variables_and_functions_persist_across_cells(session):
    await finished(session, "x = 40\ndef twice(v):\n    return v * 2")
    out = await finished(session, "y = twice(x) + 2\nprint(y)")
    assert out.output == "82\n"
    assert (await finished(session, "y")).result == "82"
    assert out.cell == 2


async def test_print_is_captured_and_truncated_with_a_note(sandbox):
    s = await sandbox.start("", FAST.model_copy(update={"output_chars": 100}))
    try:
        out = await finished(s, "for i in range(50):\n    print('line', i)")
        assert out.output.startswith("line 0\nline 1\n")
        assert len(out.output) == 100
        full = sum(len(f"line {i}\n") for i in range(50))
        assert out.output_cut_chars == full - 100
        assert out.output_lines == 50
        # Cut at the characters and at the lines: the count of lines is what is said.
        assert "the cell printed 50 lines; the first 14 are shown" in out.render()
        few = await finished(s, "print('a' * 150)")
        assert few.output_lines == 1 and f"{151 - 100} more characters" in few.render()
        small = await finished(s, "print('ok')")
        assert small.output == "ok\n" and small.output_cut_chars == 0
        assert "truncated" not in small.render() and "cut" not in small.render()
    finally:
        await s.close()


async def test_many_short_lines_are_cut_to_a_few_and_counted(sandbox):
    # A model printed 137 matches, one a line, then counted them by eye: it is told the count.
    s = await sandbox.start("", FAST)
    try:
        out = await finished(s, "for i in range(137):\n    print(i, end='')\n    print('.')")
        assert out.output_cut_chars == 0 and out.output_lines == 137
        shown = out.render()
        assert shown.startswith("0.\n1.\n") and "\n20." not in shown and "19." in shown
        assert "the cell printed 137 lines; the first 20 are shown" in shown
    finally:
        await s.close()


async def test_an_exception_is_shown_and_the_session_goes_on(session):
    out = await finished(session, "a = 1\nb = {}['missing']\nc = 3")
    assert out.error_kind == "exception" and not out.ok
    assert "KeyError" in out.error and "line 2" in out.error
    assert not out.rolled_back
    assert (await finished(session, "a")).result == "1"  # assigned before the raise
    assert "NameError" in (await finished(session, "c")).error
    syntax = await finished(session, "x = (")
    assert syntax.error_kind == "syntax" and "SyntaxError" in syntax.error
    assert (await finished(session, "a + 1")).result == "2"


async def test_read_variable_for_final_var(session):
    await finished(session, "answer = 'forty-two'\ncounts = {'a': 2}\nn = 7")
    assert await session.read_variable("answer") == "forty-two"
    assert await session.read_variable("counts") == "{'a': 2}"
    assert await session.read_variable("n") == "7"
    with pytest.raises(VariableError):
        await session.read_variable("nope")
    with pytest.raises(VariableError):
        await session.read_variable("n; import os")


async def test_collection_size_tells_a_collection_from_a_value(session):
    await finished(session, "rows = [(1, 'a'), (2, 'b')]\nseen = {'x'}\ncounts = {'a': 2}\nn = 7")
    assert await session.collection_size("rows") == ("list", 2)
    assert await session.collection_size("seen") == ("set", 1)
    assert await session.collection_size("counts") == ("dict", 1)
    assert await session.collection_size("n") is None
    assert await session.collection_size("context") is None  # a str is a value
    with pytest.raises(VariableError):
        await session.collection_size("nope")
    with pytest.raises(VariableError):
        await session.collection_size("len(n)")


# -- the code's own answer --------------------------------------------------------------------


@pytest.mark.parametrize("call", ["FINAL", "FINAL_VAR"])
async def test_final_called_in_code_is_the_cells_answer_and_the_cell_goes_on(session, call):
    # Small models write ``print(FINAL(n))`` inside their code: the value is the answer.
    code = f"n = len(context.splitlines())\nprint({call}(n))\nprint('after')"
    out = await finished(session, code)
    assert out.ok and out.final == "3" and out.output == "None\nafter\n"
    # The last call wins; a str is the answer as it is; the next cell starts without one.
    out = await finished(session, "FINAL(1)\nFINAL('gamma 42')")
    assert out.final == "gamma 42"
    assert (await finished(session, "x = 1")).final is None


async def test_final_with_wrong_arguments_is_a_type_error_in_the_cell(session):
    out = await finished(session, "FINAL(1, 2)")
    assert out.final is None and "TypeError" in (out.error or "")


async def test_a_final_before_a_pause_survives_in_bytes():
    async with MontySandbox() as first:
        s = await first.start("alpha\n", FAST)
        paused = await s.run("FINAL(len(context))\nnote = llm_query('why?')")
        assert paused.status == "paused" and paused.final == "6"
        state = await s.state()
        await s.close()
    async with MontySandbox() as second:
        s = await second.restore(state, "alpha\n")
        done = await s.resume({p.id: "because" for p in s.pending})
        assert done.ok and done.final == "6"
        await s.close()


# -- sub-calls ---------------------------------------------------------------------------------


async def test_llm_query_pauses_and_the_answer_is_used_in_the_same_cell(session):
    code = (
        "print('before')\n"
        "verdict = llm_query('Is 42 even? ' + context.splitlines()[1])\n"
        "if verdict == 'yes':\n"
        "    print('branch yes')\n"
        "else:\n"
        "    print('branch no')\n"
        "verdict"
    )
    paused = await session.run(code)
    assert paused.status == "paused" and paused.output == "before\n"
    assert [(p.function, p.args) for p in paused.pending] == [
        ("llm_query", {"prompt": "Is 42 even? gamma 42"})
    ]
    assert session.paused
    with pytest.raises(SandboxBusyError):
        await session.run("1")
    done = await session.resume({paused.pending[0].id: "yes"})
    assert done.status == "finished" and done.ok
    assert done.output == "before\nbranch yes\n"
    assert done.result == "'yes'"
    assert not session.paused


async def test_llm_query_batched_pends_all_calls_at_once(session):
    paused = await session.run(
        "prompts = [f'summarise part {i}' for i in range(5)]\n"
        "answers = llm_query_batched(prompts)\n"
        "print(len(answers), answers[0], answers[-1])"
    )
    assert paused.status == "paused"
    assert len(paused.pending) == 5
    assert [p.batch_index for p in paused.pending] == [0, 1, 2, 3, 4]
    assert [p.args["prompt"] for p in paused.pending] == [f"summarise part {i}" for i in range(5)]
    assert len({p.id for p in paused.pending}) == 5
    done = await session.resume({p.id: f"answer {p.batch_index}" for p in paused.pending})
    assert done.output == "5 answer 0 answer 4\n"


async def test_rlm_query_and_its_batch(session):
    paused = await session.run("r = rlm_query('count the digits', text=context[:20])")
    assert paused.pending[0].function == "rlm_query"
    assert paused.pending[0].args == {"task": "count the digits", "text": "alpha beta\ngamma 42\n"}
    done = await session.resume({paused.pending[0].id: "2"})
    assert done.ok
    paused = await session.run("rs = rlm_query_batched([('t1', 'x'), ('t2', 'y')])\nrs")
    assert [p.args for p in paused.pending] == [
        {"task": "t1", "text": "x"},
        {"task": "t2", "text": "y"},
    ]
    done = await session.resume({p.id: p.args["task"].upper() for p in paused.pending})
    assert done.result == "['T1', 'T2']"


async def test_sub_call_misuse_is_an_error_the_code_can_read(session):
    bad = await finished(session, "llm_query(42)")
    assert "TypeError" in bad.error and "must be str" in bad.error
    bad = await finished(session, "llm_query_batched('not a list')")
    assert "TypeError" in bad.error
    bad = await finished(session, "llm_query('a', model='big')")
    assert "unexpected keyword argument 'model'" in bad.error
    empty = await finished(session, "llm_query_batched([])")
    assert empty.result == "[]"
    typo = await finished(session, "llm_querry('hi')")
    assert "NameError" in typo.error
    # the function as a value still pauses when called
    paused = await session.run("f = llm_query\nf('via alias')")
    assert paused.pending[0].args == {"prompt": "via alias"}
    await session.resume({paused.pending[0].id: "ok"})


async def test_a_failed_sub_call_raises_inside_the_cell(session):
    paused = await session.run(
        "try:\n    r = llm_query('q')\nexcept RuntimeError as e:\n    r = 'caught: ' + str(e)\nr"
    )
    done = await session.resume({paused.pending[0].id: CallError(message="call budget spent")})
    assert done.result == "'caught: call budget spent'"
    paused = await session.run("llm_query_batched(['a', 'b'])")
    done = await session.resume(
        {paused.pending[0].id: "fine", paused.pending[1].id: CallError(message="too big")}
    )
    assert "RuntimeError" in done.error and "item 1: too big" in done.error


async def test_resume_wants_exactly_the_pending_answers(session):
    paused = await session.run("llm_query_batched(['a', 'b'])")
    with pytest.raises(KeyError):
        await session.resume({paused.pending[0].id: "only one"})
    with pytest.raises(KeyError):
        await session.resume({p.id: "x" for p in paused.pending} | {"c9.9": "extra"})
    done = await session.resume({p.id: "x" for p in paused.pending})
    assert done.result == "['x', 'x']"
    with pytest.raises(SandboxBusyError):
        await session.resume({})


# -- durable state -----------------------------------------------------------------------------


async def test_a_paused_cell_survives_in_bytes_and_resumes_in_a_new_sandbox():
    context = "record: ok\n" * 100_000  # 1.1 MB
    async with MontySandbox() as first:
        s = await first.start(context, FAST)
        await finished(s, "lines = context.splitlines()[:3]\ntotal = len(context)")
        paused = await s.run(
            "print('asking')\nparts = llm_query_batched(lines)\nprint('got', parts)\ntotal"
        )
        state = await s.state()
        pending = paused.pending
        await s.close()
    # the context is cut out of the state. What stays grows with the peak object count
    # (monty's dump keeps ~1 byte per freed heap slot: splitlines made 100k strings).
    assert context.encode() not in state
    assert len(state) < len(context) // 4
    async with MontySandbox() as second:
        with pytest.raises(SandboxStateError):
            await second.restore(state, "another context " * 1000)
        s = await second.restore(state, context)
        assert s.paused and s.pending == pending
        done = await s.resume({p.id: f"a{p.batch_index}" for p in pending})
        assert done.output == "asking\ngot ['a0', 'a1', 'a2']\n"
        assert done.result == str(len(context))
        assert await s.read_variable("lines") == str(["record: ok"] * 3)
        idle = await s.state()
        await s.close()
        assert context.encode() not in idle and len(idle) < len(context) // 4
        again = await second.restore(idle, context)
        assert (await finished(again, "parts")).result == "['a0', 'a1', 'a2']"
        assert (await finished(again, "len(context)")).result == str(len(context))
        await again.close()


async def test_a_fresh_session_state_stays_small_with_a_big_context(sandbox):
    context = "0123456789abcdef" * 65_536  # 1 MiB
    s = await sandbox.start(context, FAST)
    await finished(s, "n = len(context)\nhead = context[:100]")
    state = await s.state()
    assert len(state) < 10_000
    restored = await sandbox.restore(state, context)
    assert (await finished(restored, "n, head[:4]")).result == repr((len(context), "0123"))
    await s.close()
    await restored.close()


async def test_a_limit_hit_after_a_restore_rolls_back_to_before_the_cell(sandbox):
    s = await sandbox.start("ctx", FAST)
    await finished(s, "keep = 'before'")
    await s.run("keep = 'during'\nx = llm_query('q')\nwhile True:\n    pass")
    state = await s.state()
    await s.close()
    s = await sandbox.restore(state, "ctx")
    out = await s.resume({s.pending[0].id: "a"})
    assert out.error_kind == "timeout" and out.rolled_back
    assert (await finished(s, "keep")).result == "'before'"
    await s.close()


# -- limits ------------------------------------------------------------------------------------


async def test_an_infinite_loop_is_stopped_by_the_time_limit(sandbox):
    s = await sandbox.start("", FAST.model_copy(update={"cell_seconds": 0.5}))
    await finished(s, "kept = 1")
    out = await finished(s, "kept = 2\nwhile True:\n    pass")
    assert out.error_kind == "timeout" and out.rolled_back
    assert "TimeoutError" in out.error
    assert "restored to its state before this cell" in out.render()
    assert (await finished(s, "kept")).result == "1"
    caught = await finished(s, "try:\n    while True:\n        pass\nexcept Exception:\n    pass")
    assert caught.error_kind == "timeout"  # the limit cannot be caught by the code
    await s.close()


async def test_a_huge_allocation_is_stopped_by_the_memory_limit(session):
    out = await finished(session, "big = 'x' * (10 ** 10)")
    assert out.error_kind == "memory" and "MemoryError" in out.error
    out = await finished(session, "grow = []\nwhile True:\n    grow.append('y' * 10000)")
    assert out.error_kind == "memory" and out.rolled_back
    # rolled back: the 64 MB list is gone and the session works
    assert "NameError" in (await finished(session, "grow")).error
    assert (await finished(session, "sum(range(10))")).result == "45"


async def test_deep_recursion_is_stopped(session):
    out = await finished(session, "def f(n):\n    return f(n + 1)\nf(0)")
    assert "RecursionError" in out.error
    assert (await finished(session, "def g(n):\n    return 0 if n == 0 else g(n - 1)\ng(150)")).ok


async def test_sleep_does_not_hold_the_worker(session):
    import time

    start = time.monotonic()
    await finished(session, "import time\ntime.sleep(30)")
    assert time.monotonic() - start < 5


# -- no OS access ------------------------------------------------------------------------------

HOSTILE = {
    "read /etc/passwd": ("open('/etc/passwd').read()", "PermissionError"),
    "pathlib read": (
        "from pathlib import Path\nPath('/etc/passwd').read_text()",
        "PermissionError",
    ),
    "home dir": ("import os\nos.listdir(os.path.expanduser('~'))", "Error"),
    "list root": ("import os\nos.listdir('/')", "Error"),
    "write a file": ("open('/tmp/rlm-sandbox-escape', 'w').write('x')", "Error"),
    "os.environ": ("import os\nprint(os.environ)", "RuntimeError"),
    "os.getenv": ("import os\nos.getenv('RLM_SANDBOX_TEST_SECRET')", "RuntimeError"),
    "socket": ("import socket\nsocket.socket().connect(('127.0.0.1', 80))", "ModuleNotFoundError"),
    "urllib": ("import urllib.request", "ModuleNotFoundError"),
    "subprocess": ("import subprocess\nsubprocess.run(['id'])", "ModuleNotFoundError"),
    "os.system": ("import os\nos.system('id')", "AttributeError"),
    "fork": ("import os\nos.fork()", "AttributeError"),
    "ctypes": ("import ctypes", "ModuleNotFoundError"),
    "__import__": ("__import__('os')", "NameError"),
    "class escape": ("().__class__.__bases__[0].__subclasses__()", "AttributeError"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
async def test_os_access_is_refused_with_a_readable_error(session, name, monkeypatch):
    secret = "sk-rlm-sandbox-test-0123456789"
    monkeypatch.setenv("RLM_SANDBOX_TEST_SECRET", secret)
    code, expected = HOSTILE[name]
    out = await finished(session, code)
    assert out.error is not None and expected in out.error, out.error
    assert not out.rolled_back
    assert secret not in out.render()
    assert not os.path.exists("/tmp/rlm-sandbox-escape")
    assert (await finished(session, "1 + 1")).result == "2"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
async def test_the_worker_process_has_an_empty_environment(sandbox, monkeypatch):
    monkeypatch.setenv("RLM_SANDBOX_TEST_SECRET", "sk-should-not-be-inherited")
    s = await sandbox.start("", FAST)
    pid = s.worker_pid
    assert pid is not None and pid != os.getpid()
    with open(f"/proc/{pid}/environ", "rb") as fh:
        assert b"sk-should-not-be-inherited" not in fh.read()
    await s.close()


# -- the context -------------------------------------------------------------------------------


async def test_context_as_text(sandbox):
    text = "id=1 label=spam\nid=2 label=ham\nid=3 label=spam\n"
    s = await sandbox.start(text, FAST)
    assert (await finished(s, "len(context)")).result == str(len(text))
    assert (await finished(s, "context[:4]")).result == "'id=1'"
    assert (await finished(s, "len(context.splitlines())")).result == "3"
    out = await finished(s, "import re\nre.findall(r'label=(\\w+)', context)")
    assert out.result == "['spam', 'ham', 'spam']"
    assert (await finished(s, "context.count('spam')")).result == "2"
    await s.close()


async def test_context_as_a_folder(sandbox):
    folder = {"README.md": "# Title\nhello\n", "src/app.py": "print('hi')\n", "data/x.csv": "a,b\n"}
    s = await sandbox.start(folder, FAST)
    assert (await finished(s, "sorted(context)")).result == repr(sorted(folder))
    assert (await finished(s, "len(context)")).result == "3"
    out = await finished(s, "{name: len(text.splitlines()) for name, text in context.items()}")
    assert out.result == repr({"README.md": 2, "src/app.py": 1, "data/x.csv": 1})
    assert (await finished(s, "context['src/app.py']")).result == repr("print('hi')\n")
    assert (
        await finished(s, "[n for n in context if n.endswith('.py')]")
    ).result == "['src/app.py']"
    await s.close()


# -- the Python subset models write ---------------------------------------------------------------

SUPPORTED = {
    "list comprehension": ("[x * x for x in range(5) if x % 2]", [1, 9]),
    "dict comprehension": ("{k: v for k, v in zip('ab', range(2))}", {"a": 0, "b": 1}),
    "generator expression": ("sum(x for x in range(10))", 45),
    "re": (
        "import re\n(re.findall(r'\\d+', 'a12 b3'), re.sub(r'\\s+', ' ', 'a  b'), "
        "[m.group(1) for m in re.finditer(r'(\\w):', 'a: b:')], "
        "bool(re.search('X', 'x', re.IGNORECASE)))",
        (["12", "3"], "a b", ["a", "b"], True),
    ),
    "json": ("import json\njson.loads(json.dumps({'a': [1, None]}))", {"a": [1, None]}),
    "Counter": (
        "from collections import Counter\nc = Counter('abracadabra')\nc['z'] += 1\n"
        "c.most_common(2)",
        [("a", 5), ("b", 2)],
    ),
    "defaultdict": (
        "from collections import defaultdict\nd = defaultdict(list)\nd['k'].append(1)\ndict(d)",
        {"k": [1]},
    ),
    "deque and namedtuple": (
        "from collections import deque, namedtuple\nP = namedtuple('P', 'x y')\n"
        "(list(deque([1, 2], maxlen=5)), P(1, 2).y)",
        ([1, 2], 2),
    ),
    "string methods": (
        "s = ' Hello, World '\n(s.strip().lower(), s.split(','), s.replace('l', 'L').strip(), "
        "'x'.join('ab'), s.find('W'), '42'.zfill(4), 'a\\nb'.splitlines(), s.strip().startswith('H'))",
        (
            "hello, world",
            [" Hello", " World "],
            "HeLLo, WorLd",
            "axb",
            8,
            "0042",
            ["a", "b"],
            True,
        ),
    ),
    "slicing and len": (
        "s = 'abcdef'\n(s[1:3], s[::-1], s[-2:], len(s))",
        ("bc", "fedcba", "ef", 6),
    ),
    "f-strings": (
        "x = 3.14159\nf'{x:.2f}|{7:>3}|{1000000:,}|{x=:.1f}'",
        "3.14|  7|1,000,000|x=3.1",
    ),
    "sorted with key and lambda": (
        "sorted(['bb', 'a', 'ccc'], key=lambda s: (-len(s), s))",
        ["ccc", "bb", "a"],
    ),
    "try/except/finally": (
        "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    r = 'caught'\nfinally:\n    r += '!'\nr",
        "caught!",
    ),
    "class without a base": (
        "class Acc:\n    def __init__(self):\n        self.n = 0\n    def add(self, k):\n"
        "        self.n += k\n        return self\nAcc().add(2).add(3).n",
        5,
    ),
    "dataclass": (
        "from dataclasses import dataclass\n@dataclass\nclass P:\n    x: int\n    y: int = 0\nP(1).y",
        0,
    ),
    "math": ("import math\n(math.sqrt(16), math.floor(2.5), math.ceil(2.1))", (4.0, 2, 3)),
    "closures and nonlocal": (
        "def mk():\n    c = 0\n    def inc():\n        nonlocal c\n        c += 1\n        return c\n"
        "    return inc\nf = mk()\nf()\nf()",
        2,
    ),
    "walrus, star unpacking, match": (
        "a, *b = [1, 2, 3]\nmatch a:\n    case 1:\n        m = 'one'\n"
        "[y for x in b if (y := x * 2) > 4], m",
        ([6], "one"),
    ),
    "itertools and functools": (
        "import itertools, functools\n(list(itertools.chain([1], [2])), "
        "functools.reduce(lambda a, b: a + b, [1, 2, 3]))",
        ([1, 2], 6),
    ),
    "%-format and str.format": ("'%s=%d' % ('a', 3) + ' ' + '{}-{:>2}'.format('x', 7)", "a=3 x- 7"),
    "top-level await": ("async def f():\n    return 5\nawait f()", 5),
}


@pytest.mark.parametrize("name", sorted(SUPPORTED))
async def test_supported_python(session, name):
    code, expected = SUPPORTED[name]
    out = await finished(session, code)
    assert out.ok, out.error
    assert out.result == repr(expected)


# Each is common in model-written code and fails in pydantic-monty 1.4 (see docs/repl-sandbox.md).
# If one starts passing, monty grew the feature: move it to SUPPORTED and update the doc.
UNSUPPORTED = {
    "del statement": ("x = 1\ndel x", "NotImplementedError"),
    "class inheritance": ("class E(Exception):\n    pass", "NotImplementedError"),
    "method decorators": (
        "class A:\n    @property\n    def p(self):\n        return 1",
        "NotImplementedError",
    ),
    "yield": ("def g():\n    yield 1\nlist(g())", "NotImplementedError"),
    "OrderedDict": ("from collections import OrderedDict", "ImportError"),
    "heapq": ("import heapq", "ModuleNotFoundError"),
    "statistics": ("import statistics", "ModuleNotFoundError"),
    "string module": ("import string", "ModuleNotFoundError"),
    "textwrap": ("import textwrap", "ModuleNotFoundError"),
    "io / csv": ("import io", "ModuleNotFoundError"),
    "dir / globals / vars": ("dir()", "NameError"),
    "map with a sub-call": ("list(map(llm_query, ['a']))", "NotImplementedError"),
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
async def test_unsupported_python_fails_cleanly(session, name):
    code, expected = UNSUPPORTED[name]
    out = await finished(session, code)
    assert out.error is not None and expected in out.error, out
    assert (await finished(session, "1")).result == "1"


# -- the host's prelude -----------------------------------------------------------------------


async def test_a_prelude_is_bound_before_the_first_cell_and_survives_a_restore():
    prelude = "def twice(x):\n    return 2 * x\n"
    async with MontySandbox() as first:
        s = await first.start("abc", FAST, prelude)
        out = await finished(s, "print(twice(len(context)))")
        assert out.cell == 1 and out.output == "6\n"  # the prelude is not a cell
        state = await s.state()
        await s.close()
    async with MontySandbox() as second:
        s = await second.restore(state, "abc")
        try:
            assert (await finished(s, "print(twice(5))")).output == "10\n"
        finally:
            await s.close()
