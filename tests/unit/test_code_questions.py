"""Questions over a source folder: hits that say where they are, readers told their file, and
answers that are a place (a file) grounded by a passage in it. The source is the standard
library's, and every expected place comes from its syntax tree."""

from __future__ import annotations

import ast
import shutil
import sysconfig
from pathlib import Path

import pytest

from rlm_graph.context import Chunking, ContextView, open_context
from rlm_graph.evidence import Evidence, check, passage, passages_in, says
from rlm_graph.graph.name_search import name_pattern, search_names
from rlm_graph.testing import leaf_text

from .conftest import make_rlm, planner
from .test_evidence import reply

STDLIB = Path(sysconfig.get_paths()["stdlib"])
# Modules that ship with every Python, with methods, nested functions and module-level code.
MODULES = ["asyncio/base_subprocess.py", "json/decoder.py", "textwrap.py", "shlex.py"]
CHUNKING = Chunking(chunk_tokens=500, overlap_tokens=25)


@pytest.fixture(scope="module")
def source_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("src")
    for module in MODULES:
        target = root / module
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(STDLIB / module, target)
    return root


def _innermost(tree: ast.Module) -> dict[int, str]:
    """Line -> the innermost def or class whose body holds it (its own def line excluded)."""
    around: dict[int, str] = {}
    spans = [
        (node.lineno, node.end_lineno or node.lineno, node.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]
    for first, last, name in sorted(spans):  # outer first: inner ones overwrite
        for line in range(first + 1, last + 1):
            around[line] = name
    return around


def _called_names(tree: ast.Module) -> set[str]:
    return {
        node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
    }


@pytest.mark.parametrize("module", MODULES)
def test_a_hit_names_its_file_and_the_function_the_syntax_tree_puts_it_in(source_folder, module):
    view = open_context(source_folder)
    source = (STDLIB / module).read_text()
    tree = ast.parse(source)
    around = _innermost(tree)
    file_start = next(f.start for f in view.files() if f.path == module)
    checked = 0
    for name in sorted(_called_names(tree))[:40]:
        found = view.grep(rf"\b{name}\(", CHUNKING, target=f"file:{module}", max_hits=50)
        for hit in found.hits:
            assert hit.file == module
            if hit.text.startswith("#"):
                continue  # a comment after a body belongs to no node of the tree
            file_line = view.text(file_start, hit.offset).count("\n") + 1
            assert hit.scope.split(" ")[-1] == around.get(file_line, ""), (file_line, hit.text)
            checked += 1
    assert checked >= 20
    assert f"{module}, in function " in found.render() or not found.hits


def test_hits_in_a_single_file_say_no_file():
    text = (STDLIB / "textwrap.py").read_text()
    hits = open_context(text).grep("def dedent", CHUNKING).hits
    assert hits and hits[0].file is None and hits[0].scope == ""


def test_a_reader_of_a_files_middle_is_told_which_file_and_line(source_folder):
    view = open_context(source_folder)
    decoder = next(f for f in view.files() if f.path == "json/decoder.py")
    middle = decoder.start + decoder.size // 2
    middle = view.text(middle).index("\n") + middle + 1  # a line's start
    line = view.text(decoder.start, middle).count("\n") + 1
    inside = view.child(f"chars:{middle}-{middle + 500}")
    text = inside.reader_text()
    assert text.startswith(f"=== file: json/decoder.py, continued from its line {line} ===\n")
    assert text.endswith(inside.text())
    whole = view.child("file:json/decoder.py").reader_text()
    assert whole.startswith("=== file: json/decoder.py ===\n")
    assert open_context("plain text, no folder").reader_text() == "plain text, no folder"


def test_a_file_is_said_by_a_passage_located_in_it():
    question = "Which file defines the function `py_scanstring`?"
    passage = Evidence(
        quote="def py_scanstring(s, end, strict=True,", verified=True, file="json/decoder.py"
    )
    for answer in (
        "json/decoder.py",
        "decoder.py",
        "The function `py_scanstring` is defined in the file `json/decoder.py`.",
    ):
        assert says(answer, passage.located_text(), question=question), answer
    for wrong in (
        "textwrap.py",
        "The function `py_scanstring` is defined in the file `textwrap.py`.",
        "The function `py_scanstring` is defined in a file.",  # adds nothing the passage says
    ):
        assert not says(wrong, passage.located_text(), question=question), wrong


def test_a_restated_question_with_two_facts_is_not_said_by_a_passage_of_one():
    question = "In which office does Corvin Abernathy's manager work?"
    answer = "Corvin Abernathy reports to Bram Halloran. Bram Halloran works in the Corbury office."
    assert not says(answer, "Corvin Abernathy reports to Bram Halloran.", question=question)
    # Its names all held, the relation not: the passage says nothing of an office.
    middle = "Corvin Abernathy's manager works in the office of Bram Halloran."
    assert not says(middle, "Corvin Abernathy reports to Bram Halloran.", question=question)
    right = "Corvin Abernathy's manager works in the Corbury office."
    assert says(right, "Corvin Abernathy works in the Corbury office.", question=question)


def test_a_leaf_in_a_files_middle_grounds_the_files_name(source_folder):
    view = open_context(source_folder)
    span = view.files()[[f.path for f in view.files()].index("json/decoder.py")]
    start = view.text().index("def py_scanstring", span.start) - 200
    inside = view.child(f"chars:{start}-{start + 800}")
    question = "Which file defines the function `py_scanstring`?"
    right = "The function `py_scanstring` is defined in the file `json/decoder.py`."
    verdict = check(inside, reply(True, right, []), question)
    assert verdict.verified and verdict.evidence[0].file == "json/decoder.py"
    wrong = check(inside, reply(True, "It is defined in textwrap.py.", []), question)
    assert not wrong.verified


def test_the_question_names_are_searched_with_their_files_and_functions(source_folder):
    view = open_context(source_folder)
    question = "Which functions call `_check_proc`?"
    searched = search_names(view, question, CHUNKING)
    source = (STDLIB / "asyncio/base_subprocess.py").read_text()
    tree = ast.parse(source)
    callers = {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        and any(
            isinstance(c, ast.Call) and getattr(c.func, "attr", "") == "_check_proc"
            for c in ast.walk(node)
        )
    }
    assert callers and all(
        f"in function {name}): self._check_proc()" in searched.text for name in callers
    )
    assert "Lines that name `_check_proc`" in searched.text
    assert searched.chunks and len(searched.seen) == searched.text.count("base_subprocess.py")
    assert search_names(view, "What does this package do?", CHUNKING).text == ""


def test_a_name_is_matched_whole():
    view = open_context("x = _wait(1)\ny = _waiter(2)\n")
    assert [h.line for h in view.grep(name_pattern("_wait")).hits] == [1]


async def test_the_first_turn_lists_the_chunks_that_hold_the_name_and_its_line_grounds_a_file(
    source_folder,
):
    question = "Which file defines the function `py_scanstring`?"
    first_turns: list[str] = []

    def turns(messages, turn):
        first_turns.append(str(messages[1].content))
        return 'FINAL("json/decoder.py")'

    def no_leaf(messages):
        raise AssertionError(f"no leaf should run: {leaf_text(messages)[:80]}")

    result = await make_rlm(planner(turns, leaf=no_leaf)).ainvoke(
        {"query": question, "context": str(source_folder)}
    )
    first = first_turns[0]
    assert "Lines that name `py_scanstring` (searched before your first turn):" in first
    assert "json/decoder.py): def py_scanstring(" in first
    assert "Chunk targets that hold these lines: chunk:" in first
    assert result.answer == "json/decoder.py" and result.grounded
    assert {c["file"] for c in result.citations} == {"json/decoder.py"}
    # Only lines that name the function back it, not their neighbours in the same file.
    assert all("py_scanstring" in c["quote"] for c in result.citations), result.citations


async def test_a_file_where_the_name_does_not_stand_is_never_grounded(source_folder):
    question = "Which file defines the function `py_scanstring`?"

    def turns(messages, turn):
        return 'FINAL("textwrap.py")'

    result = await make_rlm(planner(turns)).ainvoke(
        {"query": question, "context": str(source_folder)}
    )
    assert result.answer == "not found" and not result.grounded


def _check_proc_calls(source_folder: Path) -> tuple[ContextView, str]:
    """The stretch of base_subprocess.py that holds every call of ``_check_proc``, and the
    question about its callers."""
    view = open_context(source_folder)
    span = next(f for f in view.files() if f.path == "asyncio/base_subprocess.py")
    text = view.text()
    first = text.index("self._check_proc()", span.start)
    last = text.rindex("self._check_proc()", span.start, span.end)
    inside = view.child(f"chars:{first - 600}-{last + 200}")
    return inside, "Which functions call `_check_proc`?"


def test_the_functions_around_a_call_are_grounded_as_its_callers(source_folder):
    inside, question = _check_proc_calls(source_folder)
    for caller in ("send_signal", "terminate", "kill"):
        right = check(inside, reply(True, caller, []), question)
        assert right.verified
        (item,) = right.evidence  # the call, with the def line above it or in its place
        assert "self._check_proc()" in item.quote
        assert f"def {caller}(" in item.quote or item.scope == f"function {caller}"
    for other in ("close", "_process_exited"):  # functions of the file that do not call it
        assert not check(inside, reply(True, other, []), question).verified


def test_a_list_of_callers_is_verified_name_by_name(source_folder):
    inside, question = _check_proc_calls(source_folder)
    for listed in ("send_signal, terminate and kill", "kill, send_signal, terminate"):
        verdict = check(inside, reply(True, listed, []), question)
        assert verdict.verified and len(verdict.evidence) == 3, listed
    assert not check(inside, reply(True, "send_signal, terminate, close", []), question).verified


async def test_callers_read_off_the_searched_lines_are_grounded_one_by_one(source_folder):
    # "use", not "call": the planner's own FINAL, not the call lines' answer (below)
    question = "Which functions use `_check_proc`?"

    def final(answer):
        return lambda messages, turn: f'FINAL("{answer}")'

    result = await make_rlm(planner(final("send_signal, terminate, kill"))).ainvoke(
        {"query": question, "context": str(source_folder)}
    )
    assert result.grounded
    assert {c["scope"] for c in result.citations} == {
        "function send_signal",
        "function terminate",
        "function kill",
    }
    one_invented = await make_rlm(planner(final("send_signal, close"))).ainvoke(
        {"query": question, "context": str(source_folder)}
    )
    assert not one_invented.grounded


def test_each_line_of_code_is_a_passage_of_its_own_while_wrapped_prose_is_one():
    code = "    def send_signal(self, signal):\n        self._check_proc()\n        self.x = y\n"
    view = open_context(code)
    assert [item.quote for item in passages_in(view)] == [
        "def send_signal(self, signal):",
        "self._check_proc()",
        "self.x = y",
    ]
    prose = "The ferry leaves the north quay at nine and\nreturns before noon every day.\n"
    assert [item.quote for item in passages_in(open_context(prose))] == [
        "The ferry leaves the north quay at nine and returns before noon every day."
    ]
    # A line that starts anew inside a wrapped sentence (a fact planted at a line break, as
    # the bench plants its needles) is a passage of its own, whatever the walk starts from.
    planted = (
        "However, in some cases it is desirable to\nforce a type to be formatted as a string, "
        "overriding its own\nEveryone who moves to Yarstead soon learns to swim below the "
        "weir.\ndefinition of formatting.\n"
    )
    assert [item.quote for item in passages_in(open_context(planted))] == [
        "However, in some cases it is desirable to force a type to be formatted as a string, "
        "overriding its own",
        "Everyone who moves to Yarstead soon learns to swim below the weir.",
        "definition of formatting.",
    ]


async def test_a_call_whose_task_is_a_placeholder_is_refused_with_the_question_to_ask(haystack):
    question = "What is the vault access code?"
    seen: list[str] = []

    def turns(messages, turn):
        seen.append(str(messages[-1].content))
        return 'CALL("task", "chunk:0")' if turn == 0 else 'FINAL("not found")'

    def no_leaf(messages):
        raise AssertionError("a placeholder task must not be run")

    await make_rlm(planner(turns, leaf=no_leaf)).ainvoke({"query": question, "context": haystack})
    assert f'ask the question itself: CALL("{question}", "chunk:0")' in seen[1]


def test_a_sentence_that_ends_its_line_runs_on_into_no_next_line():
    # Found on a bench run: a fact planted as a line of its own, cited by its own span, ran on
    # into the next line ("... stair street. from inspect import isclass").
    planted = "Everyone who moves to Yarstead soon learns to swim below the weir.\n"
    for after in ("from inspect import isclass\n", "definition of formatting.\n"):
        text = "Some prose before it ends here.\n" + planted + after
        view = open_context(text)
        start = text.index("Everyone")
        item = passage(view, start, start + len(planted) - 1)
        assert item.quote == planted.strip()
    # A sentence that wraps in lower case is still one passage.
    wrapped = "The ferry leaves the north quay at nine and\nreturns before noon every day.\n"
    view = open_context(wrapped)
    assert passage(view, 4, 9).quote == " ".join(wrapped.split())


def _callers_by_syntax_tree(source_folder: Path, name: str) -> set[str]:
    """The functions whose own bodies call ``name`` (as ``name(...)`` or ``obj.name(...)``),
    from each file's syntax tree."""
    found: set[str] = set()

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
                continue
            if isinstance(child, ast.ClassDef):
                visit(child, None)
                continue
            if isinstance(child, ast.Call) and function is not None:
                called = getattr(child.func, "id", None) or getattr(child.func, "attr", None)
                if called == name:
                    found.add(function)
            visit(child, function)

    for module in MODULES:
        visit(ast.parse((source_folder / module).read_text()), None)
    return found


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("Which functions call `_check_proc`?", "_check_proc"),
        ("What calls `_try_finish`?", "_try_finish"),
        ("Who calls `self.scan_once`?", "scan_once"),
        ("Where is get_token called from?", "get_token"),
        ("Which functions call `fill`?", "fill"),  # a name in lower case: `self.fill(` no contrast
    ],
)
async def test_callers_are_read_off_the_lines_that_call_the_name(source_folder, question, name):
    """Fresh seeds 25 and 26: 0 of 6 "which functions call" questions right, the 0.5B planner
    shown the call lines with their functions CALLing every chunk instead. The callers are
    read off those lines, each grounded on its own call, and no model is asked."""
    model = planner(lambda messages, turn: 'FINAL("close")')
    result = await make_rlm(model).ainvoke({"query": question, "context": str(source_folder)})
    expected = _callers_by_syntax_tree(source_folder, name)
    assert set(result.answer.split(", ")) == expected
    assert result.grounded and result.status == "done"
    assert {c["scope"] for c in result.citations} == {f"function {f}" for f in expected}
    assert all(name in c["quote"] for c in result.citations)
    assert model.calls == []


