"""The ``rlm-graph`` command."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from contextlib import nullcontext
from typing import Any

from pydantic import ValidationError
from rich.console import Console

from rlm_graph.api import RLM, RLMResult
from rlm_graph.context import open_context
from rlm_graph.errors import RLMError
from rlm_graph.persistence import default_db_path
from rlm_graph.secrets import redact

EXIT_OK = 0
EXIT_FAILED = 1  # the run ended with status error
EXIT_USAGE = 2  # bad arguments or unusable input: nothing ran
EXIT_BUDGET = 3  # the run ended with status budget_exhausted


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rlm-graph",
        description="Answer questions over inputs far larger than a model's window.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("ask", help="answer QUERY over a context")
    ask.add_argument("query", help="the question")
    ask.add_argument("--context", required=True, help="a file, a folder, or - for stdin")
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
        "--concurrency", type=_positive_int, default=4, help="model calls in flight at once (4)"
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
    ask.add_argument("--thread", help="thread id for this run (default: generated)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--quiet", action="store_true", help="no progress display")
    return parser


def _read_context(value: str) -> str | bytes:
    """A path stays a path; ``-`` reads stdin as bytes (bytes are always text, never a path)."""
    if value != "-":
        return value
    data = sys.stdin.buffer.read()
    if b"\x00" in data[:8192]:
        raise RLMError("context on stdin looks binary (not UTF-8 text)")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RLMError("context on stdin is not UTF-8 text") from exc
    if not data.strip():
        raise RLMError("context on stdin is empty")
    return data


def _fail(message: str, code: int) -> int:
    print(f"rlm-graph: {redact(message)}", file=sys.stderr)
    return code


def _print_result(result: RLMResult, as_json: bool, err: Console) -> None:
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False, default=str))
    else:
        print(result.answer or "")
    summary = result.tree
    err.print(
        f"[dim]thread {result.thread_id} | status {result.status} | "
        f"{result.usage.model_calls} model calls | {summary.number_of_nodes()} tree nodes | "
        f"tokens {result.usage.input_tokens:,} in / {result.usage.output_tokens:,} out | "
        f"{result.seconds:,.1f}s[/dim]",
        highlight=False,
    )


def run_ask(args: argparse.Namespace) -> int:
    err = Console(stderr=True, soft_wrap=True)
    interactive = err.is_terminal and not args.quiet
    db = args.db if args.db is not None else "default"
    thread_id = args.thread or "(not started)"
    if not args.query.strip():
        return _fail("the question is empty", EXIT_USAGE)
    try:
        context = open_context(_read_context(args.context))  # bad input fails before any model
        from rlm_graph.progress import ProgressDisplay

        display = ProgressDisplay(err) if interactive else None
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
            planner=args.planner,
            action_format=args.action_format,
            chunk_tokens=args.chunk_tokens,
            sub_window_tokens=args.sub_window,
            checkpointer=db,
            timeout=args.timeout,
            on_event=display,
        )
        thread_id = args.thread or uuid.uuid4().hex[:12]
        request: dict[str, Any] = {
            "query": args.query,
            "context": context,
            "thread_id": thread_id,
        }
        if interactive:
            err.print(f"[dim]loading model {args.model} ...[/dim]", highlight=False)
        _ = rlm.root_model, rlm.sub_model  # fail fast on model setup, before the progress line
        if not args.json or interactive:
            target = default_db_path() if db == "default" else db
            err.print(f"[dim]checkpoints {target} | thread {thread_id}[/dim]", highlight=False)
        with display or nullcontext():
            result = rlm.invoke(request)
    except ValidationError as exc:
        first = exc.errors()[0]
        return _fail(
            f"invalid argument {'.'.join(map(str, first['loc']))}: {first['msg']}", EXIT_USAGE
        )
    except RLMError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail(f"interrupted; checkpoints of thread {thread_id} are kept", 130)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
