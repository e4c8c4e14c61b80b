"""A cell that loads ``context`` from somewhere else: those lines are skipped, the rest is run.

Models trained on other REPL set-ups load the input themselves before working on it: the 0.5B
wrote ``with open('context.txt') as file: context = file.read()`` in 4 of 4 first cells on the
tuning seed, then sent the same cell back six times when it was refused, although the rest of
each cell was a right count. The sandbox has no files to open, and ``context`` already holds the
whole text, so such a load is taken off the cell (the model is told which lines) and the cell
runs on the real ``context``:

- ``context = <value that does not read context>`` (a file read, a pasted preview, a literal);
- ``with open(...) as f:`` whose body loads ``context``: the block gives way to its body.

An assignment that derives ``context`` from itself (``context = context[1000:2000]``) changes
what the code reads and is not taken off; the caller refuses it.

A pasted text can also run on until the reply is cut off: the 1.5B began a triple-quoted
string for ``context``, wrote made-up records to the end of its reply, and, told of the
unclosed string, pasted again.
Such a cell holds no code after the paste; :func:`pastes_cut_off` tells the caller so.
"""

from __future__ import annotations

import ast
import re

from pydantic import BaseModel, Field


class ContextLoads(BaseModel):
    """A cell with its loads of ``context`` taken off, and the lines taken off."""

    code: str
    skipped: list[str] = Field(default_factory=list)


def _reads(node: ast.AST, name: str) -> bool:
    return any(
        isinstance(child, ast.Name) and child.id == name and isinstance(child.ctx, ast.Load)
        for child in ast.walk(node)
    )


def _is_load(statement: ast.stmt, name: str) -> bool:
    """``name = value`` (or ``name: T = value``) with a value that does not read ``name``."""
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        targets = [statement.target]
    else:
        return False
    return (
        len(targets) == 1
        and isinstance(targets[0], ast.Name)
        and targets[0].id == name
        and not _reads(statement.value, name)  # type: ignore[arg-type]
    )


def _opens_a_file(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.With | ast.AsyncWith) and any(
        isinstance(item.context_expr, ast.Call)
        and isinstance(item.context_expr.func, ast.Name)
        and item.context_expr.func.id == "open"
        for item in statement.items
    )


# A skipped line is quoted back this long at most (a pasted preview can be thousands of chars).
QUOTE_CHARS = 80


def _first_line(statement: ast.stmt, lines: list[str]) -> str:
    line = lines[statement.lineno - 1].strip() if statement.lineno <= len(lines) else ""
    last = statement.end_lineno or statement.lineno
    if len(line) > QUOTE_CHARS or last > statement.lineno and not line.endswith(":"):
        line = line[:QUOTE_CHARS].rstrip() + " ..."
    return line


class _TakeOffLoads(ast.NodeTransformer):
    def __init__(self, name: str, lines: list[str]) -> None:
        self.name = name
        self.lines = lines
        self.skipped: list[str] = []

    def _statements(self, body: list[ast.stmt]) -> list[ast.stmt]:
        kept: list[ast.stmt] = []
        for statement in body:
            if _is_load(statement, self.name):
                self.skipped.append(_first_line(statement, self.lines))
                continue
            if _opens_a_file(statement) and any(
                _is_load(inner, self.name)
                for inner in ast.walk(statement)
                if isinstance(inner, ast.stmt)
            ):
                self.skipped.append(_first_line(statement, self.lines))
                kept.extend(self._statements(statement.body))  # type: ignore[attr-defined]
                continue
            kept.append(self.visit(statement))
        return kept

    def generic_visit(self, node: ast.AST) -> ast.AST:
        # Functions keep their own ``context`` (a parameter of that name is theirs to set).
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            return node
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                setattr(node, field, self._statements(body) or [ast.Pass()])
        for handler in getattr(node, "handlers", []) or []:
            handler.body = self._statements(handler.body) or [ast.Pass()]
        return node

    def run(self, tree: ast.Module) -> ast.Module:
        tree.body = self._statements(tree.body)
        return tree


def take_off_context_loads(code: str, name: str) -> ContextLoads:
    """``code`` without its loads of ``name`` (unchanged, comments and all, when it has none
    or does not parse)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return ContextLoads(code=code)
    rewriter = _TakeOffLoads(name, code.splitlines())
    tree = rewriter.run(tree)
    if not rewriter.skipped:
        return ContextLoads(code=code)
    return ContextLoads(code=ast.unparse(tree) + "\n", skipped=rewriter.skipped)


def pastes_cut_off(code: str, name: str) -> bool:
    """Whether ``code`` assigns ``name`` a triple-quoted string that never ends (the code
    does not parse, and no code follows the paste)."""
    start = re.search(
        rf"^[ \t]*{re.escape(name)}[ \t]*(?::[^=\n]*)?=[ \t]*[rRbBuU]?('''|\"\"\")",
        code,
        re.MULTILINE,
    )
    if start is None or start.group(1) in code[start.end() :]:
        return False
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return True
    return False


__all__ = ["ContextLoads", "pastes_cut_off", "take_off_context_loads"]
