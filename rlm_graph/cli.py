"""The ``rlm-graph`` command: ask, and continue, inspect and fork stored runs.

Only the standard library is imported at module level: ``--help`` and argument errors answer
at once, and LangGraph, LangChain and the models load only when a run starts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rlm_graph.home import default_db_path

EXIT_OK = 0
EXIT_FAILED = 1  # the run ended with status error
EXIT_USAGE = 2  # bad arguments, unusable input, a thread that cannot take this: nothing ran
EXIT_BUDGET = 3  # the run ended with status budget_exhausted
EXIT_WAITING = 4  # the run paused at an approval gate: approve or deny it
EXIT_NOT_FOUND = 5  # the run finished, and nothing in the text answers the question
EXIT_INTERRUPTED = 130  # Ctrl-C: the thread is kept and can be resumed


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _add_storage(parser: argparse.ArgumentParser, *, run: bool = True) -> None:
    parser.add_argument(
        "--db",
        default=None,
        help=f"SQLite file or postgresql:// URL for checkpoints (default: {default_db_path()})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    if run:
        parser.add_argument("--quiet", action="store_true", help="no progress output")


@dataclass(frozen=True)
class _RunFlag:
    """A flag that sets a run option. ``ask`` offers every one, with its default; ``fork`` those
    marked ``fork`` (the models and limits ``RLM.fork`` may change), with no default: a flag
    left out keeps the stored run's value."""

    flag: str
    option: str  # the RLMOptions field, that is the RLM keyword, it sets
    spec: dict[str, Any]  # add_argument's keywords, as ask has them
    fork: bool = False
    fork_help: str | None = None  # fork's own wording, where it differs

    @property
    def dest(self) -> str:
        return self.spec.get("dest") or self.flag.removeprefix("--").replace("-", "_")


# In the order --help lists them.
_RUN_FLAGS = (
    _RunFlag(
        "--model",
        "model",
        {"default": "local", "help": "root model spec (default: local)"},
        fork=True,
        fork_help="another root model spec",
    ),
    _RunFlag(
        "--sub-model",
        "sub_model",
        {"help": "model spec for sub-calls (default: --model)"},
        fork=True,
        fork_help="another sub-model spec",
    ),
    _RunFlag(
        "--base-url",
        "base_url",
        {"help": "OpenAI-compatible server URL (or $OPENAI_BASE_URL)"},
        fork=True,
        fork_help="OpenAI-compatible server URL",
    ),
    _RunFlag(
        "--max-depth",
        "max_depth",
        {"type": int, "default": 1, "help": "CALL levels below the root (1)"},
        fork=True,
    ),
    _RunFlag(
        "--max-calls",
        "max_calls",
        {"type": _positive_int, "default": 100, "help": "model calls in the whole run (100)"},
        fork=True,
    ),
    _RunFlag(
        "--max-tokens",
        "max_tokens",
        {"type": _positive_int, "help": "input+output tokens, whole run"},
        fork=True,
    ),
    _RunFlag(
        "--max-seconds", "max_seconds", {"type": float, "help": "wall-clock limit"}, fork=True
    ),
    _RunFlag(
        "--max-iterations",
        "max_iterations",
        {"type": _positive_int, "default": 8, "help": "planner turns per call (8)"},
        fork=True,
    ),
    _RunFlag(
        "--concurrency",
        "concurrency",
        {
            "type": _positive_int,
            "help": "model calls in flight at once (default: per model; the local model's "
            "server slots, 16 for other models)",
        },
        fork=True,
    ),
    _RunFlag(
        "--direct-below",
        "direct_below",
        {
            "type": _non_negative_int,
            "metavar": "TOKENS",
            "help": "answer in one model call, without planning, when the whole context is "
            "below TOKENS and fits the model (default: whenever it fits; 0: always recurse)",
        },
    ),
    _RunFlag(
        "--approve-over",
        "approve_over",
        {
            "type": _non_negative_int,
            "metavar": "TOKENS",
            "help": "pause for approval before any fan-out estimated to read more than TOKENS",
        },
    ),
    _RunFlag(
        "--no-judge",
        "judge",
        {
            "dest": "judge",
            "action": "store_false",
            "help": "verify findings by word overlap alone, without the second model call that "
            "reads each finding's passage alone and must answer the same",
        },
    ),
    _RunFlag(
        "--judge-model",
        "judge_model",
        {
            "help": "model spec of the reader that verifies a finding for a question asked in "
            "other words than the text's (default: the sub-model; with the embedded 0.5B, the "
            "embedded 1.5B when installed, else none, so such findings stay unverified)"
        },
    ),
    _RunFlag("--planner", "planner", {"choices": ["model", "map-reduce"], "default": "model"}),
    _RunFlag(
        "--mode",
        "mode",
        {
            "choices": ["auto", "calls", "repl"],
            "default": "auto",
            "help": "calls: the model writes CALL/PEEK/GREP actions; repl: it writes Python "
            "against the context in a sandbox, with llm_query/rlm_query sub-calls; auto "
            "(default): repl for a question that counts or totals what the text holds (how "
            "many records have ..., count ...), calls for any other",
        },
    ),
    _RunFlag(
        "--action-format",
        "action_format",
        {
            "choices": ["text", "json", "tools"],
            "default": "text",
            "help": "how the planner writes actions (text)",
        },
    ),
    _RunFlag(
        "--chunk-tokens",
        "chunk_tokens",
        {"type": _positive_int, "help": "chunk size in tokens"},
    ),
    _RunFlag(
        "--sub-window",
        "sub_window_tokens",
        {
            "type": _positive_int,
            "help": "tokens a sub-call may read (default: the sub-model's window)",
        },
    ),
    _RunFlag("--timeout", "timeout", {"type": float, "help": "seconds per model request"}),
)


