"""REPL mode's protocol: a model reply -> the code cells to run and the final answer, if any.

The model writes fenced ```` ```repl ```` blocks (```` ```python ```` is accepted too, and so is
an untagged block that is a program) and ends with ``FINAL(answer)`` or ``FINAL_VAR(name)`` on
a line of its own. Models also put the final line as the last line *inside* a block; there it
is part of the program: it is taken off the code and applied after the block runs
(``FINAL(expression)`` is evaluated by the code itself).

Parsing never raises: a reply with nothing to do comes back with an error for the model.
Small models make three mistakes often enough to get their own short corrections: a bare
value with no FINAL (told to reply ``FINAL(value)``), an error message given as the answer,
and a placeholder copied from the instructions (``FINAL(<answer>)``, ``FINAL_VAR(<variable>)``,
``FINAL(answer)`` where no ``answer`` variable exists). ``FINAL(name)`` in prose answers with
the variable ``name`` when the code set one, as it does inside a block.
"""

from __future__ import annotations

import ast
import re

from pydantic import BaseModel, Field

from rlm_graph import prompts
from rlm_graph.context.layout import ISO_DATE

# More blocks than this in one reply: the rest are not run (the model is told).
MAX_CELLS_PER_REPLY = 8
# The variable a ``FINAL(expression)`` inside a block is assigned to, then read back.
FINAL_EXPRESSION_VAR = "final_answer_value"

