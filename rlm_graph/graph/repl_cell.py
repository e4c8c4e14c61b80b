"""REPL mode's cells on the graph: run them in the sandbox, turn their sub-calls into children.

- ``call`` runs the reply's cells in order (:func:`run_cells`). A cell that finishes adds its
  printed output to the observations. A cell that stops at ``llm_query`` / ``rlm_query`` (or a
  batch of them) becomes jobs for ``recurse``, exactly like CALLs: one child per pending call,
  with a call record written now, run under the one concurrency limit, checkpointed.
- ``merge`` answers the paused cell with the children's results (:func:`resume_cells`) and
  the same cell goes on; a new pause sends new jobs to ``recurse``, and when every cell is done
  the observations go to the transcript and the planner takes over again.
- ``llm_query(prompt)``: a child of kind ``query``, one plain model call over the prompt (kept
  in the blob store, so the Send payload stays small). ``rlm_query(task, text)``: a child RLM
  at depth + 1, on the span of the context the text is (so its findings are located text and
  can back the answer), or on the text itself, stored as a text context (then its findings back
  nothing: the text is the code's, not the context's).
- Durability: after every stop the session's ``state()`` bytes (the context cut out) go into
  graph state. The live session is not in the checkpoint: it is kept per call in the run's
  :class:`ReplSessions`, and rebuilt from the bytes and the context whenever the bytes in
  state are not the ones it last saved (a resume after a crash, another process, a fork).
- Budgets: a stop that asks for more sub-calls (or tokens) than are left is refused whole,
  before anything runs: the code gets a RuntimeError it can read, and nothing is spent.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.config import get_config
from langgraph.runtime import Runtime
from langgraph.types import Overwrite

from rlm_graph import prompts
from rlm_graph.budget import Budget
from rlm_graph.configuration import RLMRuntime, runtime_context
from rlm_graph.context import ContextView, TextStore
from rlm_graph.context.layout import (
    NamedValue,
    fields_code,
    view_question_values,
    view_records,
)
from rlm_graph.evidence import echoes
from rlm_graph.graph.accounting import (
    child_usage,
    merge_usage,
    record_from_state,
    running_record,
    usage_update,
)
from rlm_graph.graph.events import ModelCallEvents, emit_call_finished, emit_child_started
from rlm_graph.graph.findings import finding, strip_marks
from rlm_graph.graph.messages import (
    ChildResult,
    Job,
    Observation,
    ObservationKind,
    PendingSubcall,
    dumps,
)
from rlm_graph.graph.model_call import call_model
from rlm_graph.graph.outcome import TURN_LIMIT, finish, gave_up, is_finished
from rlm_graph.graph.state import CallState, RLMState
from rlm_graph.protocol.context_loads import pastes_cut_off, take_off_context_loads
from rlm_graph.protocol.message import strip_think
from rlm_graph.protocol.repl import (
    FINAL_IS_ERROR,
    FINAL_IS_PLACEHOLDER,
    FINAL_WITH_CODE,
    assigned_names,
    is_placeholder,
    looks_like_error,
    parse_repl,
    printed_literals,
    untested_values,
)
from rlm_graph.questions import asks_for_number, asks_to_count, numbers_in
from rlm_graph.repl import (
    CONTEXT_VARIABLE,
    CallError,
    CellOutcome,
    ContextValue,
    MontySandbox,
    PendingCall,
    Sandbox,
    SandboxLimits,
    SandboxSession,
    VariableError,
)
from rlm_graph.secrets import redact
from rlm_graph.state import ContextRef

# What a cell may print before the rest is cut (the sandbox says how much was cut): one
# observation stays within what merge shows of it.
REPL_LIMITS = SandboxLimits(output_chars=3000, error_chars=2000)
# Refused stops in one cell before the host gives up on it (code that retries a refused
# sub-call in a loop would otherwise go round for ever).
MAX_REFUSALS_PER_CELL = 20
# A query child's task in its record and the tree: the head of its prompt.
TASK_PREVIEW_CHARS = 200
# Variables named back to a model whose FINAL_VAR names none it set.
VARIABLES_LISTED = 8
# A repeated cell's output this short, on one line, is offered back as FINAL(output).
SHORT_OUTPUT_CHARS = 100

# -- the sandbox and the live sessions ---------------------------------------------------------

_sandbox: Sandbox | None = None
_sandbox_lock = threading.Lock()


def shared_sandbox() -> Sandbox:
    """One sandbox (one pool of workers) per process, made when REPL mode first needs it."""
    global _sandbox
    with _sandbox_lock:
        if _sandbox is None:
            _sandbox = MontySandbox()
        return _sandbox


def _digest(data: bytes | None) -> str:
    return "" if data is None else hashlib.sha256(data).hexdigest()


@dataclass
class _Live:
    session: SandboxSession
    version: str  # digest of the state bytes this session was last saved as


@dataclass
class ReplSessions:
    """The live REPL sessions of one run, by (thread, call id). Not checkpointed: a session
    whose saved bytes are not the ones in graph state is rebuilt from those bytes."""

    sandbox: Callable[[], Sandbox] = shared_sandbox
    _live: dict[tuple[str, str], _Live] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    restored: int = 0  # sessions rebuilt from state bytes (a resume, a fork)

    async def session(
        self,
        key: tuple[str, str],
        saved: bytes | None,
        context: Callable[[], ContextValue],
        prelude: Callable[[], str] = str,
    ) -> SandboxSession:
        with self._lock:
            live = self._live.pop(key, None)
        if live is not None:
            if saved is not None and live.version == _digest(saved):
                return live.session
            await live.session.close()  # out of step with the checkpoint: rebuild it
        if saved is None:
            return await self.sandbox().start(context(), REPL_LIMITS, prelude())
        self.restored += 1
        return await self.sandbox().restore(saved, context())

    async def save(self, key: tuple[str, str], session: SandboxSession) -> bytes:
        data = await session.state()
        with self._lock:
            self._live[key] = _Live(session, _digest(data))
        return data

    async def drop(self, key: tuple[str, str], session: SandboxSession | None = None) -> None:
        with self._lock:
            live = self._live.pop(key, None)
        for held in {id(s): s for s in (session, live and live.session) if s is not None}.values():
            await held.close()

    async def aclose(self) -> None:
        with self._lock:
            live, self._live = list(self._live.values()), {}
        for item in live:
            await item.session.close()


_sessions_lock = threading.Lock()


def sessions_of(rt: RLMRuntime) -> ReplSessions:
    with _sessions_lock:
        if rt.repl_sessions is None:
            rt.repl_sessions = ReplSessions()
        return rt.repl_sessions


def context_value(view: ContextView) -> ContextValue:
    """``context`` as the code sees it: the text, or a whole folder as file name -> text."""
    if view.whole_folder:
        return {f.path: view.text(f.start, f.end) for f in view.files()}
    return view.text()


def _prelude(view: ContextView) -> str:
    """The host's code a fresh session runs first: ``record_fields(line)`` when the text's
    lines are records (described to the model by ``repl_turn.describe_context``)."""
    found = view_records(view)
    return fields_code(found) if found is not None else ""


def _session_key(state: Mapping[str, Any]) -> tuple[str, str]:
    try:
        thread = str((get_config().get("configurable") or {}).get("thread_id") or "")
    except RuntimeError:  # outside a run
        thread = ""
    return thread, CallState(state).call_id


# -- where an rlm_query's text lies in the context ---------------------------------------------


def locate_text(view: ContextView, value: ContextValue, text: str) -> ContextRef | None:
    """The span of the context ``text`` is, when the code passed a slice of it (the first
    occurrence), checked byte for byte; None when the text is the code's own."""
    if not text.strip():
        return None
    places: list[tuple[int, str]] = (
        [(f.start, value.get(f.path, "")) for f in view.files()]
        if isinstance(value, dict)
        else [(0, value)]
    )
    for base, whole in places:
        at = whole.find(text)
        if at < 0:
            continue
        start = base + len(whole[:at].encode("utf-8"))
        end = start + len(text.encode("utf-8"))
        if view.read_bytes(start, end) == text.encode("utf-8"):
            return view.ref.model_copy(
                update={
                    "start": view.start + start,
                    "end": view.start + end,
                    "label": f"chars:{start}-{end}",
                }
            )
    return None


