"""The text form: ``CALL("task", "chunk:3")``-style calls found anywhere in a reply.

Arguments are located by a string-aware bracket scan (so parentheses and quotes inside
strings are harmless) and read with ``ast`` (so escapes, triple quotes, keyword
arguments behave exactly like Python). FINAL is read leniently because a reply that
got as far as FINAL is worth keeping even when its quoting is off.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass
from typing import Any

from rlm_graph import prompts
from rlm_graph.protocol.actions import (
    MAX_ACTIONS_PER_TURN,
    TOO_MANY_ACTIONS,
    Action,
    ActionOp,
    ParsedTurn,
)
from rlm_graph.protocol.build import (
    FIELD_SYNONYMS,
    POSITIONAL,
    USAGE,
    build_action,
    snippet,
)

CUT_OFF = prompts.REPLY_CUT_OFF
MAX_SCAN_CHARS = 200_000  # only this much of a reply is ever examined
MAX_ERRORS = 10  # an observation listing more problems than this helps nobody
STEP_BUDGET = 300_000  # bracket/quote tokens examined per reply, across all scans

# Whole word, any case; whitespace before "(" only for the uppercase spelling, so that
# prose such as "let me peek (briefly)" is not taken for an action.
_NAME = re.compile(r"(?<![\w.])(call|peek|grep|final)([ \t]*)\(", re.IGNORECASE)
_SPECIAL = re.compile(r"[()\[\]{}'\"#]")
_PARENS = re.compile(r"[()]")
_TRAILING_COMMENT = re.compile(r"[ \t]*#[^\n]*")
# Possessive quantifiers: an unterminated string fails in linear time.
_STRING_END = {
    '"': re.compile(r'[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL),
    "'": re.compile(r"[^'\\]*+(?:\\.[^'\\]*+)*+'", re.DOTALL),
    '"""': re.compile(r'[^"\\]*+(?:(?:\\.|"(?!""))[^"\\]*+)*+"""', re.DOTALL),
    "'''": re.compile(r"[^'\\]*+(?:(?:\\.|'(?!''))[^'\\]*+)*+'''", re.DOTALL),
}
# FINAL's argument starts with a string literal (maybe ``answer=``, maybe a prefix).
_QUOTED_START = re.compile(
    r"\s*(?:(?:answer|text|content)\s*=\s*)?[rRbBuUfF]{0,2}(\"\"\"|'''|\"|'|\u201c)"
)
_KEYWORD_START = re.compile(r"\s*(?:answer|text|content)\s*=\s*")
_SMART_QUOTES = {"\u201c": "\u201d", "\u2018": "\u2019"}


class _Budget:
    """Work left for this reply; scans stop when it runs out, so no input is slow."""

    def __init__(self, steps: int) -> None:
        self.steps = steps

    def spend(self) -> bool:
        self.steps -= 1
        return self.steps >= 0


@dataclass
class _Scan:
    end: int | None  # index just past the closing ")", None if never closed
    inner: str  # argument text with raw newlines inside one-line strings escaped
    open_quote: str | None = None  # the quote of a string still open at the end


def _scan_args(text: str, pos: int, budget: _Budget) -> _Scan:
    """Find the ")" matching the "(" just before ``pos``, respecting strings and comments."""
    depth = 1
    out: list[str] = []
    i, n = pos, len(text)
    while i < n:
        if not budget.spend():
            return _Scan(None, "".join(out))
        m = _SPECIAL.search(text, i)
        if m is None:
            break
        j, ch = m.start(), m.group()
        out.append(text[i:j])
        if ch in "([{":
            depth += 1
            out.append(ch)
            i = j + 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return _Scan(j + 1, "".join(out))
            out.append(ch)
            i = j + 1
        elif ch == "#":  # a comment inside the argument list runs to the end of the line
            k = text.find("\n", j)
            k = n if k < 0 else k
            out.append(text[j:k])
            i = k
        else:
            quote = ch * 3 if text.startswith(ch * 3, j) else ch
            end = _STRING_END[quote].match(text, j + len(quote))
            if end is None:
                return _Scan(None, "".join(out), open_quote=quote)
            body = text[j : end.end()]
            if len(quote) == 1:  # models put real newlines in "..." strings; make them legal
                body = body.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")
            out.append(body)
            i = end.end()
    return _Scan(None, "".join(out))


def _match_parens(text: str, pos: int, budget: _Budget) -> int | None:
    """Like ``_scan_args`` but blind to quotes: for unquoted FINAL text ("it's 42")."""
    depth = 1
    for m in _PARENS.finditer(text, pos):
        if not budget.spend():
            return None
        depth += 1 if m.group() == "(" else -1
        if depth == 0:
            return m.end()
    return None


