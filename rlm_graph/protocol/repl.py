"""REPL mode's protocol: a model reply -> the code cells to run and the final answer, if any.

The model writes fenced ```` ```repl ```` blocks (```` ```python ```` is accepted too) and ends
with ``FINAL(answer)`` or ``FINAL_VAR(name)`` on a line of its own. Models also put the final
line as the last line *inside* a block; there it is part of the program: it is taken off the
code and applied after the block runs (``FINAL(expression)`` is evaluated by the code itself).

Parsing never raises: a reply with nothing to do comes back with an error for the model.
"""

from __future__ import annotations

import ast
import re

from pydantic import BaseModel, Field

# More blocks than this in one reply: the rest are not run (the model is told).
MAX_CELLS_PER_REPLY = 8
# The variable a ``FINAL(expression)`` inside a block is assigned to, then read back.
FINAL_EXPRESSION_VAR = "final_answer_value"

_FENCE = re.compile(r"```[ \t]*(repl|python|py)[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL | re.IGNORECASE)
# Any other fenced block (output the model imagined, plain text): not code, and not read for
# FINAL either.
_OTHER_FENCE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_FINAL_VAR = re.compile(r"^[ \t]*FINAL_VAR\(\s*(['\"]?)([A-Za-z_]\w*)\1\s*\)[ \t]*$", re.M)
_FINAL = re.compile(r"^[ \t]*FINAL\(", re.M)

NO_CODE_ERROR = (
    "no ```repl block and no FINAL(...) or FINAL_VAR(...) line: write Python in a ```repl "
    "block, or answer with FINAL(answer)"
)
FINAL_WITH_CODE = (
    "FINAL(...) was ignored because this reply also ran code: read its output first, then "
    "answer (FINAL_VAR(name) answers with a variable the code set)"
)


class ReplTurn(BaseModel):
    """What one REPL reply asks for: cells to run in order, then perhaps a final answer."""

    cells: list[str] = Field(default_factory=list)
    final: str | None = None
    """A literal answer (``FINAL(...)``)."""

    final_var: str | None = None
    """A variable to answer with, read after the cells ran (``FINAL_VAR(name)``)."""

    final_in_code: bool = False
    """The final line stood inside a block: the program meant it, so it follows the cells."""

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


def _final_in_cell(code: str) -> tuple[str, str | None, str | None]:
    """A block whose last line is FINAL_VAR(name) / FINAL(...): the code without it, and the
    final it asks for (an expression is assigned to FINAL_EXPRESSION_VAR and read back)."""
    lines = code.rstrip().split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return code, None, None
    last = lines[-1]
    if last[:1].isspace():  # inside a loop or a branch: the code's own business
        return code, None, None
    if match := _FINAL_VAR.match(last):
        return "\n".join(lines[:-1]), None, match.group(2)
    if _FINAL.match(last):
        argument = _final_argument(last, last.index("FINAL(") + len("FINAL("))
        if argument is None or not argument.strip():
            return code, None, None
        if _is_literal(argument):
            return "\n".join(lines[:-1]), _literal_or_text(argument), None
        if argument.strip().isidentifier():
            return "\n".join(lines[:-1]), None, argument.strip()
        body = [*lines[:-1], f"{FINAL_EXPRESSION_VAR} = ({argument.strip()})"]
        return "\n".join(body), None, FINAL_EXPRESSION_VAR
    return code, None, None


def parse_repl(text: str) -> ReplTurn:
    """The cells and the final answer of one model reply."""
    turn = ReplTurn()
    for match in _FENCE.finditer(text):
        code = match.group(2)
        if not code.strip():
            continue
        code, final, final_var = _final_in_cell(code)
        if final is not None or final_var is not None:
            turn.final, turn.final_var, turn.final_in_code = final, final_var, True
        if code.strip():
            turn.cells.append(code.rstrip() + "\n")
    if len(turn.cells) > MAX_CELLS_PER_REPLY:
        turn.errors.append(
            f"only the first {MAX_CELLS_PER_REPLY} of {len(turn.cells)} ```repl blocks were run"
        )
        turn.cells = turn.cells[:MAX_CELLS_PER_REPLY]
    if not turn.has_final:
        prose = _OTHER_FENCE.sub("", _FENCE.sub("", text))
        if match := _FINAL_VAR.search(prose):
            turn.final_var = match.group(2)
        elif match := _FINAL.search(prose):
            argument = _final_argument(prose, match.end())
            if argument is not None and argument.strip():
                turn.final = _literal_or_text(argument)
    if turn.final is not None and turn.cells and not turn.final_in_code:
        turn.errors.append(FINAL_WITH_CODE)
        turn.final = None
    if not turn.cells and not turn.has_final and not turn.errors:
        turn.errors.append(NO_CODE_ERROR)
    return turn


__all__ = [
    "FINAL_EXPRESSION_VAR",
    "FINAL_WITH_CODE",
    "MAX_CELLS_PER_REPLY",
    "NO_CODE_ERROR",
    "ReplTurn",
    "parse_repl",
]