async def test_a_caller_its_call_line_does_not_back_is_left_out_and_kept_unverified(
    source_folder, monkeypatch
):
    """A name the call lines give but their grounding refuses is no caller in the answer; the
    whole list the lines gave is kept as ``unverified_answer``."""
    import rlm_graph.graph.callers as callers

    refused = "kill"
    grounded_by_lines = callers.citations

    def citations(answer, sources, question):
        return [] if answer == refused else grounded_by_lines(answer, sources, question)

    monkeypatch.setattr(callers, "citations", citations)
    model = planner(lambda messages, turn: 'FINAL("close")')
    result = await make_rlm(model).ainvoke(
        {"query": "Which functions call `_check_proc`?", "context": str(source_folder)}
    )
    expected = _callers_by_syntax_tree(source_folder, "_check_proc")
    assert refused in expected
    assert set(result.answer.split(", ")) == expected - {refused}
    assert set(result.unverified_answer.split(", ")) == expected
    assert f"function {refused}" not in {c["scope"] for c in result.citations}
    assert model.calls == []


@pytest.mark.parametrize(
    "question",
    [
        "Which file defines `_check_proc`?",
        "Which functions does `_check_proc` call?",  # what it calls, not its callers
        "Which functions call `no_such_function`?",  # nothing calls it: the planner looks
        "Which functions call `_print_tokens`?",  # called at module level only (shlex.py)
    ],
)
async def test_other_code_questions_go_to_the_planner(source_folder, question):
    model = planner(lambda messages, turn: 'FINAL("not found")')
    await make_rlm(model).ainvoke({"query": question, "context": str(source_folder)})
    assert model.calls  # the planner was asked