def _literal_args(inner: str) -> tuple[list[Any], dict[str, Any]] | str:
    """Positional and keyword argument values, or the reason they cannot be read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "\d" in a regex is fine here
            # The newline lets a trailing "# comment" end before the ")".
            tree = ast.parse(f"_({inner}\n)", mode="eval")
    except Exception:  # SyntaxError, ValueError (NUL bytes), RecursionError, MemoryError
        return prompts.ARGS_NOT_VALID
    call = tree.body
    if not isinstance(call, ast.Call):
        return prompts.ARGS_NOT_VALID
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    try:
        for node in call.args:
            if isinstance(node, ast.Starred):
                return prompts.ARGS_UNPACK
            positional.append(ast.literal_eval(node))
        for kw in call.keywords:
            if kw.arg is None:
                return prompts.ARGS_UNPACK_KEYWORDS
            keywords[kw.arg] = ast.literal_eval(kw.value)
    except Exception:
        return prompts.ARGS_NOT_QUOTED
    return positional, keywords


def _fields(op: ActionOp, args: tuple[list[Any], dict[str, Any]]) -> dict[str, Any] | str:
    """Put positional and keyword arguments into named fields, or say what is wrong."""
    positional, keywords = args
    slots = POSITIONAL[op]
    if len(positional) > len(slots):
        if op == "call":
            return prompts.CALL_TAKES_TWO
        if op == "grep":
            return prompts.GREP_TAKES_PATTERN
        return prompts.TAKES_ONE_ARGUMENT.format(op=op.upper())
    fields: dict[str, Any] = dict(zip(slots, positional, strict=False))
    for key, value in keywords.items():
        name = FIELD_SYNONYMS.get(key.lower())
        if name is None:
            continue  # unknown keywords are ignored; a missing field is reported later
        if name in fields:
            return prompts.GIVEN_TWICE.format(name=name)
        fields[name] = value
    return fields


def _line_end(text: str, pos: int) -> int:
    k = text.find("\n", pos)
    return len(text) if k < 0 else k + 1


def _in_comment_line(text: str, pos: int) -> bool:
    start = text.rfind("\n", 0, pos) + 1
    return text[start:pos].lstrip().startswith("#")


def _unquote(raw: str) -> str:
    """Strip ``answer=`` and one pair of surrounding quotes from raw FINAL text."""
    raw = raw.strip()
    kw = _KEYWORD_START.match(raw)
    if kw:
        raw = raw[kw.end() :]
    for q in ('"""', "'''", '"', "'"):
        if len(raw) >= 2 * len(q) and raw.startswith(q) and raw.endswith(q):
            return raw[len(q) : -len(q)]
    for left, right in _SMART_QUOTES.items():
        if len(raw) >= 2 and raw.startswith(left) and raw.endswith(right):
            return raw[1:-1]
    return raw


def _trim_tail(answer: str, quote: str) -> str:
    """The end of a reply that ran out inside FINAL: drop a closing fence, quote, paren."""
    answer = answer.rstrip()
    if answer.endswith("```"):
        answer = answer[:-3].rstrip()
    for tail in (quote + ")", quote):
        if answer.endswith(tail):
            return answer[: -len(tail)]
    return answer


@dataclass
class _Outcome:
    action: Action | None
    error: str | None
    resume: int  # where scanning continues


