"""``code``: questions over a real source tree, with the truth read from its syntax trees.

The tree is a folder of ``.py`` files (``--code-corpus PATH``); by default the ``asyncio``
package of the running Python's standard library (about 120k tokens in 33 files on 3.11, close to
the largest default length, and present in every install, where distributions split off
``idlelib`` and ``tkinter``). A sample's text is whole files, each led by a line
``# file: RELPATH`` (the path relative to the folder), in tree order from a seeded random file,
skipping any that would take the text past the length; a tree smaller than the length gives
all of it, never a file twice (a function defined twice has no one file).

Questions alternate (even samples first ask the one, odd the other; a sample whose files have
no candidate asks the other):

- ``defines``: "Which file defines the function `NAME`?": NAME is a def (function or method,
  no dunder) in exactly one included file; right when the answer names that path (case,
  ``./``, backslashes and ``.py`` aside; a longer path ending in it, the dotted module name, or
  a shorter ending no other included file shares).
- ``callers``: "Which functions call `NAME`?": NAME is defined in an included file and called
  (``NAME(...)`` or ``obj.NAME(...)``) in the body of 1 to ``MAX_CALLERS`` functions other
  than itself; a call belongs to the innermost def around it (decorators to the enclosing
  scope). The truth is those functions' names; recall is the share the answer names (as
  identifiers), right when it names all.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
import re
from pathlib import Path

from pydantic import BaseModel, Field

from rlm_graph.bench.corpus import tokens_to_bytes
from rlm_graph.bench.options import BenchInputError
from rlm_graph.bench.samples import CodeQuestion, TaskSample, sample_rng

DEFAULT_CODE_PACKAGE = "asyncio"
FILE_HEADER = "# file: {path}"
DEFINES_QUESTION = "Which file defines the function `{name}`?"
CALLERS_QUESTION = "Which functions call `{name}`?"
MAX_CALLERS = 4
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATHLIKE = re.compile(r"[\w./\\-]+")


class CodeFile(BaseModel):
    """One source file and what its syntax tree says."""

    path: str  # relative to the tree's folder, with "/"
    text: str
    defs: list[str]  # every def and async def, methods included, in order
    calls: dict[str, list[str]]  # function name -> the names it calls (sorted)


class CodeTree(BaseModel):
    name: str
    files: list[CodeFile] = Field(repr=False)
    skipped: int = 0  # not UTF-8 or not valid Python


class _Calls(ast.NodeVisitor):
    """Defs and, per def, the names its own body calls (nested defs keep theirs)."""

    def __init__(self) -> None:
        self.defs: list[str] = []
        self.calls: dict[str, set[str]] = {}
        self._stack: list[str] = []

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.defs.append(node.name)
        for decorator in node.decorator_list:  # run where the def stands, not inside it
            self.visit(decorator)
        self._stack.append(node.name)
        self.calls.setdefault(node.name, set())
        self.visit(node.args)
        if node.returns is not None:
            self.visit(node.returns)
        for statement in node.body:
            self.visit(statement)
        self._stack.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name and self._stack:
            self.calls[self._stack[-1]].add(name)
        self.generic_visit(node)


def analyse(source: str) -> tuple[list[str], dict[str, list[str]]]:
    """(defs, calls) of a module's source; raises SyntaxError / ValueError when it is not
    Python."""
    visitor = _Calls()
    visitor.visit(ast.parse(source))
    return visitor.defs, {name: sorted(names) for name, names in visitor.calls.items()}


def load_code_corpus(path: str | os.PathLike[str] | None = None) -> CodeTree:
    """Every ``.py`` file under a folder (sorted by path; hidden folders, non-UTF-8 and
    unparsable files left out), or the default standard-library package when None."""
    if path is None:
        return default_code_corpus()
    root = Path(path).expanduser()
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "not found"
        raise BenchInputError(f"code corpus {what}: {root}")
    return _load_tree(root, str(root))


@functools.cache
def default_code_corpus() -> CodeTree:
    import sys

    spec = importlib.util.find_spec(DEFAULT_CODE_PACKAGE)  # found, not imported
    if spec is None or not spec.submodule_search_locations:
        raise BenchInputError(f"the standard library's {DEFAULT_CODE_PACKAGE} package is missing")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    root = Path(next(iter(spec.submodule_search_locations)))
    return _load_tree(root, f"{DEFAULT_CODE_PACKAGE} (Python {version} standard library)")


def _load_tree(root: Path, name: str) -> CodeTree:
    files: list[CodeFile] = []
    skipped = 0
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        found += [Path(dirpath) / n for n in filenames if n.endswith(".py")]
    for file in sorted(found, key=lambda p: p.relative_to(root).as_posix()):
        try:
            text = file.read_bytes().decode("utf-8")
            defs, calls = analyse(text)
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            skipped += 1
            continue
        if text.strip():
            path = file.relative_to(root).as_posix()
            files.append(CodeFile(path=path, text=text, defs=defs, calls=calls))
    if not files:
        raise BenchInputError(f"code corpus has no Python files: {root}")
    return CodeTree(name=name, files=files, skipped=skipped)


def _block(file: CodeFile) -> str:
    return f"{FILE_HEADER.format(path=file.path)}\n{file.text.rstrip(chr(10))}\n"


def _choose_files(tree: CodeTree, budget: int, start: int) -> list[CodeFile]:
    n = len(tree.files)
    chosen: list[CodeFile] = []
    size = 0
    for i in range(n):
        file = tree.files[(start + i) % n]
        cost = len(_block(file).encode("utf-8")) + 1
        if size + cost <= budget:
            chosen.append(file)
            size += cost
    if not chosen:  # a length below every file: the smallest, whole
        chosen = [min(tree.files, key=lambda f: (len(f.text), f.path))]
    return chosen


def _public(name: str) -> bool:
    return not (name.startswith("__") and name.endswith("__"))


def defines_candidates(files: list[CodeFile]) -> dict[str, str]:
    """Function name -> its file, for the names defined in exactly one of ``files``."""
    where: dict[str, set[str]] = {}
    for file in files:
        for name in file.defs:
            where.setdefault(name, set()).add(file.path)
    return {name: next(iter(paths)) for name, paths in where.items() if len(paths) == 1}


def callers_of(files: list[CodeFile], name: str) -> list[str]:
    return sorted({caller for f in files for caller, called in f.calls.items() if name in called})


def callers_candidates(files: list[CodeFile]) -> dict[str, list[str]]:
    """Function name -> its callers, for names defined in ``files`` with 1 to
    ``MAX_CALLERS`` callers, none of them itself."""
    out: dict[str, list[str]] = {}
    for name in sorted({n for f in files for n in f.defs}):
        callers = callers_of(files, name)
        if 1 <= len(callers) <= MAX_CALLERS and name not in callers:
            out[name] = callers
    return out


def code_sample(tree: CodeTree, length: int, index: int, seed: int) -> TaskSample:
    rng = sample_rng(seed, "code", length, index)
    start = rng.randrange(len(tree.files))
    files = _choose_files(tree, tokens_to_bytes(length), start)
    kinds = ("defines", "callers") if index % 2 == 0 else ("callers", "defines")
    question: CodeQuestion | None = None
    for kind in kinds:
        if kind == "defines":
            defined = {n: p for n, p in defines_candidates(files).items() if _public(n)}
            if defined:
                name = rng.choice(sorted(defined))
                question = CodeQuestion(kind=kind, name=name, path=defined[name])
                break
        else:
            called = {n: c for n, c in callers_candidates(files).items() if _public(n)}
            if called:
                name = rng.choice(sorted(called))
                question = CodeQuestion(kind=kind, name=name, callers=called[name])
                break
    if question is None:
        raise BenchInputError(
            f"code corpus {tree.name}: no function defined in one file or called by a few"
        )
    question.files = [f.path for f in files]
    text = "\n".join(_block(f) for f in files)
    if question.kind == "defines":
        asked, expected = DEFINES_QUESTION.format(name=question.name), [question.path or ""]
    else:
        asked, expected = CALLERS_QUESTION.format(name=question.name), question.callers
    return TaskSample(
        task="code",
        length=length,
        index=index,
        seed=seed,
        question=asked,
        answer=", ".join(expected),
        expected=expected,
        code=question,
        corpus_offset=start,
        text=text,
        folder={f.path: f.text for f in files},
    )


def _path_forms(token: str) -> set[str]:
    """The ways a path-like word of an answer may name a file, without ``.py``, with "/"."""
    word = token.replace("\\", "/").strip(".,:;'\"`*()[]{}").lower()
    word = word.removeprefix("./")
    word = word.removesuffix(".py")
    forms = {word}
    if "/" not in word and "." in word:  # a dotted module name: asyncio.base_events
        forms.add(word.replace(".", "/"))
    return {f for f in forms if f}


def names_path(answer: str | None, path: str, files: list[str]) -> bool:
    """Whether ``answer`` names the file ``path`` among the included ``files``."""
    truth = path.lower().removesuffix(".py")
    others = [f.lower().removesuffix(".py") for f in files if f != path]
    for token in _PATHLIKE.findall(answer or ""):
        for form in _path_forms(token):
            if form == truth or form.endswith("/" + truth):
                return True
            # A shorter ending ("text.py" for "mime/text.py") only when no other file has it.
            if truth.endswith("/" + form) and not any(
                o == form or o.endswith("/" + form) for o in others
            ):
                return True
    return False


def score_code(sample: TaskSample, answer: str | None) -> tuple[bool, float | None]:
    """(correct, recall): defines: the path named (recall None); callers: the share of the
    callers named as identifiers, right when all are."""
    question = sample.code
    if question is None:
        return False, None
    if question.kind == "defines":
        return names_path(answer, question.path or "", question.files), None
    named = {word.lower() for word in _IDENTIFIER.findall(answer or "")}
    found = sum(caller.lower() in named for caller in question.callers)
    recall = found / len(question.callers) if question.callers else 0.0
    return bool(question.callers) and found == len(question.callers), recall