def _text_context(rt: RLMRuntime, text: str, label: str) -> ContextRef:
    """A text the code wrote, as a context of its own in the registry and the blob store (so a
    child, a resume or another process can read it again); never in a checkpoint. Redacted:
    it is the code's output, stored and sent to a model (a span of the context is not)."""
    store = TextStore(redact(text) or "")
    rt.registry.register(store)
    blobs = rt.registry.blobs
    if blobs is not None and hasattr(blobs, "put"):
        blobs.put(store)
    return store.ref().model_copy(update={"label": label})


# -- driving the cells ----------------------------------------------------------------------


@dataclass
class _Cells:
    """One step of a call's cells: the session, what the step saw, and what it sends."""

    rt: RLMRuntime
    runtime: Runtime[RLMRuntime]
    state: CallState
    view: ContextView
    budget: Budget
    session: SandboxSession
    key: tuple[str, str]
    context: Callable[[], ContextValue]
    observations: list[Observation] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    pending: list[PendingSubcall] = field(default_factory=list)
    calls_made: int = 0
    ok_cells: int = 0
    failed_cells: dict[str, str] = field(default_factory=dict)
    last_ok_cell: dict[str, str] = field(default_factory=dict)
    numbers_printed: set[str] = field(default_factory=set)
    numbers_untaken: set[str] = field(default_factory=set)
    code_final: str | None = None  # what a cell that ran without an error gave FINAL(...)
    counted_values: list[NamedValue] | None = None  # the question's values (_untested), read once
    force_reason: str | None = None  # the next turn must answer, for this reason
    ended: dict[str, Any] = field(default_factory=dict)

    @classmethod
    async def open(
        cls, state: RLMState, runtime: Runtime[RLMRuntime], budget: Budget | None = None
    ) -> _Cells:
        rt, reads = runtime_context(runtime), CallState(state)
        view = rt.registry.view(reads.context)
        key = _session_key(state)
        holder: dict[str, ContextValue] = {}

        def value() -> ContextValue:
            if "v" not in holder:
                holder["v"] = context_value(view)
            return holder["v"]

        session = await sessions_of(rt).session(
            key, reads.repl_state, value, lambda: _prelude(view)
        )
        return cls(
            rt=rt,
            runtime=runtime,
            state=reads,
            view=view,
            budget=budget or reads.budget,
            session=session,
            key=key,
            context=value,
            observations=reads.observations,
            cells=reads.repl_cells,
            calls_made=reads.calls_made,
            ok_cells=reads.repl_ok_cells,
            failed_cells=reads.repl_failed_cells,
            last_ok_cell=reads.repl_last_ok_cell,
            numbers_printed=set(reads.repl_numbers_printed),
            numbers_untaken=set(reads.repl_numbers_untaken),
        )

    def observe(
        self, label: str, text: str, kind: ObservationKind = "info", *, failed: bool = False
    ) -> None:
        index = len(self.observations)
        self.observations.append(
            Observation(index=index, action=label, text=text, kind=kind, failed=failed)
        )

    async def advance(self, outcome: CellOutcome | None) -> dict[str, Any]:
        """Run (or, given a resumed ``outcome``, go on with) the cells until one pauses at
        sub-calls that become jobs, or none is left; then apply the reply's final answer."""
        refusals = 0
        code: str | None = None  # the running cell's code (unknown for a resumed one)
        while True:
            if outcome is None:
                if not self.cells:
                    break
                code = self.cells.pop(0)
                if pastes_cut_off(code, CONTEXT_VARIABLE):
                    text = prompts.REPL_CONTEXT_PASTE_CUT
                    self.observe(prompts.REPL_NOT_RUN_LABEL, text, failed=True)
                    continue
                loads = take_off_context_loads(code, CONTEXT_VARIABLE)
                if loads.skipped:
                    code = loads.code
                    lines = ", ".join(f"`{line}`" for line in loads.skipped)
                    self.observe(
                        prompts.REPL_NOT_RUN_LABEL,
                        prompts.REPL_CONTEXT_LOAD_SKIPPED.format(lines=lines),
                    )
                if CONTEXT_VARIABLE in assigned_names(code):
                    text = prompts.REPL_CONTEXT_ASSIGNED
                    self.observe(prompts.REPL_NOT_RUN_LABEL, text, failed=True)
                    continue
                if (error := self.failed_cells.get(_code_key(code))) is not None:
                    # Small models at temperature 0 send the same failing cell turn after
                    # turn (measured on the 1.5B: six times); running it again teaches
                    # nothing, so it is refused with the error it raised.
                    text = prompts.REPL_SAME_FAILED_CODE.format(error=error)
                    self.observe(prompts.REPL_NOT_RUN_LABEL, text, failed=True)
                    continue
                if (printed := self.last_ok_cell.get(_code_key(code))) is not None:
                    # The 0.5B sends the cell that printed the right count again, turn after
                    # turn, instead of answering: show what it printed and how to answer.
                    self.observe(prompts.REPL_NOT_RUN_LABEL, _same_ok_cell_note(printed))
                    self.force_reason = prompts.FORCE_REASON_SAME_CELL
                    continue
                outcome = await self.session.run(code)
                refusals = 0
            if outcome.status == "finished":
                # A cell's error is something the model reads and fixes, like its output.
                shown = outcome.render()
                self.observe(
                    prompts.REPL_CELL_LABEL.format(cell=outcome.cell),
                    shown,
                    failed=outcome.error is not None,
                )
                if outcome.error is None:
                    self.ok_cells += 1
                    counted = numbers_in(shown) - numbers_in(printed_literals(code or ""))
                    untested = self._untested(code) if counted or outcome.final is not None else []
                    if untested:
                        # A count that drops a condition prints a number that is not the
                        # answer (the 0.5B counted every "shipment" record for a question
                        # that also sets a date window): it is not taken, and the model is
                        # told which of the question's values its code leaves out.
                        text = prompts.REPL_CONDITIONS_UNTESTED.format(
                            values=", ".join(repr(named.value) for named in untested),
                            tests="; ".join(dict.fromkeys(named.test for named in untested)),
                        )
                        self.observe(prompts.REPL_NOT_TAKEN_LABEL, text, failed=True)
                        self.numbers_untaken |= counted
                        if outcome.final is not None:
                            self.numbers_untaken |= numbers_in(outcome.final)
                    else:
                        self.numbers_printed |= counted
                        if code is not None:
                            self.last_ok_cell = {_code_key(code): shown}
                    if outcome.final is not None and not untested:
                        # The code answered with what it computed: the reply's other cells
                        # and its written FINAL give way to it.
                        self.code_final = outcome.final
                        self.cells = []
                elif code is not None:
                    self.failed_cells[_code_key(code)] = _last_line(outcome.error)
                outcome, code = None, None
                continue
            refused = self._launch(outcome.pending)
            if refused is None:
                return await self._paused()
            refusals += 1
            if refusals > MAX_REFUSALS_PER_CELL:
                refused = {
                    call.id: CallError(message=prompts.SUBCALLS_REFUSED) for call in outcome.pending
                }
            outcome = await self.session.resume(refused)
        await self._final()
        return await self._update()

    def _untested(self, code: str | None) -> list[NamedValue]:
        """The values of a counting question this cell's code does not test."""
        if code is None:  # a resumed cell: its code is not at hand
            return []
        if self.counted_values is None:
            query = self.state.query
            counts = asks_to_count(query)
            self.counted_values = view_question_values(self.view, query) if counts else []
        untested = set(untested_values(code, [named.value for named in self.counted_values]))
        return [named for named in self.counted_values if named.value in untested]

    async def _paused(self) -> dict[str, Any]:
        update = await self._update()
        if any(not job.leaf for job in self.jobs):
            # Children that plan may open sessions of their own: give this worker back while
            # they run; merge rebuilds the session from the bytes just saved.
            await sessions_of(self.rt).drop(self.key)
        return update

    async def _update(self) -> dict[str, Any]:
        update: dict[str, Any] = {
            "observations": dumps(self.observations),
            "jobs": dumps(self.jobs),
            "repl_cells": self.cells,
            "repl_pending": dumps(self.pending),
            "calls_made": self.calls_made,
            "repl_ok_cells": self.ok_cells,
            "repl_failed_cells": self.failed_cells,
            "repl_last_ok_cell": self.last_ok_cell,
            "repl_numbers_printed": sorted(self.numbers_printed),
            "repl_numbers_untaken": sorted(self.numbers_untaken),
            **({"force_reason": self.force_reason} if self.force_reason else {}),
            "records": [_running_record(job, self.rt) for job in self.jobs],
            **self.ended,
        }
        sessions = sessions_of(self.rt)
        if self.ended:
            await sessions.drop(self.key, self.session)
        else:
            update["repl_state"] = await sessions.save(self.key, self.session)
        return update

    async def _final(self) -> None:
        """The reply's FINAL / FINAL_VAR, once its cells have run."""
        turn = self.state.repl_turn
        answer, written = self.code_final, False
        if answer is None:
            answer, written = await self._final_answer(turn)
        if answer is not None:
            answer = redact(strip_marks(answer)) or ""
            if not answer or echoes(answer, self.state.query):
                text = prompts.REPL_ERROR.format(error=prompts.REPL_FINAL_ECHOES)
                self.observe(prompts.YOUR_FINAL, text, "error")
            elif looks_like_error(answer):  # a copied message, literal or in a variable
                text = prompts.REPL_ERROR.format(error=FINAL_IS_ERROR)
                self.observe(prompts.YOUR_FINAL, text, "error")
            elif self.ok_cells == 0:
                # None of the call's code has run without an error: nothing computed the
                # answer (measured on the 1.5B: six failed cells, then ``FINAL(1)`` on its
                # last turn). A variable cannot hold it either: no cell finished.
                error = prompts.REPL_FINAL_UNCOMPUTED.format(answer=answer)
                self.observe(prompts.YOUR_FINAL, prompts.REPL_ERROR.format(error=error), "error")
            elif written and not self._number_shown(answer):
                error = prompts.REPL_FINAL_NOT_SHOWN.format(answer=answer.strip())
                self.observe(prompts.YOUR_FINAL, prompts.REPL_ERROR.format(error=error), "error")
            else:
                self.ended = finish("done", answer)
                return
        if turn.get("forced"):
            self.ended = gave_up(self.state.raw, turn.get("forced_ending") or TURN_LIMIT)

    async def _final_answer(self, turn: dict[str, Any]) -> tuple[str | None, bool]:
        """The answer the reply gave and whether the model wrote it itself (not a variable's
        value); None (and an error for the model) when it gave none that can stand: an unknown
        variable, a copied placeholder, a guess beside code."""
        if turn.get("final") is None or turn.get("final_is_name"):
            name = turn.get("final_var") or turn.get("final")
            if not name:
                return None, False
            try:
                value = await self.session.read_variable(name)
            except VariableError:
                pass
            else:
                return await self._variable_answer(name, value), False
            if not turn.get("final_is_name"):
                text = prompts.REPL_ERROR_WITH_HINT.format(
                    error=prompts.REPL_NO_SUCH_VARIABLE.format(name=name),
                    hint=await self._variables_hint(),
                )
                self.observe(prompts.REPL_FINAL_VAR_LABEL.format(name=name), text, "error")
                return None, False
            # FINAL(name) and no such variable: the text itself, unless it is not an answer.
            if is_placeholder(name):
                text = prompts.REPL_ERROR_WITH_HINT.format(
                    error=FINAL_IS_PLACEHOLDER.format(argument=name),
                    hint=await self._variables_hint(),
                )
                self.observe(prompts.REPL_FINAL_LABEL.format(name=name), text, "error")
                return None, False
            if turn.get("ran_code"):
                text = prompts.REPL_ERROR.format(error=FINAL_WITH_CODE)
                self.observe(prompts.YOUR_REPLY, text, "error")
                return None, False
            return name, True
        return turn["final"], True

    def _number_shown(self, answer: str) -> bool:
        """Whether an answer the model wrote itself can stand: any answer to a question that
        does not ask for a number, and otherwise one whose number an output of the code showed
        (the 1.5B printed 137 matching dates, one a line, then answered ``FINAL(3)``)."""
        if not asks_for_number(self.state.query):
            return True
        given = numbers_in(answer)
        return not given or bool(given & self.numbers_printed)

    async def _variable_answer(self, name: str, value: str) -> str | None:
        """A variable's value as the answer, unless the question asks for a number and the
        variable holds a collection (the 1.5B printed the right count of 143 records, then
        answered ``FINAL_VAR(complaint_records)``, the list of them), no number at all (the
        1.5B answered with its function, ``<function 'record_fields' at 0x2c>``), or the count
        of a cell that was not taken: the model is told what the variable holds, and answers
        again."""
        if not asks_for_number(self.state.query):
            return value
        held = numbers_in(value)
        size = await self.session.collection_size(name)
        if size is not None:
            kind, items = size
            error = prompts.REPL_FINAL_COLLECTION.format(name=name, kind=kind, items=items)
        elif not held:
            shown = " ".join(value.split())[:80]
            error = prompts.REPL_FINAL_NO_NUMBER.format(name=name, value=shown)
        elif held & self.numbers_untaken and not held & self.numbers_printed:
            error = prompts.REPL_FINAL_UNTAKEN.format(name=name, value=value.strip()[:80])
        else:
            return value
        self.observe(
            prompts.REPL_FINAL_VAR_LABEL.format(name=name),
            prompts.REPL_ERROR.format(error=error),
            "error",
        )
        return None

    async def _variables_hint(self) -> str:
        """Which variables the model's code assigned in this call and the session holds, to
        answer FINAL_VAR with (a cell that failed before its assignment set nothing: the 1.5B
        was told "no variable 'count' is set. Variables your code set: count")."""
        names: list[str] = []
        for entry in self.state.transcript:
            if entry.get("author") == "model":
                for code in parse_repl(entry.get("text", "")).cells:
                    ran = take_off_context_loads(code, CONTEXT_VARIABLE).code
                    names.extend(n for n in assigned_names(ran) if n != CONTEXT_VARIABLE)
        held: list[str] = []
        for name in dict.fromkeys(reversed(names)):
            if len(held) == VARIABLES_LISTED:
                break
            try:
                await self.session.read_variable(name)
            except VariableError:
                continue
            held.append(name)
        names = held
        if not names:
            return prompts.REPL_NO_VARIABLES
        return prompts.REPL_VARIABLES_SET.format(names=", ".join(names))

    # -- pending calls -> jobs ----------------------------------------------------------------

    def _launch(self, pending: list[PendingCall]) -> dict[str, str | CallError] | None:
        """Jobs for a paused cell's sub-calls, or the answers that refuse them (all of them:
        a batch with one refused item fails as a whole, so none of it is run or paid)."""
        depth = self.state.depth + 1
        budget, rt = self.budget, self.rt
        plans: list[tuple[PendingCall, ContextRef, bool, str]] = []
        problems: dict[str, str] = {}
        if depth > budget.max_depth:
            message = prompts.SUBCALL_TOO_DEEP.format(max_depth=budget.max_depth)
            return {
                call.id: CallError(message=message) if i == 0 else ""
                for i, call in enumerate(pending)
            }
        for call in pending:
            ref, leaf, problem = self._child_context(call, depth)
            if problem is not None or ref is None:
                problems[call.id] = problem or prompts.SUBCALL_NOT_RUN
                continue
            label = "prompt" if call.function.startswith("llm_") else ref.label
            plans.append((call, ref, leaf, label))
        if not problems:
            affordable = budget.calls_left - 1  # the planner's next turn is kept
            costs = [rt.reading_cost(ref.size) for _, ref, _, _ in plans]
            if len(pending) > affordable:
                problems[pending[0].id] = prompts.SUBCALL_NO_CALLS.format(
                    asked=len(pending), left=max(0, affordable)
                )
            elif budget.tokens_left is not None and sum(costs) > budget.tokens_left:
                problems[pending[0].id] = prompts.SUBCALL_NO_TOKENS.format(
                    cost=sum(costs), left=max(0, budget.tokens_left)
                )
        if problems:
            return {
                call.id: CallError(message=problems[call.id]) if call.id in problems else ""
                for call in pending
            }

        share = budget.share(len(plans)) or budget
        for position, (call, ref, leaf, label) in enumerate(plans):
            self.calls_made += 1
            call_id = f"{self.state.call_id}.{self.calls_made}"
            query = call.function.startswith("llm_")
            task = redact(call.args["prompt"] if query else call.args["task"]) or ""
            if query and len(task) > TASK_PREVIEW_CHARS:
                task = task[:TASK_PREVIEW_CHARS] + " ..."
            self.jobs.append(
                Job(
                    index=position,
                    call_id=call_id,
                    parent_id=self.state.call_id,
                    turn=self.state.turn,
                    depth=depth,
                    task=task,
                    target=label,
                    context=ref,
                    budget=share,
                    leaf=leaf,
                    kind="query" if query else "rlm",
                    cache_key=f"repl\x1f{call_id}",
                    action=f"{call.function} {call.id}",
                    tokens=rt.slice_tokens(ref.size),
                )
            )
            self.pending.append(
                PendingSubcall(
                    id=call.id,
                    call_id=call_id,
                    function=call.function,
                    # rlm_query on a span of the context: its findings are located text.
                    located=not query and ref.store_id == self.view.ref.store_id,
                )
            )
        return None

    def _child_context(
        self, call: PendingCall, depth: int
    ) -> tuple[ContextRef | None, bool, str | None]:
        """The child's context (a span of the context, or a stored text), whether it is a leaf,
        or why it cannot run."""
        rt = self.rt
        if call.function.startswith("llm_"):
            prompt = call.args["prompt"]
            if not prompt.strip():
                return None, True, prompts.SUBCALL_NEEDS_PROMPT
            size = len(prompt.encode("utf-8"))
            if not rt.fits_leaf(size):
                return None, True, self._too_long(prompts.SUBCALL_PROMPT, size)
            return _text_context(rt, prompt, "prompt"), True, None
        task, text = call.args["task"], call.args["text"]
        if not task.strip():
            return None, True, prompts.SUBCALL_NEEDS_TASK
        ref = locate_text(self.view, self.context(), text)
        if ref is None:
            ref = _text_context(rt, text, "text")
        fits = rt.fits_leaf(ref.size)
        if depth >= self.budget.max_depth and not fits:
            return None, True, self._too_long(prompts.SUBCALL_TEXT, ref.size)
        return ref, depth >= self.budget.max_depth or fits, None

    def _too_long(self, what: str, size: int) -> str:
        return prompts.SUBCALL_TOO_LONG.format(
            what=what, tokens=self.rt.slice_tokens(size), window=self.rt.leaf_window_tokens
        )