_FENCE = re.compile(r"```[ \t]*(\w*)[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
CODE_TAGS = frozenset({"repl", "python", "py"})
# Any other fenced block (output the model imagined, plain text): not code, and not read for
# FINAL either.
_OTHER_FENCE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_FINAL_VAR = re.compile(r"^[ \t]*FINAL_VAR\(\s*(['\"]?)([A-Za-z_]\w*)\1\s*\)[ \t]*$", re.M)
# FINAL_VAR with anything else between the brackets: a placeholder, an expression, nothing.
_FINAL_VAR_ANY = re.compile(r"^[ \t]*FINAL_VAR\((.*)$", re.M)
_FINAL = re.compile(r"^[ \t]*FINAL\(", re.M)
# What an error looks like when a model hands one over as its answer.
_ERROR_TEXT = re.compile(r"^\s*(?i:error:|\[?traceback\b)|\b[A-Z]\w*(?:Error|Exception): ")
# Words the instructions (ours, or the paper's) put where the answer goes: never an answer.
PLACEHOLDER_WORDS = frozenset(
    {"answer", "your answer", "your final answer", "your final answer here", "..."}
)
# A reply this short on one line, with no code, is taken for a value the model meant to give
# when it is one word or holds a number ("42", "Paris", "12 records"; not "Let me think.").
BARE_VALUE_CHARS = 40
BARE_VALUE_WORDS = 3

# The corrections a reply gets (their text is in ``prompts``; these names are kept for callers).
NO_CODE_ERROR = prompts.REPL_NO_CODE
FINAL_WITH_CODE = prompts.REPL_FINAL_WITH_CODE
FINAL_IS_ERROR = prompts.REPL_FINAL_IS_ERROR
FINAL_IS_PLACEHOLDER = prompts.REPL_FINAL_IS_PLACEHOLDER
FINAL_VAR_NOT_A_NAME = prompts.REPL_FINAL_VAR_NOT_A_NAME


def bare_value_error(value: str) -> str:
    """The correction for a reply that is only a value: how to give it as the answer."""
    return prompts.REPL_BARE_VALUE.format(value=value)


def is_placeholder(argument: str) -> bool:
    """``<answer>``, ``<variable>``, ``...``: a stand-in from instructions, not a value."""
    text = argument.strip().strip("'\"").strip()
    return (text.startswith("<") and text.endswith(">")) or text.lower() in PLACEHOLDER_WORDS


def looks_like_error(answer: str) -> bool:
    return _ERROR_TEXT.search(answer) is not None


class ReplTurn(BaseModel):
    """What one REPL reply asks for: cells to run in order, then perhaps a final answer."""

    cells: list[str] = Field(default_factory=list)
    final: str | None = None
    """A literal answer (``FINAL(...)``)."""

    final_var: str | None = None
    """A variable to answer with, read after the cells ran (``FINAL_VAR(name)``)."""

    final_in_code: bool = False
    """The final line stood inside a block: the program meant it, so it follows the cells."""

    final_is_name: bool = False
    """``final`` is a bare name written in prose (``FINAL(count)``): the variable's value when
    the code set one, else the text itself (unless it is a placeholder such as ``answer``)."""

    errors: list[str] = Field(default_factory=list)

    @property
    def has_final(self) -> bool:
        return self.final is not None or self.final_var is not None


def _literal_or_text(argument: str) -> str:
    """``FINAL("...")``'s string literal, or the argument as written (``FINAL(42)``)."""
    argument = argument.strip()
    try:
        value = ast.literal_eval(argument)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return argument
    return value if isinstance(value, str) else argument


def _final_argument(text: str, start: int) -> str | None:
    """The text between ``FINAL(`` at ``start`` and its closing parenthesis (the last one of
    the reply when brackets do not balance: an answer may hold one)."""
    depth, quote, i = 0, "", start
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return text[start:i]
            depth -= 1
        i += 1
    end = text.rfind(")")
    return text[start:end] if end >= start else None


def _is_literal(argument: str) -> bool:
    try:
        ast.literal_eval(argument.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


class _CellFinal(BaseModel):
    """What the last line of a block asks for, and the block without that line."""

    code: str
    final: str | None = None
    final_var: str | None = None
    error: str | None = None


def _final_in_cell(code: str) -> _CellFinal:
    """A block whose last line is FINAL_VAR(name) / FINAL(...): the code without it, and the
    final it asks for (an expression is assigned to FINAL_EXPRESSION_VAR and read back)."""
    lines = code.rstrip().split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return _CellFinal(code=code)
    last, rest = lines[-1], "\n".join(lines[:-1])
    if last[:1].isspace():  # inside a loop or a branch: the code's own business
        return _CellFinal(code=code)
    if match := _FINAL_VAR.match(last):
        return _CellFinal(code=rest, final_var=match.group(2))
    if match := _FINAL_VAR_ANY.match(last):
        argument = match.group(1).rstrip().removesuffix(")")
        return _CellFinal(code=rest, error=FINAL_VAR_NOT_A_NAME.format(argument=argument))
    if _FINAL.match(last):
        argument = _final_argument(last, last.index("FINAL(") + len("FINAL("))
        if argument is None or not argument.strip():
            return _CellFinal(code=code)
        if argument.strip().isidentifier():
            return _CellFinal(code=rest, final_var=argument.strip())
        if is_placeholder(argument):
            error = FINAL_IS_PLACEHOLDER.format(argument=argument.strip())
            return _CellFinal(code=rest, error=error)
        if _is_literal(argument):
            return _CellFinal(code=rest, final=_literal_or_text(argument))
        body = f"{rest}\n{FINAL_EXPRESSION_VAR} = ({argument.strip()})"
        return _CellFinal(code=body.lstrip("\n"), final_var=FINAL_EXPRESSION_VAR)
    return _CellFinal(code=code)


def bare_value(text: str) -> str | None:
    """The reply itself when it is nothing but a short value (``42``, ``Paris``)."""
    value = text.strip()
    if not value or "\n" in value or "`" in value or len(value) > BARE_VALUE_CHARS:
        return None
    words = value.split()
    if len(words) > BARE_VALUE_WORDS or looks_like_error(value) or "(" in value:
        return None
    if len(words) > 1 and not any(char.isdigit() for char in value):
        return None
    return value.rstrip(".")


def parse_repl(text: str) -> ReplTurn:
    """The cells and the final answer of one model reply."""
    turn = ReplTurn()
    for match in _FENCE.finditer(text):
        tag, body = _tag_on_its_own_line(match.group(1), match.group(2))
        if not body.strip() or not _is_cell(tag, body):
            continue
        found = _final_in_cell(body)
        if found.final is not None or found.final_var is not None:
            turn.final, turn.final_var, turn.final_in_code = found.final, found.final_var, True
        if found.error is not None:
            turn.errors.append(found.error)
        if found.code.strip():
            turn.cells.append(found.code.rstrip() + "\n")
    if len(turn.cells) > MAX_CELLS_PER_REPLY:
        turn.errors.append(
            prompts.REPL_TOO_MANY_CELLS.format(limit=MAX_CELLS_PER_REPLY, count=len(turn.cells))
        )
        turn.cells = turn.cells[:MAX_CELLS_PER_REPLY]
    if not turn.has_final:
        _prose_final(turn, _OTHER_FENCE.sub("", text))
    if turn.final is not None and turn.cells and not turn.final_in_code and not turn.final_is_name:
        turn.errors.append(FINAL_WITH_CODE)
        turn.final = None
    if not turn.cells and not turn.has_final and not turn.errors:
        value = bare_value(text)
        turn.errors.append(NO_CODE_ERROR if value is None else bare_value_error(value))
    return turn


def _tag_on_its_own_line(tag: str, body: str) -> tuple[str, str]:
    """A bare fence whose first line is a code tag alone is a tagged block: the 1.5B wrote
    "```" then "repl" on the next line, on 5 of 12 fresh count samples, and the cell failed
    with ``NameError: name 'repl' is not defined`` every time it was sent again."""
    if tag:
        return tag, body
    first, _, rest = body.partition("\n")
    if first.strip().lower() in CODE_TAGS:
        return first.strip(), rest
    return tag, body


def _is_cell(tag: str, body: str) -> bool:
    """A block tagged as Python, or an untagged one that is a program: it parses and does
    something (the 1.5B wrote its right code in a bare ``` block, which was not run). A bare
    value, a list or a lone ``FINAL(...)`` is output the model imagined, not code."""
    if tag.lower() in CODE_TAGS:
        return True
    if tag:
        return False
    try:
        statements = ast.parse(body).body
    except (SyntaxError, ValueError):
        return False
    return any(
        not isinstance(statement, ast.Expr)
        or (
            isinstance(statement.value, ast.Call)
            and getattr(statement.value.func, "id", None) not in ("FINAL", "FINAL_VAR")
        )
        for statement in statements
    )


def _prose_final(turn: ReplTurn, prose: str) -> None:
    """The final line written outside the blocks, if any (its mistakes as errors)."""
    if match := _FINAL_VAR.search(prose):
        turn.final_var = match.group(2)
    elif match := _FINAL_VAR_ANY.search(prose):
        argument = match.group(1).rstrip().removesuffix(")")
        turn.errors.append(FINAL_VAR_NOT_A_NAME.format(argument=argument))
    elif match := _FINAL.search(prose):
        argument = _final_argument(prose, match.end())
        if argument is None or not argument.strip():
            return
        if argument.strip().isidentifier() and not _is_literal(argument):
            turn.final, turn.final_is_name = argument.strip(), True
        elif is_placeholder(argument):
            turn.errors.append(FINAL_IS_PLACEHOLDER.format(argument=argument.strip()))
        else:
            turn.final = _literal_or_text(argument)


def printed_literals(code: str) -> str:
    """The text of every constant a cell hands to ``print`` as it is (``print(129)``,
    ``print("Total: 129")``): a value written, not computed (the 0.5B printed the number it
    meant to answer with); empty when the cell does not parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return ""
    written: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
            for argument in node.args:
                parts = argument.values if isinstance(argument, ast.JoinedStr) else [argument]
                written += [str(p.value) for p in parts if isinstance(p, ast.Constant)]
    return "\n".join(written)


def untested_values(code: str, values: list[str]) -> list[str]:
    """The ``values`` (a question's, as ``layout.question_values`` gives them) that no constant
    of the code's logic holds: not in a comment, not in what it prints, so a count that drops
    a condition is told which. A date may also be written as numbers, ``(2023, 2, 17)``. A
    cell that does not parse tests none."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return list(values)
    strings: list[str] = []
    numbers: list[tuple[int, ...]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
            return  # "print('refunds:', n)" names a value without testing it
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.append(node.value.lower())
        if isinstance(node, ast.Call | ast.Tuple):
            items = node.args if isinstance(node, ast.Call) else node.elts
            numbers.append(
                tuple(
                    i.value for i in items if isinstance(i, ast.Constant) and type(i.value) is int
                )
            )
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)

    def tested(value: str) -> bool:
        if any(value.lower() in text for text in strings):
            return True
        if ISO_DATE.fullmatch(value):
            date = tuple(int(part) for part in value.split("-"))
            return any(date == found[:3] for found in numbers)
        return False

    return [value for value in values if not tested(value)]


def assigned_names(code: str) -> list[str]:
    """Module-level names a cell assigns, in order (for telling a model which variables it
    has); a cell that does not parse assigns none."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    names: list[str] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            # Functions, lambdas and comprehensions have scopes of their own.
            if isinstance(
                child,
                ast.FunctionDef
                | ast.AsyncFunctionDef
                | ast.Lambda
                | ast.ClassDef
                | ast.comprehension,
            ):
                continue
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                names.append(child.id)
            visit(child)

    visit(tree)
    return [n for n in dict.fromkeys(names) if n != FINAL_EXPRESSION_VAR]


__all__ = [
    "FINAL_EXPRESSION_VAR",
    "FINAL_IS_ERROR",
    "FINAL_IS_PLACEHOLDER",
    "FINAL_VAR_NOT_A_NAME",
    "FINAL_WITH_CODE",
    "MAX_CELLS_PER_REPLY",
    "NO_CODE_ERROR",
    "ReplTurn",
    "assigned_names",
    "bare_value",
    "bare_value_error",
    "is_placeholder",
    "looks_like_error",
    "parse_repl",
    "untested_values",
]
