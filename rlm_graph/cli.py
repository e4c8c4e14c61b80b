"""The ``rlm-graph`` command.

Only the standard library is imported at module level: ``--help`` and argument errors answer
at once, and LangGraph, LangChain and the models load only when a run starts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from rlm_graph.home import default_db_path

EXIT_OK = 0
EXIT_FAILED = 1  # the run ended with status error
EXIT_USAGE = 2  # bad arguments or unusable input: nothing ran
EXIT_BUDGET = 3  # the run ended with status budget_exhausted
EXIT_INTERRUPTED = 130


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
    ask.add_argument("--model", default="local", help="root model spec (default: local)")
    ask.add_argument("--sub-model", help="model spec for sub-calls (default: --model)")
    ask.add_argument("--base-url", help="OpenAI-compatible server URL (or $OPENAI_BASE_URL)")
    ask.add_argument("--max-depth", type=int, default=1, help="CALL levels below the root (1)")
    ask.add_argument(
        "--max-calls", type=_positive_int, default=100, help="model calls in the whole run (100)"
    )
    ask.add_argument("--max-tokens", type=_positive_int, help="input+output tokens, whole run")
    ask.add_argument("--max-seconds", type=float, help="wall-clock limit")
    ask.add_argument(
        "--max-iterations", type=_positive_int, default=8, help="planner turns per call (8)"
    )
    ask.add_argument(
        "--concurrency",
        type=_positive_int,
        help="model calls in flight at once (default: per model; the local model's server "
        "slots, 16 for other models)",
    )
    ask.add_argument(
        "--direct-below",
        type=_non_negative_int,
        metavar="TOKENS",
        help="answer in one model call, without planning, when the whole context is below "
        "TOKENS and fits the model (default: whenever it fits; 0: always recurse)",
    )
    ask.add_argument("--planner", choices=["model", "map-reduce"], default="model")
    ask.add_argument(
        "--action-format",
        choices=["text", "json", "tools"],
        default="text",
        help="how the planner writes actions (text)",
    )
    ask.add_argument("--chunk-tokens", type=_positive_int, help="chunk size in tokens")
    ask.add_argument(
        "--sub-window",
        type=_positive_int,
        help="tokens a sub-call may read (default: the sub-model's window)",
    )
    ask.add_argument("--timeout", type=float, help="seconds per model request")
    ask.add_argument(
        "--db", default=None, help=f"SQLite checkpoint file (default: {default_db_path()})"
    )
    ask.add_argument(
        "--thread", help="thread id: a new thread, or an existing one for a follow-up question"
    )
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


def _read_context(value: str) -> str | bytes:
    """A path stays a path; ``-`` reads stdin as bytes (bytes are always text, never a path)."""
    from rlm_graph.errors import ContextError

    if value != "-":
        return value
    data = sys.stdin.buffer.read()
    if b"\x00" in data[:8192]:
        raise ContextError("context on stdin looks binary (not UTF-8 text)")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContextError("context on stdin is not UTF-8 text") from exc
    if not data.strip():
        raise ContextError("context on stdin is empty")
    return data


def _fail(message: str, code: int) -> int:
    from rlm_graph.secrets import redact

    print(f"rlm-graph: {redact(message)}", file=sys.stderr)
    return code


def _print_result(result: Any, as_json: bool, err: Any) -> None:
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False, default=str))
    else:
        print(result.answer or "")
    err.print(
        f"[dim]thread {result.thread_id} turn {result.turn} | route {result.route or '-'} | "
        f"status {result.status} | {result.usage.model_calls} model calls | "
        f"{len(result.records)} calls in the tree | "
        f"tokens {result.usage.input_tokens:,} in / {result.usage.output_tokens:,} out | "
        f"{result.seconds:,.1f}s[/dim]",
        highlight=False,
    )


def run_ask(args: argparse.Namespace) -> int:
    if not args.query.strip():
        return _fail("the question is empty", EXIT_USAGE)
    if args.context is None and not args.thread:
        return _fail("--context is required (it may be omitted only with --thread)", EXIT_USAGE)
    import uuid

    from pydantic import ValidationError
    from rich.console import Console

    from rlm_graph.api import RLM
    from rlm_graph.context import open_context
    from rlm_graph.errors import RLMError
    from rlm_graph.persistence import describe_target
    from rlm_graph.progress import ProgressDisplay, ProgressLog

    err = Console(stderr=True, soft_wrap=True)
    db = args.db if args.db is not None else "default"
    thread_id = args.thread or uuid.uuid4().hex[:12]
    try:
        # Bad input fails here, before any model starts.
        context = open_context(_read_context(args.context)) if args.context else None
        rlm = RLM(
            model=args.model,
            sub_model=args.sub_model,
            base_url=args.base_url,
            max_depth=args.max_depth,
            max_calls=args.max_calls,
            max_tokens=args.max_tokens,
            max_seconds=args.max_seconds,
            max_iterations=args.max_iterations,
            concurrency=args.concurrency,
            direct_below=args.direct_below,
            planner=args.planner,
            action_format=args.action_format,
            chunk_tokens=args.chunk_tokens,
            sub_window_tokens=args.sub_window,
            checkpointer=db,
            timeout=args.timeout,
        )
        if not args.quiet:
            err.print(f"[dim]loading model {args.model} ...[/dim]", highlight=False)
        _ = rlm.root_model, rlm.sub_model  # fail fast on model setup, before the progress line
        display: Any = None
        if not args.quiet:
            err.print(
                f"[dim]checkpoints {describe_target(db)} | thread {thread_id} | "
                f"{rlm.limiter.limit} model calls in flight at most[/dim]",
                highlight=False,
            )
            live = err.is_terminal
            display = (
                ProgressDisplay(err, rlm.limiter) if live else ProgressLog(limiter=rlm.limiter)
            )
            rlm.on_event = display
        request: dict[str, Any] = {"query": args.query, "context": context, "thread_id": thread_id}
        if display is None:
            result = rlm.invoke(request)
        else:
            with display:
                result = rlm.invoke(request)
    except ValidationError as exc:
        first = exc.errors()[0]
        return _fail(
            f"invalid argument {'.'.join(map(str, first['loc']))}: {first['msg']}", EXIT_USAGE
        )
    except RLMError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail(f"interrupted; checkpoints of thread {thread_id} are kept", EXIT_INTERRUPTED)
    _print_result(result, args.json, err)
    if result.status == "done":
        return EXIT_OK
    reason = result.error or result.status
    return _fail(
        f"{result.status}: {reason}",
        EXIT_BUDGET if result.status == "budget_exhausted" else EXIT_FAILED,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "ask":
        return run_ask(args)
    return EXIT_USAGE  # pragma: no cover - argparse enforces a command


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