def _code_key(code: str) -> str:
    """A cell's code with trailing spaces and blank lines left out, hashed: the same program
    sent twice. Indentation is kept (it is part of the program), and so are comments (a '#'
    may stand inside a string)."""
    lines = (line.rstrip() for line in code.strip("\n").splitlines())
    return hashlib.sha256("\n".join(line for line in lines if line).encode()).hexdigest()[:16]


def _same_ok_cell_note(printed: str) -> str:
    """What a repeated cell is told: its output again, and the answer line when that output
    is one short line (the code computed it; the model still has to give it)."""
    value = printed.strip()
    one_value = value and "\n" not in value and len(value) <= SHORT_OUTPUT_CHARS
    how = prompts.REPL_ANSWER_ANY
    if one_value and value != "[no output]":
        how = prompts.REPL_ANSWER_VALUE.format(value=value)
    return prompts.REPL_SAME_OK_CODE.format(printed=printed, how=how)


def _last_line(error: str) -> str:
    """The line of a traceback that says what went wrong (its last non-empty one)."""
    lines = [line.strip() for line in error.strip().splitlines() if line.strip()]
    return lines[-1] if lines else error.strip()


def _running_record(job: Job, rt: RLMRuntime) -> dict[str, Any]:
    query = job.kind == "query"
    return running_record(
        job,
        rt.model_for(job.depth).name,
        kind="query" if query else None,
        located=not query and job.target != "text",
    )


