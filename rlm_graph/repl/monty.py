"""The REPL sandbox on pydantic-monty: a Python interpreter written in Rust, run in worker
subprocesses that have no files, network or environment unless the host grants them.

Each session holds one worker. The host drives every cell step by step (``feed_start``):

- calls to ``llm_query`` / ``llm_query_batched`` / ``rlm_query`` / ``rlm_query_batched`` stop
  the cell; the call becomes ``PendingCall`` records and the cell waits for ``resume``.
  A batched call is one suspension with many items, so all its sub-calls are pending at once;
- ``FINAL(value)`` / ``FINAL_VAR(value)`` record ``value`` (as text) as the cell's answer and
  return None, without stopping the cell;
- any other call to an undefined function, and any undefined name, is answered with NameError;
- every OS call (open, os.environ, os.getenv, Path.read_text, unknown imports, ...) is refused
  with monty's default answer (PermissionError, RuntimeError, ModuleNotFoundError);
- a time or memory limit, or a dead worker, rolls the session back to its state before the
  cell: monty leaves no guarantee about a heap stopped mid-operation.
"""

from __future__ import annotations

import asyncio
import contextlib
import keyword
from collections.abc import Mapping
from typing import Any

import pydantic_monty as pm

from rlm_graph.repl.models import (
    ANSWER_FUNCTIONS,
    CONTEXT_VARIABLE,
    SUB_CALL_FUNCTIONS,
    CallError,
    CellOutcome,
    ContextValue,
    ErrorKind,
    PendingCall,
    SandboxLimits,
)
from rlm_graph.repl.output import OutputBuffer
from rlm_graph.repl.sandbox import SandboxBusyError, VariableError
from rlm_graph.repl.state import PausedCell, SandboxStateError, SessionState

RUNTIME = f"pydantic-monty/{pm.__version__}"

# Sleeping inside a cell would hold a worker and count against nothing: make it a no-op.
_OS_POLICY: pm.OSPolicy = {"sleep": "zero"}

# Parameters of each host function, in positional order.
_PARAMS: dict[str, tuple[str, ...]] = {
    "llm_query": ("prompt",),
    "llm_query_batched": ("prompts",),
    "rlm_query": ("task", "text"),
    "rlm_query_batched": ("items",),
    "FINAL": ("answer",),
    "FINAL_VAR": ("answer",),
}


def _placeholder(*_args: Any, **_kwargs: Any) -> None:
    """Bound to the sub-call names so that ``f = llm_query`` resolves to a host function.

    Never called: every call to it surfaces as a snapshot that the host answers itself.
    """
    raise RuntimeError("sub-calls are answered through resume()")


_EXTERNALS = dict.fromkeys(SUB_CALL_FUNCTIONS + ANSWER_FUNCTIONS, _placeholder)