def _parse_final(text: str, start: int, after: int, budget: _Budget) -> _Outcome:
    scan = _scan_args(text, after, budget)
    if scan.end is not None:
        quote = snippet(text[start : scan.end])
        args = _literal_args(scan.inner)
        if isinstance(args, tuple):
            fields = _fields("final", args)
            if isinstance(fields, str):
                return _Outcome(None, _syntax_error(quote, fields, "final"), scan.end)
            value = fields.get("answer")
            if isinstance(value, str | bytes | int | float) or "answer" not in fields:
                return _done(build_action("final", fields, form="text", quote=quote), scan.end)
        # Not a literal (prose, a bare name, stray inner quotes): keep the raw text.
        raw = _unquote(text[after : scan.end - 1])
        return _done(build_action("final", {"answer": raw}, form="text", quote=quote), scan.end)
    quoted = _QUOTED_START.match(text, after)
    if quoted and scan.open_quote is not None:
        # The answer string was never closed: the model ran out of tokens. Keep it all.
        q = quoted.group(1)
        answer = _trim_tail(text[quoted.end() :], _SMART_QUOTES.get(q, q))
        return _done(
            build_action("final", {"answer": answer}, form="text", quote=snippet(text[start:])),
            len(text),
        )
    if quoted:
        # Closed string but no ")": read the literal if that is all there is.
        args = _literal_args(text[after:].strip())
        if isinstance(args, tuple) and len(args[0]) == 1 and isinstance(args[0][0], str):
            answer = args[0][0]
        else:
            q = quoted.group(1)
            answer = _trim_tail(text[quoted.end() :], _SMART_QUOTES.get(q, q))
        return _done(
            build_action("final", {"answer": answer}, form="text", quote=snippet(text[start:])),
            len(text),
        )
    # Unquoted prose answer: FINAL(The company's revenue was $5M (2023))
    end = _match_parens(text, after, budget)
    raw = text[after : end - 1] if end is not None else _trim_tail(text[after:], ")")
    quote = snippet(text[start : end if end is not None else len(text)])
    return _done(
        build_action("final", {"answer": _unquote(raw)}, form="text", quote=quote),
        end if end is not None else len(text),
    )


def _done(result: Action | str, resume: int) -> _Outcome:
    if isinstance(result, Action):
        return _Outcome(result, None, resume)
    return _Outcome(None, result, resume)


def _syntax_error(quote: str, reason: str, op: ActionOp) -> str:
    return prompts.UNPARSED_ACTION.format(quote=quote, reason=reason, usage=USAGE["text"][op])


def _parse_other(op: ActionOp, text: str, start: int, after: int, budget: _Budget) -> _Outcome:
    scan = _scan_args(text, after, budget)
    if scan.end is None:
        # Quote up to the end of the line; resume on the next line so later actions count.
        line_end = _line_end(text, start)
        if not text[line_end:].strip():
            # The reply's last line, unfinished: it was cut off at the output limit. Echoing
            # the fragment back only teaches a small model to write it again.
            return _Outcome(None, CUT_OFF, line_end)
        reason = prompts.UNTERMINATED_STRING if scan.open_quote else prompts.MISSING_PAREN
        quote = snippet(text[start:line_end].rstrip())
        return _Outcome(None, _syntax_error(quote, reason, op), line_end)
    quote = snippet(text[start : scan.end])
    args = _literal_args(scan.inner)
    if isinstance(args, str) and ("\u201c" in scan.inner or "\u201d" in scan.inner):
        # Typographic quotes are a common slip; retry with plain ones.
        args = _literal_args(scan.inner.replace("\u201c", '"').replace("\u201d", '"'))
    if isinstance(args, str):
        return _Outcome(None, _syntax_error(quote, args, op), scan.end)
    fields = _fields(op, args)
    if isinstance(fields, str):
        return _Outcome(None, _syntax_error(quote, fields, op), scan.end)
    return _done(build_action(op, fields, form="text", quote=quote), scan.end)


def parse_text(text: str) -> ParsedTurn:
    """Every text-form action in ``text`` (its first ``MAX_SCAN_CHARS``), in order."""
    text = text[:MAX_SCAN_CHARS]
    turn = ParsedTurn()
    budget = _Budget(STEP_BUDGET)
    pos = 0
    while len(turn.actions) < MAX_ACTIONS_PER_TURN and len(turn.errors) < MAX_ERRORS:
        m = _NAME.search(text, pos)
        if m is None:
            break
        name, gap = m.group(1), m.group(2)
        if gap and not name.isupper():
            pos = m.end()
            continue
        if _in_comment_line(text, m.start()):
            pos = _line_end(text, m.start())
            continue
        op: ActionOp = name.lower()  # type: ignore[assignment]  # the regex only matches ops
        if op == "final":
            outcome = _parse_final(text, m.start(), m.end(), budget)
        else:
            outcome = _parse_other(op, text, m.start(), m.end(), budget)
        if budget.steps < 0:
            turn.errors.append(prompts.READING_STOPPED)
            break
        if outcome.action is not None:
            turn.actions.append(outcome.action)
        if outcome.error is not None:
            turn.errors.append(outcome.error)
        pos = max(outcome.resume, m.end())
        comment = _TRAILING_COMMENT.match(text, pos)
        if comment:  # "CALL(...)  # then FINAL(...)": the comment is not an action
            pos = comment.end()
    if len(turn.actions) >= MAX_ACTIONS_PER_TURN and _NAME.search(text, pos):
        turn.errors.append(TOO_MANY_ACTIONS)
    return turn