def _add_run_options(parser: argparse.ArgumentParser, *, fork: bool = False) -> None:
    """The run-option flags: every one for a new run, or those a fork may change."""
    for run_flag in _RUN_FLAGS:
        if not fork:
            parser.add_argument(run_flag.flag, **run_flag.spec)
        elif run_flag.fork:
            help_text = run_flag.fork_help or run_flag.spec.get("help")
            parser.add_argument(
                run_flag.flag, **{**run_flag.spec, "default": None, "help": help_text}
            )


def _run_options(args: argparse.Namespace) -> dict[str, Any]:
    """The run options the command's flags set, as RLM keywords. A flag left unset (None) is
    left out: it takes RLM's default (ask) or keeps the stored run's value (fork)."""
    given = ((run_flag.option, getattr(args, run_flag.dest, None)) for run_flag in _RUN_FLAGS)
    return {option: value for option, value in given if value is not None}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rlm-graph",
        description="Answer questions over inputs far larger than a model's window.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    ask = commands.add_parser(
        "ask",
        help="answer QUERY over a context",
        description="Answer QUERY over a context. A question on an existing --thread is a "
        "follow-up turn about that thread's context (--context may be omitted).",
    )
    ask.add_argument("query", help="the question")
    ask.add_argument(
        "--context",
        help="a file, a folder, or - for stdin (optional on a follow-up with --thread)",
    )
    _add_run_options(ask)
    ask.add_argument(
        "--thread", help="thread id: a new thread, or an existing one for a follow-up question"
    )
    _add_storage(ask)

    resume = commands.add_parser(
        "resume",
        help="continue a thread's unfinished run",
        description="Continue a run that crashed or was stopped, with the settings it started "
        "with; calls that had finished are not run again.",
    )
    resume.add_argument("thread", help="the thread id")
    resume.add_argument(
        "--context", help="a copy of the run's file or folder (same content) to read instead"
    )
    resume.add_argument("--base-url", help="the server URL, if the stored one held a password")
    _add_storage(resume)

    runs = commands.add_parser("runs", help="list stored runs")
    runs.add_argument("--limit", type=_positive_int, default=50, help="most recent first (50)")
    _add_storage(runs, run=False)

    show = commands.add_parser("show", help="a stored run: status, answer, calls, checkpoints")
    show.add_argument("thread", help="the thread id")
    _add_storage(show, run=False)

    approve = commands.add_parser("approve", help="run the calls a paused run proposes")
    approve.add_argument("thread", help="the thread id")
    approve.add_argument(
        "--calls",
        metavar="FILE",
        help='run these calls instead: a JSON list of {"task", "target"} (a file, or - for stdin)',
    )
    _add_storage(approve)

    deny = commands.add_parser("deny", help="refuse the calls a paused run proposes")
    deny.add_argument("thread", help="the thread id")
    _add_storage(deny)

    fork = commands.add_parser(
        "fork",
        help="continue a stored run from a checkpoint as a new thread",
        description="Continue a stored run from one of its checkpoints (rlm-graph show lists "
        "them) as a new thread, with another model or budget; the original is left intact.",
    )
    fork.add_argument("thread", help="the thread id")
    fork.add_argument("--at", metavar="CHECKPOINT", help="checkpoint id (default: the latest)")
    fork.add_argument("--thread", dest="new_thread", help="id of the new thread")
    _add_run_options(fork, fork=True)
    _add_storage(fork)

    tree = commands.add_parser(
        "tree",
        help="a stored run's execution tree: files, an HTML explorer, statistics",
        description="Export a stored run's execution tree (json, graphml, gexf, dot, mermaid, "
        "png, svg, html) or print its statistics (--stats).",
    )
    tree.add_argument("thread", help="the thread id")
    tree.add_argument(
        "--format",
        choices=["json", "graphml", "gexf", "dot", "mermaid", "png", "svg", "html"],
        default="html",
        help="file format (html: a self-contained explorer)",
    )
    tree.add_argument("--out", help="file to write (default: THREAD.FORMAT)")
    tree.add_argument(
        "--stats", action="store_true", help="print critical path, per-depth use, ..."
    )
    _add_storage(tree, run=False)

    from rlm_graph.bench.cli import add_bench_parser

    add_bench_parser(commands)
    return parser