# -- the nodes' REPL steps ----------------------------------------------------------------


async def run_cells(state: RLMState, runtime: Runtime[RLMRuntime]) -> dict[str, Any]:
    """``call`` in REPL mode: run the reply's cells (its parse errors shown first)."""
    turn = CallState(state).repl_turn
    cells = await _Cells.open(state, runtime)
    cells.observations = []
    for error in turn.get("errors") or []:
        cells.observe(prompts.YOUR_REPLY, prompts.REPL_ERROR.format(error=error), "error")
    return await cells.advance(None)


def _answers(
    pending: list[PendingSubcall], results: list[ChildResult]
) -> dict[str, str | CallError]:
    """The children's replies as the paused cell receives them: redacted, since whatever
    enters the sandbox ends up in its dumped state (a provider may echo a key)."""
    by_call = {result.call_id: result for result in results}
    answers: dict[str, str | CallError] = {}
    for meta in pending:
        result = by_call.get(meta.call_id)
        if result is None:
            message = prompts.SUBCALL_LOST.format(function=meta.function)
            answers[meta.id] = CallError(message=message)
        elif result.status == "error":
            error = redact(result.error) or prompts.SUBCALL_UNKNOWN_ERROR
            message = prompts.SUBCALL_FAILED.format(function=meta.function, error=error)
            answers[meta.id] = CallError(message=message)
        elif result.outcome == "not_found":
            answers[meta.id] = prompts.NOT_FOUND
        else:
            answers[meta.id] = redact(result.answer) or ""
    return answers