class MontySandbox:
    """Sessions on a pool of monty worker processes; use as ``async with MontySandbox() as sb``.

    ``max_workers`` caps live workers, and each open session holds one, paused or not: close
    (or ``state()`` then ``close()``) a paused session whose sub-calls start REPL sessions of
    their own, or size the pool for the deepest tree. ``checkout_timeout`` turns a starved pool
    into an error rather than a hang.
    """

    def __init__(
        self,
        *,
        max_workers: int = 16,
        checkout_timeout: float | None = 120.0,
        binary_path: str | None = None,
    ) -> None:
        self._pool_args: dict[str, Any] = {
            "min_processes": 1,
            "max_processes": max_workers,
            "checkout_timeout": checkout_timeout,
            "binary_path": binary_path,
        }
        self._pool: pm.AsyncMonty | None = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> MontySandbox:
        await self._ensure_pool()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.__aexit__(None, None, None)

    async def start(
        self, context: ContextValue, limits: SandboxLimits | None = None, prelude: str = ""
    ) -> MontySession:
        limits = limits or SandboxLimits()
        session = MontySession(self, context, limits)
        session._checkout = await self._checkout(limits, context)
        try:
            # Bound once as a global; it stays for the session's life and is cut out of states.
            await session._checkout.feed_run(
                prelude or "None",
                inputs={CONTEXT_VARIABLE: context},
                print_callback=OutputBuffer(0).write,
            )
            session._idle_dump = await session._checkout.dump()
        except BaseException:
            await session.close()
            raise
        return session

    async def restore(
        self, state: bytes, context: ContextValue, limits: SandboxLimits | None = None
    ) -> MontySession:
        saved = SessionState.from_bytes(state, context)
        if saved.runtime.split("/")[0] != RUNTIME.split("/")[0]:
            raise SandboxStateError(f"state from {saved.runtime}, not from {RUNTIME}")
        limits = limits or saved.limits
        session = MontySession(self, context, limits)
        session._cell = saved.cell
        session._checkout = await self._checkout(limits, context)
        try:
            if saved.kind == "idle":
                await session._checkout.load_session(saved.dump)
                session._idle_dump = saved.dump
            else:
                assert saved.paused is not None and saved.rollback is not None
                paused = saved.paused
                session._output = OutputBuffer(
                    limits.output_chars,
                    text=paused.output,
                    cut=paused.output_cut_chars,
                    lines=paused.output_lines,
                )
                session._final = paused.final
                snapshot = await session._checkout.load_snapshot(
                    saved.dump, print_callback=session._output.write, external_lookup=_EXTERNALS
                )
                if not isinstance(snapshot, pm.AsyncFunctionSnapshot):
                    raise SandboxStateError(f"restored a {type(snapshot).__name__}, not a call")
                session._idle_dump = saved.rollback
                session._paused = (snapshot, paused)
        except BaseException:
            await session.close()
            raise
        return session

    async def _ensure_pool(self) -> pm.AsyncMonty:
        async with self._lock:
            if self._pool is None:
                pool = pm.AsyncMonty(**self._pool_args)
                await pool.__aenter__()
                self._pool = pool
            return self._pool

    async def _checkout(self, limits: SandboxLimits, context: ContextValue) -> Any:
        pool = await self._ensure_pool()
        checkout = pool.checkout(limits=_monty_limits(limits, context), os_policy=_OS_POLICY)
        await checkout.__aenter__()
        return checkout


def _monty_limits(limits: SandboxLimits, context: ContextValue) -> pm.ResourceLimits:
    texts = [context] if isinstance(context, str) else list(context.values())
    context_bytes = sum(len(text.encode("utf-8")) for text in texts)
    return {
        "max_feed_duration_secs": limits.cell_seconds,
        # The context is on the heap once, and twice while it is being bound (measured); the
        # cell's own budget comes on top so a big context does not starve the code.
        "max_memory": limits.memory_bytes + 2 * context_bytes,
        "max_recursion_depth": limits.recursion_depth,
        "max_suspensions": limits.max_suspensions,
    }