def _read_context(value: str) -> str | bytes:
    """A path stays a path; ``-`` reads stdin as bytes (bytes are always content, never a
    path)."""
    from rlm_graph.errors import ContextError

    if value != "-":
        return value
    data = sys.stdin.buffer.read()  # any encoding, compressed too: open_context decodes it
    if not data.strip():
        raise ContextError("context on stdin is empty")
    return data


def _fail(message: str, code: int) -> int:
    from rlm_graph.secrets import redact

    print(f"rlm-graph: {redact(message)}", file=sys.stderr)
    return code


def _db(args: argparse.Namespace) -> str:
    return args.db if args.db is not None else "default"


def _db_flag(args: argparse.Namespace) -> str:
    """The ``--db`` to repeat in a suggested command (nothing for the default)."""
    if args.db is None:
        return ""
    from rlm_graph.secrets import redact

    return f" --db {redact(args.db)}"


def _grounding(result: Any) -> str:
    """``grounded (t1.6 line 95)``, ``grounded (t1 manual.pdf page 3 line 2)``, or a plain
    warning that nothing in the text backs it."""
    if result.status != "done":
        return ""
    if not result.found:
        return " | NOT FOUND: nothing in the text answers the question"
    if not result.grounded:
        return " | NOT GROUNDED: no passage found in the text backs this answer"
    cited = "; ".join(
        " ".join(
            str(part)
            for part in (
                c["call_id"],
                c.get("file"),
                f"page {c['page']}" if c.get("page") is not None else None,
                f"line {c.get('line')}",
            )
            if part
        )
        for c in result.citations[:3]
    )
    return f" | grounded ({cited})"


