"""Which functions call a code name, read off the lines that call it.

"Which functions call `_check_proc`?" is answered by the lines that call it, each with the
function around it (``context.scopes``), as a person answers it with a search. Measured on the
0.5B planner (fresh seeds 25 and 26, 0 of 6 such questions right): the name search showed it
those lines, each "in function `send_signal`", and it CALLed every chunk from the first that
holds the name instead; no leaf, reading one chunk, can say which function a call sits in.

So the root's first turn of such a question (calls mode) answers with the functions around the
call lines, in the text's order, and says which lines it read. Nothing is taken on trust: a
name stays only when its call line backs it by the grounding every answer read off a GREP gets
(``observed``), and the merge grounds the answer once more. When no line calls the name, none
backs its function, or too many lines call it to read them all, the planner starts as it would
have.
"""

from __future__ import annotations

import re
from typing import Any

from rlm_graph.context.grep import GrepHit
from rlm_graph.evidence import identifiers
from rlm_graph.graph.call import GREP_REACH
from rlm_graph.graph.findings import citations
from rlm_graph.graph.messages import SeenSpan, dumps
from rlm_graph.graph.observed import MAX_OBSERVED_SPANS, observed_findings
from rlm_graph.graph.outcome import finish
from rlm_graph.graph.planning import PlanStep

# The call's ``strategy`` when it answered from the call lines.
STRATEGY = "call-lines"
# Call lines read at most (as many as an answer is grounded on): more, and the list could not
# be told whole.
MAX_CALL_LINES = MAX_OBSERVED_SPANS

# "Which functions call X?", "What calls X?", "callers of X", "Where is X called from?",
# "Which methods invoke X?"; not "Which functions does X call?" (what X calls).
_ASKS_CALLERS = re.compile(
    r"\b(?:call|calls|callers?|invoke|invokes)\b|\b(?:called|invoked)\s*(?:from|by|\?|$)", re.I
)
_ASKS_CALLEES = re.compile(r"\b(?:does|do)\s+`?[\w.]+`?\s+(?:call|invoke)\b", re.I)
_BACKTICKED = re.compile(r"`([^`\n]+)`")
# A line that defines the name, or says it in a comment: not a call.
_NOT_A_CALL = re.compile(r"^\s*(?:#|//|(?:async\s+)?def\s|class\s|function\s)")
_FUNCTION_SCOPE = "function "


def called_name(question: str) -> str | None:
    """The code name whose callers the question asks for (```loop.call_soon``` gives
    ``call_soon``), or None when it asks something else or names no one code name."""
    if not _ASKS_CALLERS.search(question) or _ASKS_CALLEES.search(question):
        return None
    quoted = _BACKTICKED.search(question)
    if quoted is not None:
        name = quoted.group(1).strip().removesuffix("()").rsplit(".", 1)[-1]
        return name if re.fullmatch(r"[A-Za-z_$][\w$]*", name) else None
    names = identifiers(question)
    return names[0] if len(names) == 1 else None


def call_pattern(name: str) -> str:
    """A regex for a call of ``name``: the whole name, then its opening bracket."""
    return rf"(?:^|[^\w$]){re.escape(name)}\s*\("  # RE2: no lookbehind


def caller_of(hit: GrepHit) -> str | None:
    """The function a call line sits in, or None (a definition, a comment, module level, a
    class body)."""
    if _NOT_A_CALL.match(hit.text) or not hit.scope.startswith(_FUNCTION_SCOPE):
        return None
    return hit.scope.removeprefix(_FUNCTION_SCOPE)


def read_callers(step: PlanStep) -> dict[str, Any]:
    """The update that ends the root's call with the callers of the name the question asks
    about, read off the lines that call it; ``{}`` when it does not ask that, in calls mode at
    the root's first turn, or the lines cannot say."""
    name = called_name(step.query)
    if name is None or step.depth != 0 or step.iteration != 0 or step.rt.mode != "calls":
        return {}
    view = step.view
    found = view.grep(call_pattern(name), step.rt.chunking_for_view(), max_hits=MAX_CALL_LINES)
    if found.truncated or found.capped or found.total > len(found.hits):
        return {}  # too many lines to read them all: the list would not be whole
    calls = [(hit, caller) for hit in found.hits if (caller := caller_of(hit))]
    if not calls:
        return {}
    step.turn_started("call-lines", 0)
    action = f'GREP("{name}(")'
    seen = [
        SeenSpan(
            action=action,
            start=view.start + max(0, hit.offset - GREP_REACH),
            end=view.start + min(view.size, hit.offset + GREP_REACH),
        )
        for hit, _ in calls
    ]
    named = list(dict.fromkeys(caller for _, caller in calls))
    sources = observed_findings(step.rt, step.reads, "\n".join(named), seen)
    backed = [caller for caller in named if citations(caller, sources, step.query)]
    if not backed:
        return {}  # the lines do not back them: the planner looks
    update = {"observed": dumps(seen), "iteration": 1, "strategy": STRATEGY}
    if len(backed) < len(named):  # what the lines name but do not back is kept, as unverified
        update["unverified_answer"] = ", ".join(named)
    return {**update, **finish("done", ", ".join(backed))}


__all__ = ["called_name", "read_callers"]
