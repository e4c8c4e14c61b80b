"""``code``: the truth of every question recomputed here from ``ast`` on the generated text, the
scoring of paths and callers, and ``--code-corpus`` folders."""

from __future__ import annotations

import ast
import re
import textwrap

import pytest

from rlm_graph.bench import BenchInputError, score_answer
from rlm_graph.bench.code_tasks import default_code_corpus, load_code_corpus, names_path
from rlm_graph.bench.corpus import default_corpus
from rlm_graph.bench.tasks import generate_sample

HEADER = re.compile(r"^# file: (.+)$", re.MULTILINE)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def split_files(text: str) -> dict[str, str]:
    heads = list(HEADER.finditer(text))
    return {
        h.group(1): text[h.end() + 1 : heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        for i, h in enumerate(heads)
    }


def _pos(node: ast.AST) -> tuple[int, int]:
    return (node.lineno, node.col_offset)


def _end(node: ast.AST) -> tuple[int, int]:
    return (node.end_lineno, node.end_col_offset)


def callers_by_span(source: str, name: str) -> set[str]:
    """Functions whose own span (from ``def``, decorators outside) holds a call of ``name``:
    the innermost such function for each call, by position rather than by tree walking."""
    tree = ast.parse(source)
    functions = [n for n in ast.walk(tree) if isinstance(n, FUNCTIONS)]
    out = set()
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call):
            continue
        func = call.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if called != name:
            continue
        around = [f for f in functions if _pos(f) <= _pos(call) and _end(call) <= _end(f)]
        if around:
            out.add(max(around, key=_pos).name)
    return out


def defining_files(files: dict[str, str], name: str) -> set[str]:
    return {
        path
        for path, source in files.items()
        if any(isinstance(n, FUNCTIONS) and n.name == name for n in ast.walk(ast.parse(source)))
    }


@pytest.mark.parametrize(
    ("length", "index"), [(8000, i) for i in range(6)] + [(32000, 0), (2000, 1)]
)
def test_code_truth_matches_ast_on_the_generated_text(length, index):
    sample = generate_sample("code", default_corpus(), length, index, seed=3)
    question = sample.code
    files = split_files(sample.text)
    assert list(files) == question.files and len(set(files)) == len(files)
    tree = {f.path: f.text for f in default_code_corpus().files}
    for path, source in files.items():
        assert source.rstrip("\n") == tree[path].rstrip("\n")  # whole files
    assert sample.tokens <= length
    assert question.kind == ("defines" if index % 2 == 0 else "callers")
    assert f"`{question.name}`" in sample.question
    if question.kind == "defines":
        assert defining_files(files, question.name) == {question.path}
        assert sample.expected == [question.path] == [sample.answer]
    else:
        callers = set().union(*(callers_by_span(src, question.name) for src in files.values()))
        assert callers == set(question.callers) == set(sample.expected)
        assert 1 <= len(callers) <= 4 and question.name not in callers
    assert score_answer(sample, sample.answer).correct


def test_path_answers_are_read_leniently_but_exactly():
    files = ["base_events.py", "events.py", "mime/text.py", "text.py.bak", "mime/base.py"]
    for answer in (
        "`events.py`",
        "It is defined in events.py.",
        "asyncio/events.py",
        "Lib\\asyncio\\events.py",
        "./events.py",
        "the asyncio.events module",
        "EVENTS.PY",
    ):
        assert names_path(answer, "events.py", files), answer
    for answer in ("base_events.py", "events2.py", "events.pyc", "events.py.bak is it", "none"):
        assert not names_path(answer, "events.py", files), answer
    assert names_path("email/mime/text.py", "mime/text.py", files)
    assert names_path("mime.text", "mime/text.py", files)
    # A shorter ending only when no other file shares it.
    assert names_path("base.py", "mime/base.py", files)
    assert not names_path("text.py", "mime/text.py", ["mime/text.py", "text.py"])


def test_callers_are_scored_by_recall_of_identifiers():
    sample = next(
        s
        for i in range(1, 20, 2)
        if len((s := generate_sample("code", default_corpus(), 8000, i, seed=9)).code.callers) >= 2
    )
    first, *rest = sample.code.callers
    partial = score_answer(sample, f"Only `{first}`.")
    assert not partial.correct and partial.recall == pytest.approx(1 / len(sample.code.callers))
    full = score_answer(sample, "\n".join(f"- Cls.{name}()" for name in sample.code.callers))
    assert full.correct and full.recall == 1.0
    # Names inside longer identifiers do not count.
    assert score_answer(sample, " ".join(f"{n}_x" for n in sample.code.callers)).recall == 0.0


def test_a_code_corpus_folder(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text(
        textwrap.dedent(
            """\
            def helper(x):
                return x + 1


            def user_one():
                return helper(1)


            class Thing:
                def method(self):
                    def inner():
                        return helper(2)
                    return inner
            """
        )
    )
    (pkg / "sub" / "b.py").write_text("from a import helper\n\n\ndef other():\n    helper(3)\n")
    (pkg / "broken.py").write_text("def (:\n")
    (pkg / "notes.txt").write_text("not code\n")
    tree = load_code_corpus(pkg)
    assert [f.path for f in tree.files] == ["a.py", "sub/b.py"] and tree.skipped == 1
    callers = {c for f in tree.files for c, called in f.calls.items() if "helper" in called}
    assert callers == {"user_one", "inner", "other"}  # inner, not method, calls it
    for index in range(4):
        sample = generate_sample("code", default_corpus(), 2000, index, code_corpus=tree)
        assert sample.code.files == ["a.py", "sub/b.py"] or sample.code.files == [
            "sub/b.py",
            "a.py",
        ]
        assert score_answer(sample, sample.answer).correct
    with pytest.raises(BenchInputError, match="not found"):
        load_code_corpus(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "x.txt").write_text("text\n")
    with pytest.raises(BenchInputError, match="no Python files"):
        load_code_corpus(empty)


async def test_the_rlm_methods_get_the_source_tree_as_a_folder():
    from rlm_graph.bench.methods import MethodSetup, run_method
    from rlm_graph.models import resolve_model
    from tests.unit.repl_fakes import cell, repl_model, transcripts

    pytest.importorskip("pydantic_monty")
    sample = generate_sample("code", default_corpus(), 8000, 0, seed=1)
    assert sample.code.kind == "defines" and sorted(sample.folder) == sorted(sample.code.files)
    joined = {path: text.strip() for path, text in split_files(sample.text).items()}
    assert joined == {path: text.strip() for path, text in sample.folder.items()}
    # Code that only works on a mapping of file name -> text finds the defining file.
    find = (
        "import re\nhits = [p for p, t in context.items() "
        f"if re.search(r'def {sample.code.name}\\b', t)]\nprint(type(context).__name__, hits)"
    )
    model = repl_model([cell(find), "FINAL_VAR(hits)"])
    setup = MethodSetup(root=resolve_model(model, window_tokens=4000), sub=resolve_model(model))
    outcome = await run_method("rlm-repl", setup, sample)
    assert f"dict ['{sample.code.path}']" in transcripts(model)[1]
    assert outcome.status == "done" and outcome.model_calls == 2