def _print_result(result: Any, args: argparse.Namespace, err: Any) -> int:
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, default=str))
    elif result.answer is not None:  # no answer (paused, failed): nothing on stdout
        print(result.answer)
    err.print(
        f"thread {result.thread_id} turn {result.turn} | route {result.route or '-'} | "
        f"status {result.status} | {result.usage.model_calls} model calls | "
        f"{len(result.records)} calls in the tree | "
        f"tokens {result.usage.input_tokens:,} in / {result.usage.output_tokens:,} out | "
        f"{result.seconds:,.1f}s{_grounding(result)}",
        style="dim" if result.grounded or result.status != "done" else "yellow",
        highlight=False,
        markup=False,
    )
    for other in result.conflicts if not args.json else []:
        where = f" [{other['where']}]" if other.get("where") else ""
        err.print(
            f"note: the text also answers {' '.join(str(other['answer']).split())[:200]!r}{where}",
            style="yellow",
            highlight=False,
            markup=False,
        )
    if result.status == "done" and not result.found:
        if result.unverified_answer and not args.json:
            err.print(
                f"not found: nothing in the text backs the answer the model gave "
                f"({' '.join(result.unverified_answer.split())[:200]!r})",
                style="yellow",
                highlight=False,
                markup=False,
            )
        return EXIT_NOT_FOUND
    if result.status == "done":
        return EXIT_OK
    if result.status == "interrupted":
        for proposal in result.pending:
            calls = proposal.get("calls", [])
            err.print(
                f"paused for approval: call {proposal.get('call_id')} proposes {len(calls)} "
                f"calls reading ~{proposal.get('estimated_tokens', 0):,} tokens (over "
                f"{proposal.get('threshold', 0):,})",
                highlight=False,
                markup=False,
            )
            for item in calls[:10]:
                err.print(f"  {item['target']}: {item['task']}", highlight=False, markup=False)
            if len(calls) > 10:
                err.print(f"  ... {len(calls) - 10} more", highlight=False, markup=False)
        thread, db = result.thread_id, _db_flag(args)
        return _fail(
            f"waiting for approval: rlm-graph approve {thread}{db} (or deny {thread}{db})",
            EXIT_WAITING,
        )
    return _fail(
        f"{result.status}: {result.error or result.status}",
        EXIT_BUDGET if result.status == "budget_exhausted" else EXIT_FAILED,
    )


def _execute(
    args: argparse.Namespace,
    thread_id: str,
    make: Callable[[Any], Any],
    run: Callable[[Any], Any],
    *,
    header: Callable[[Any], str],
) -> int:
    """Build the RLM (``make``), show progress, run it (``run``), print, and map the outcome
    to an exit code; every failure is one line on stderr."""
    from pydantic import ValidationError
    from rich.console import Console

    from rlm_graph.errors import RLMError
    from rlm_graph.persistence import describe_target
    from rlm_graph.progress import ProgressDisplay, ProgressLog

    err = Console(stderr=True, soft_wrap=True)
    try:
        rlm = make(err)
        display: Any = None
        if not args.quiet:
            where = describe_target(_db(args))
            err.print(f"[dim]checkpoints {where} | thread {thread_id} | {header(rlm)}[/dim]")
            display = ProgressDisplay(err) if err.is_terminal else ProgressLog()
            rlm.on_event = display
        if display is None:
            result = run(rlm)
        else:
            with display:
                result = run(rlm)
    except ValidationError as exc:
        first = exc.errors()[0]
        return _fail(
            f"invalid argument {'.'.join(map(str, first['loc']))}: {first['msg']}", EXIT_USAGE
        )
    except RLMError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail(
            f"stopped; thread {thread_id} is kept: continue it with "
            f"rlm-graph resume {thread_id}{_db_flag(args)}",
            EXIT_INTERRUPTED,
        )
    return _print_result(result, args, err)


def run_ask(args: argparse.Namespace) -> int:
    if not args.query.strip():
        return _fail("the question is empty", EXIT_USAGE)
    if args.context is None and not args.thread:
        return _fail("--context is required (it may be omitted only with --thread)", EXIT_USAGE)
    import uuid

    thread_id = args.thread or uuid.uuid4().hex[:12]
    holder: dict[str, Any] = {}

    def make(err: Any) -> Any:
        from rlm_graph.api import RLM

        rlm = RLM(**_run_options(args), checkpointer=_db(args))
        # Bad input fails here, before any model starts. Opened with the database's blob
        # store: a follow-up turn or another thread on the same PDF or archive reuses the
        # rendering cached there instead of extracting it again.
        holder["context"] = rlm.open_context(_read_context(args.context)) if args.context else None
        if not args.quiet:
            err.print(f"[dim]loading model {args.model} ...[/dim]", highlight=False)
        _ = rlm.root_model, rlm.sub_model  # fail fast on model setup, before the progress line
        return rlm

    def run(rlm: Any) -> Any:
        request = {"query": args.query, "context": holder["context"], "thread_id": thread_id}
        return rlm.invoke(request)

    def header(rlm: Any) -> str:
        view = holder["context"]
        context = f"context {view.store.what()}, encoding {view.store.encoding} | " if view else ""
        return f"{context}{rlm.limiter.limit} model calls in flight at most"

    return _execute(args, thread_id, make, run, header=header)