class MontySession:
    """One REPL session on one monty worker. See ``SandboxSession`` for the contract."""

    def __init__(self, sandbox: MontySandbox, context: ContextValue, limits: SandboxLimits):
        self._sandbox = sandbox
        self._context = context
        self._limits = limits
        self._checkout: Any = None
        self._cell = 0
        # The idle session as it was after the last finished cell: restored after a limit hit.
        self._idle_dump: bytes = b""
        self._paused: tuple[pm.AsyncFunctionSnapshot, PausedCell] | None = None
        self._output = OutputBuffer(limits.output_chars)
        self._final: str | None = None  # what the running cell gave FINAL(...), if anything

    @property
    def paused(self) -> bool:
        return self._paused is not None

    @property
    def pending(self) -> list[PendingCall]:
        return [] if self._paused is None else list(self._paused[1].pending)

    @property
    def worker_pid(self) -> int | None:
        return None if self._checkout is None else self._checkout.worker_pid

    async def run(self, code: str) -> CellOutcome:
        self._require(paused=False)
        self._cell += 1
        self._output = OutputBuffer(self._limits.output_chars)
        self._final = None
        return await self._guard(
            self._checkout.feed_start(
                code, print_callback=self._output.write, external_lookup=_EXTERNALS
            )
        )

    async def resume(self, results: Mapping[str, str | CallError]) -> CellOutcome:
        self._require(paused=True)
        assert self._paused is not None
        snapshot, paused = self._paused
        answer = _answer(paused, results)
        self._paused = None
        return await self._guard(snapshot.resume(answer))

    async def read_variable(self, name: str) -> str:
        value = await self._evaluate(name, name)
        return value if isinstance(value, str) else str(value)

    async def collection_size(self, name: str) -> tuple[str, int] | None:
        kinds = "(list, tuple, set, dict)"
        found = await self._evaluate(
            name, f"(type({name}).__name__, len({name})) if isinstance({name}, {kinds}) else None"
        )
        return (str(found[0]), int(found[1])) if found else None

    async def _evaluate(self, name: str, expression: str) -> Any:
        """``expression`` over the variable ``name``, evaluated in the session."""
        self._require(paused=False)
        if not name.isidentifier() or keyword.iskeyword(name):
            raise VariableError(f"{name!r} is not a variable name")
        try:
            step = await self._checkout.feed_start(expression, print_callback=OutputBuffer(0).write)
            if isinstance(step, pm.AsyncNameLookupSnapshot):
                await step.resume()  # leaves it undefined: NameError below
            if not isinstance(step, pm.MontyComplete):
                raise VariableError(f"variable {name!r} is not defined")
        except pm.MontyRuntimeError as exc:
            raise VariableError(f"variable {name!r} is not defined") from exc
        return step.output

    async def state(self) -> bytes:
        if self._paused is None:
            saved = SessionState(
                runtime=RUNTIME,
                kind="idle",
                cell=self._cell,
                limits=self._limits,
                dump=self._idle_dump,
            )
        else:
            snapshot, paused = self._paused
            # Validated, not model_copy'd: the output is redacted on the way in.
            paused = PausedCell.model_validate(
                {
                    **paused.model_dump(),
                    **self._output.fields(),
                    "final": self._final,
                }
            )
            saved = SessionState(
                runtime=RUNTIME,
                kind="paused",
                cell=self._cell,
                limits=self._limits,
                dump=await asyncio.to_thread(snapshot.dump),
                rollback=self._idle_dump,
                paused=paused,
            )
        return saved.to_bytes(self._context)

    async def close(self) -> None:
        checkout, self._checkout = self._checkout, None
        self._paused = None
        if checkout is not None:
            with contextlib.suppress(pm.MontyError, OSError):
                await checkout.__aexit__(None, None, None)

    # -- driving a cell ------------------------------------------------------------------------

    def _require(self, *, paused: bool) -> None:
        if self._checkout is None:
            raise SandboxBusyError("the session is closed")
        if paused and self._paused is None:
            raise SandboxBusyError("no cell is paused: nothing to resume")
        if not paused and self._paused is not None:
            raise SandboxBusyError("a cell is paused at sub-calls: resume it first")

    async def _guard(self, step: Any) -> CellOutcome:
        """Drive a cell from its first (or resumed) step, turning monty errors into outcomes."""
        try:
            return await self._drive(await step)
        except pm.MontySyntaxError as exc:
            return await self._finish(error=exc.display(), kind="syntax")
        except pm.MontyRuntimeError as exc:
            kind = _limit_kind(exc.display("type-msg"))
            if kind is None:
                return await self._finish(error=exc.display(), kind="exception")
            return await self._rolled_back(exc.display(), kind)
        except pm.MontyCrashedError as exc:
            message = str(exc)
            kind = "memory" if "memory limit" in message else "crash"
            return await self._rolled_back(f"the sandbox worker stopped: {message}", kind)
        except pm.MontyError as exc:
            return await self._finish(error=f"{type(exc).__name__}: {exc}", kind="exception")

    async def _drive(self, step: Any) -> CellOutcome:
        while True:
            if isinstance(step, pm.MontyComplete):
                return await self._finish(result=step.output)
            if isinstance(step, pm.AsyncNameLookupSnapshot):
                if step.object_id is None and step.variable_name in _EXTERNALS:
                    step = await step.resume_auto()  # binds the name to a host function
                else:
                    step = await step.resume()  # undefined: NameError in the sandbox
            elif isinstance(step, pm.AsyncFunctionSnapshot):
                if step.is_os_function:
                    step = await step.resume_not_handled()  # refused: no OS access
                elif step.object_id is None and step.function_name in ANSWER_FUNCTIONS:
                    try:
                        value = _bind(step.function_name, step.args, step.kwargs)["answer"]
                    except TypeError as exc:
                        step = await step.resume({"exc_type": "TypeError", "message": str(exc)})
                        continue
                    self._final = value if isinstance(value, str) else str(value)
                    step = await step.resume({"return_value": None})
                elif step.object_id is None and step.function_name in _PARAMS:
                    try:
                        paused = self._pause(step)
                    except TypeError as exc:
                        step = await step.resume({"exc_type": "TypeError", "message": str(exc)})
                        continue
                    if not paused.pending:  # an empty batch needs no one
                        step = await step.resume({"return_value": []})
                        continue
                    self._paused = (step, paused)
                    return CellOutcome(
                        status="paused",
                        cell=self._cell,
                        **self._output.fields(),
                        pending=list(paused.pending),
                        final=self._final,
                    )
                else:
                    message = f"name {step.function_name!r} is not defined"
                    step = await step.resume({"exc_type": "NameError", "message": message})
            elif isinstance(step, pm.AsyncFutureSnapshot):
                # Only reachable if the code awaits something the host never made a future of.
                message = "sub-calls are synchronous here: call them without await"
                step = await step.resume(
                    {
                        cid: {"exc_type": "RuntimeError", "message": message}
                        for cid in step.pending_call_ids
                    }
                )
            else:
                raise SandboxStateError(f"unexpected sandbox step {type(step).__name__}")

    def _pause(self, step: pm.AsyncFunctionSnapshot) -> PausedCell:
        """The pending calls of one suspended sub-call; TypeError if its arguments are wrong."""
        function = str(step.function_name)
        bound = _bind(function, step.args, step.kwargs)
        base = f"c{self._cell}.{step.call_id}"
        pending: list[PendingCall]
        if function == "llm_query":
            pending = [PendingCall(id=base, function="llm_query", args=_texts(function, bound))]
        elif function == "rlm_query":
            pending = [PendingCall(id=base, function="rlm_query", args=_texts(function, bound))]
        elif function == "llm_query_batched":
            prompts = _items(function, bound["prompts"])
            pending = [
                PendingCall(
                    id=f"{base}.{i}",
                    function="llm_query_batched",
                    args=_texts(function, {"prompt": prompt}, f"prompts[{i}]"),
                    batch_index=i,
                )
                for i, prompt in enumerate(prompts)
            ]
        else:
            pending = []
            for i, item in enumerate(_items(function, bound["items"])):
                if not isinstance(item, list | tuple) or len(item) != 2:
                    raise TypeError(f"{function}() items[{i}] must be a (task, text) pair")
                args = _texts(function, {"task": item[0], "text": item[1]}, f"items[{i}]")
                pending.append(
                    PendingCall(id=f"{base}.{i}", function=function, args=args, batch_index=i)
                )
        return PausedCell(
            call_id=step.call_id,
            function=function,
            batched=function.endswith("_batched"),
            pending=pending,
        )

    async def _finish(
        self, *, result: Any = None, error: str | None = None, kind: ErrorKind | None = None
    ) -> CellOutcome:
        # The idle state after every cell: what state() returns and a later limit hit restores.
        self._idle_dump = await self._checkout.dump()
        shown = None
        if result is not None and error is None:
            shown = _cap(repr(result), self._limits.output_chars)
        return CellOutcome(
            status="finished",
            cell=self._cell,
            **self._output.fields(),
            result=shown,
            error=None if error is None else _cap_tail(error, self._limits.error_chars),
            error_kind=kind,
            final=self._final,
        )

    async def _rolled_back(self, error: str, kind: ErrorKind) -> CellOutcome:
        """Replace the worker and restore the state from before the cell."""
        self._paused = None
        old, self._checkout = self._checkout, None
        if old is not None:
            with contextlib.suppress(pm.MontyError, OSError):
                await old.__aexit__(None, None, None)
        self._checkout = await self._sandbox._checkout(self._limits, self._context)
        await self._checkout.load_session(self._idle_dump)
        return CellOutcome(
            status="finished",
            cell=self._cell,
            **self._output.fields(),
            error=_cap_tail(error, self._limits.error_chars),
            error_kind=kind,
            rolled_back=True,
        )