async def resume_cells(
    state: RLMState,
    runtime: Runtime[RLMRuntime],
    fold: Callable[[dict[str, Any], Runtime[RLMRuntime]], dict[str, Any]],
) -> dict[str, Any]:
    """``merge`` in REPL mode, with a cell paused at sub-calls: account for the children,
    resume the cell with their answers and go on. A new pause sends new jobs; otherwise the
    step ends as a plain merge (``fold``) of the cells' observations."""
    rt, reads = runtime_context(runtime), CallState(state)
    results = reads.child_results
    pending = reads.repl_pending
    used = child_usage(result.usage for result in results)
    usage = reads.raw.get("usage")
    for result in results:
        usage = merge_usage(usage, result.usage)
    budget = rt.tick(reads.budget.charge(calls=used.model_calls, tokens=used.total_tokens))
    located = {meta.call_id for meta in pending if meta.located}
    new_findings = dumps(
        found
        for result in results
        if result.call_id in located and (found := finding(result)) is not None
    )
    child_records = [record for result in results for record in result.records]
    accounted = {"usage": usage or {}, "budget": budget.model_dump()}

    cells = await _Cells.open(state, runtime, budget)
    outcome = await cells.session.resume(_answers(pending, results))
    step = await cells.advance(outcome)
    if step["jobs"]:
        update = {
            **accounted,
            **step,
            "child_results": Overwrite([]),
            "findings": new_findings,
            "records": child_records + step["records"],
        }
        # An empty write to a delta channel would still cost a stored write: leave it out.
        return {k: v for k, v in update.items() if k not in ("findings", "records") or v}
    findings = [*(state.get("findings") or []), *new_findings]
    merged = {**state, **accounted, **step, "child_results": [], "findings": findings}
    folded = fold(merged, runtime)
    folded["child_results"] = Overwrite([])
    folded["repl_pending"] = []
    carried = (
        "repl_state",
        "repl_cells",
        "calls_made",
        "repl_ok_cells",
        "repl_failed_cells",
        "repl_last_ok_cell",
        "repl_numbers_printed",
        "repl_numbers_untaken",
        "force_reason",
    )
    for key in (*carried, "status", "answer", "error"):
        # What the cells ended with (grounding may have rewritten the answer: that stands).
        if key in step and key not in folded:
            folded[key] = step[key]
    records = child_records + list(folded.get("records") or [])
    if records:
        folded["records"] = records
    if new_findings:
        folded["findings"] = new_findings
    return folded