def _stored(args: argparse.Namespace) -> Callable[[Any], Any]:
    """An RLM for continuing stored runs: models and settings come from the thread."""

    def make(err: Any) -> Any:
        from rlm_graph.api import RLM

        return RLM(checkpointer=_db(args), base_url=getattr(args, "base_url", None))

    return make


def run_resume(args: argparse.Namespace) -> int:
    def run(rlm: Any) -> Any:
        context = _read_context(args.context) if args.context else None
        return rlm.resume(args.thread, context=context)

    return _execute(args, args.thread, _stored(args), run, header=lambda rlm: "resuming")


def run_decision(args: argparse.Namespace, decision: Any) -> int:
    def run(rlm: Any) -> Any:
        return rlm.approve(args.thread, decision)

    verb = "approved" if decision is not False else "denied"
    return _execute(args, args.thread, _stored(args), run, header=lambda rlm: verb)


def run_approve(args: argparse.Namespace) -> int:
    if not args.calls:
        return run_decision(args, True)
    try:
        if args.calls == "-":
            raw = sys.stdin.read()
        else:
            with open(args.calls, encoding="utf-8") as file:
                raw = file.read()
        calls = json.loads(raw)
    except (OSError, ValueError) as exc:
        return _fail(f"cannot read the calls from {args.calls}: {exc}", EXIT_USAGE)
    valid = isinstance(calls, list) and all(
        isinstance(c, dict) and isinstance(c.get("task"), str) and isinstance(c.get("target"), str)
        for c in calls
    )
    if not valid:
        return _fail('--calls must hold a JSON list of {"task": ..., "target": ...}', EXIT_USAGE)
    return run_decision(args, calls)


def run_fork(args: argparse.Namespace) -> int:
    changes = _run_options(args)
    # The base URL goes to the RLM that rebuilds the stored run's models (_stored).
    changes.pop("base_url", None)

    def run(rlm: Any) -> Any:
        return rlm.fork(args.thread, at=args.at, new_thread_id=args.new_thread, **changes)

    return _execute(args, args.thread, _stored(args), run, header=lambda rlm: "forking")


def _age(timestamp: float | None) -> str:
    if not timestamp:
        return "-"
    import time

    from rlm_graph.progress import clock

    return clock(time.time() - timestamp) + " ago"


def run_listing(args: argparse.Namespace) -> int:
    """``runs`` and ``show``: read the database, print a table or JSON."""
    from rlm_graph.api import RLM
    from rlm_graph.errors import RLMError
    from rlm_graph.sync import run_sync

    rlm = RLM(checkpointer=_db(args))
    try:
        if args.command == "runs":
            runs = run_sync(lambda: rlm.aruns(args.limit))
            if args.json:
                print(json.dumps({"runs": [r.model_dump() for r in runs]}, default=str))
            else:
                _print_runs(runs)
            return EXIT_OK
        detail = run_sync(lambda: rlm.ashow(args.thread))
    except RLMError as exc:
        return _fail(str(exc), EXIT_USAGE)
    if args.json:
        print(json.dumps(detail.model_dump(), ensure_ascii=False, default=str))
    else:
        _print_detail(detail)
    return EXIT_OK


def _print_runs(runs: list[Any]) -> None:
    if not runs:
        print("no runs stored")
        return
    print(f"{'thread':<24} {'status':<16} {'started':>10} {'calls':>6} {'tokens':>10}  question")
    for run in runs:
        question = " ".join(run.question.split())[:60]
        print(
            f"{run.thread_id:<24} {run.status:<16} {_age(run.started_at):>10} "
            f"{run.usage.model_calls:>6} {run.usage.total_tokens:>10,}  {question}"
        )


def _describe_ref(ref: Any) -> str:
    """A thread's context in one line: where it is, what it is, how it was decoded."""
    where = ref.uri or "given directly"
    encoding = f", encoding {ref.encoding}" if ref.encoding else ""
    return (
        f"{where} ({ref.kind}, {ref.end - ref.start:,} chars{encoding}, sha256 {ref.store_id[:12]})"
    )