def _limit_kind(head: str) -> ErrorKind | None:
    """Which limit a runtime error reports, from monty's uncatchable limit messages."""
    if head.startswith("TimeoutError:") and "time limit exceeded" in head:
        return "timeout"
    if head.startswith("MemoryError:") and (
        "memory limit exceeded" in head or "exceeded its memory limit" in head
    ):
        return "memory"
    return None


def _bind(function: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Python's argument binding for the host functions, with Python's error messages."""
    params = _PARAMS[function]
    if len(args) > len(params):
        raise TypeError(
            f"{function}() takes {len(params)} positional argument(s) but {len(args)} were given"
        )
    bound = dict(zip(params, args, strict=False))
    for key, value in kwargs.items():
        if key not in params:
            raise TypeError(f"{function}() got an unexpected keyword argument {key!r}")
        if key in bound:
            raise TypeError(f"{function}() got multiple values for argument {key!r}")
        bound[key] = value
    missing = [p for p in params if p not in bound]
    if missing:
        raise TypeError(f"{function}() missing required argument: {missing[0]!r}")
    return bound


def _texts(function: str, values: dict[str, Any], where: str = "") -> dict[str, str]:
    for key, value in values.items():
        if not isinstance(value, str):
            place = where or key
            raise TypeError(f"{function}() {place} must be str, not {type(value).__name__}")
    return dict(values)


def _items(function: str, value: Any) -> list[Any]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise TypeError(f"{function}() takes a list, not {type(value).__name__}")
    return list(value)


def _answer(paused: PausedCell, results: Mapping[str, str | CallError]) -> dict[str, Any]:
    """monty's resume value for a paused call, from the host's answers by pending id."""
    ids = [call.id for call in paused.pending]
    missing = [i for i in ids if i not in results]
    if missing:
        raise KeyError(f"no answer for pending call(s) {', '.join(missing)}")
    extra = sorted(set(results) - set(ids))
    if extra:
        raise KeyError(f"answers for calls that are not pending: {', '.join(extra)}")
    for call_id in ids:
        if not isinstance(results[call_id], str | CallError):
            raise TypeError(f"answer for {call_id} must be str or CallError")
    failures = [(i, results[i]) for i in ids if isinstance(results[i], CallError)]
    if failures:
        if not paused.batched:
            return {"exc_type": "RuntimeError", "message": failures[0][1].message}  # type: ignore[union-attr]
        detail = "; ".join(f"item {ids.index(i)}: {err.message}" for i, err in failures)  # type: ignore[union-attr]
        return {"exc_type": "RuntimeError", "message": f"{paused.function}() failed: {detail}"}
    if not paused.batched:
        return {"return_value": results[ids[0]]}
    return {"return_value": [results[i] for i in ids]}


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[truncated: {len(text) - limit} more characters]"


def _cap_tail(text: str, limit: int) -> str:
    """Keep the end of a traceback: the exception type and message are its last line."""
    if len(text) <= limit:
        return text
    return f"[traceback truncated: {len(text) - limit} earlier characters]\n" + text[-limit:]