async def merge_cells(
    state: RLMState,
    runtime: Runtime[RLMRuntime],
    fold: Callable[[dict[str, Any], Runtime[RLMRuntime]], dict[str, Any]],
) -> dict[str, Any]:
    """``merge`` in REPL mode: :func:`resume_cells` while a cell waits, else the plain merge;
    a call that ends here (its answer, or its budget spent) gives its session back."""
    if CallState(state).repl_pending:
        update = await resume_cells(state, runtime, fold)
    else:
        update = fold(state, runtime)
    if is_finished({**state, **update}):
        await sessions_of(runtime_context(runtime)).drop(_session_key(state))
    return update


async def run_query(job: Job, runtime: Runtime[RLMRuntime]) -> dict[str, Any]:
    """``recurse`` for an llm_query child: one plain model call over the prompt the code
    wrote (read back from the blob store), its reply returned as it is."""
    rt = runtime_context(runtime)
    model = rt.model_for(job.depth)
    emit_child_started(runtime, job, "query")
    prompt = rt.registry.view(job.context).text()
    events = ModelCallEvents(runtime, job.call_id, "query")
    reply = await call_model(rt, model, [HumanMessage(prompt)], events=events)
    state = job.child_state(started_at=time.time() - reply.seconds)
    state["context"] = {"start": 0, "end": 0}  # a prompt, not a span of the context
    # Redacted like a cell's output: this reply goes into the cell, the record and the tree.
    answer = None if reply.error else redact(strip_think(reply.text).strip())
    state.update(
        usage_update(state, model.name, reply.usage),
        iteration=1,
        **finish("error" if reply.error else "done", answer, reply.error),
    )
    record = record_from_state(state, kind="query", model=model.name)
    emit_call_finished(runtime, record, state["usage"])
    result = ChildResult.of(job, record, state["usage"], [record.model_dump()])
    return {"child_results": [result.dump()]}


__all__ = [
    "REPL_LIMITS",
    "ReplSessions",
    "context_value",
    "locate_text",
    "merge_cells",
    "resume_cells",
    "run_cells",
    "run_query",
    "sessions_of",
    "shared_sandbox",
]