def _print_detail(detail: Any) -> None:
    print(f"thread {detail.thread_id}: {detail.status} (turn {detail.turn}, route {detail.route})")
    print(f"question: {detail.question}")
    if detail.answer:
        print(f"answer: {detail.answer}")
    if detail.error:
        print(f"error: {detail.error}")
    if detail.worker:
        print(f"running in: {detail.worker}")
    if detail.context:
        print(f"context: {_describe_ref(detail.context)}")
    if detail.settings:
        s = detail.settings
        print(
            f"settings: model {s.model.name}, sub-model {s.sub_model.name}, "
            f"max depth {s.limits.max_depth}, max calls {s.limits.max_calls}, "
            f"concurrency {s.concurrency}, planner {s.planner}, mode {s.mode}"
            + (f", judge model {s.judge_model}" if s.judge_model else "")
        )
    usage = detail.usage
    left = detail.budget_left
    print(
        f"used: {usage.model_calls} model calls, {usage.input_tokens:,} tokens in / "
        f"{usage.output_tokens:,} out; this turn has {left.get('calls_left', '?')} calls left"
    )
    for proposal in detail.pending:
        print(
            f"waiting for approval: {len(proposal.get('calls', []))} calls, "
            f"~{proposal.get('estimated_tokens', 0):,} tokens"
        )
    print(
        f"\n{'call':<14} {'parent':<12} {'depth':>5} {'status':<16} {'tokens':>8} {'s':>7}  target: task"
    )
    for r in detail.records:
        seconds = f"{r.seconds:.1f}" if r.seconds is not None else "-"
        print(
            f"{r.id:<14} {r.parent_id or '-':<12} {r.depth:>5} {r.status:<16} "
            f"{r.usage.total_tokens:>8,} {seconds:>7}  {r.target}: {' '.join(r.task.split())[:50]}"
        )
    print("\ncheckpoints to fork at (rlm-graph fork THREAD --at ID), newest first:")
    for c in detail.checkpoints[:15]:
        print(f"  {c.checkpoint_id}  step {c.step:>3}  turn {c.turn}  next {_next(c.next)}")
    if len(detail.checkpoints) > 15:
        print(f"  ... {len(detail.checkpoints) - 15} older (--json lists all)")


def run_tree(args: argparse.Namespace) -> int:
    from rlm_graph.errors import RLMError
    from rlm_graph.tree import load, tree_stats, write_tree
    from rlm_graph.tree.stats import render_stats

    try:
        tree = load(args.thread, _db(args))
    except RLMError as exc:
        return _fail(str(exc), EXIT_USAGE)
    if args.stats:
        stats = tree_stats(tree)
        print(json.dumps(stats, default=str) if args.json else render_stats(stats))
        return EXIT_OK
    out = args.out or f"{args.thread}.{args.format}"
    try:
        write_tree(tree, args.format, out)
    except (OSError, ValueError) as exc:
        return _fail(f"cannot write {out}: {exc}", EXIT_USAGE)
    print(out)
    print(f"{tree.number_of_nodes():,} nodes written as {args.format}", file=sys.stderr)
    return EXIT_OK


def _next(nodes: list[str]) -> str:
    """``recurse x16, merge``: the steps a checkpoint leads to, counted."""
    counts = {node: nodes.count(node) for node in dict.fromkeys(nodes)}
    return ", ".join(f"{n} x{c}" if c > 1 else n for n, c in counts.items()) or "- (the end)"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "ask": run_ask,
        "resume": run_resume,
        "approve": run_approve,
        "deny": lambda a: run_decision(a, False),
        "fork": run_fork,
        "runs": run_listing,
        "show": run_listing,
        "tree": run_tree,
    }
    if args.command == "bench":
        from rlm_graph.bench.cli import run_bench_command

        return run_bench_command(args)
    return handlers[args.command](args)


def entry_point() -> None:
    """The console script: run, flush, and leave without tearing the interpreter down (the
    teardown of LangChain's and LangGraph's modules costs a noticeable fraction of a second
    and does no work a finished command needs)."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry_point()
