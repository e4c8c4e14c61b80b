"""``rlm-graph bench``: the argument parser and the command.

Only the standard library is imported here at module level, so ``rlm-graph bench --help`` and
argument errors answer at once; the models, LangChain and LangGraph load when a run starts.
Wire it into a parent CLI with ``add_bench_parser(subparsers)`` and, for the parsed
namespace, ``run_bench_command(args)``; ``main(argv)`` runs it standalone.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, NoReturn

from rlm_graph.bench.options import DEFAULT_LENGTHS, DEFAULT_METHODS, METHODS, TASKS

EXIT_OK = 0
EXIT_USAGE = 2  # bad arguments or unusable input: nothing ran
EXIT_INTERRUPTED = 130
PROG = "rlm-graph bench"

DESCRIPTION = (
    "Does recursion help on your text? Generates tasks with computed answers from a corpus "
    "(a needle in a haystack, several needles, a fact that is not there, two facts to "
    "combine, counting records, what each part is about, questions over source code), "
    "answers each with the RLM, map-reduce, the plain model and BM25 retrieval (and, when "
    "asked for, the RLM in REPL mode) on the same model, and reports accuracy, how many "
    "answers were grounded in the text (and wrong all the same), tokens, model calls and "
    "seconds."
)
EPILOG = (
    "Lengths are estimated tokens (4 bytes each): 8k = 8,000, 128000, 1.5k, or 4x = four times "
    "the model's window. The default corpus is Python's own help topics (pydoc_data.topics); "
    "a corpus shorter than a length repeats after a marker line. The code task reads a folder "
    "of .py files (--code-corpus; default: the standard library's asyncio package). Results "
    "are always saved as JSON (--out, default rlm-bench-<timestamp>.json here)."
)


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help, never breaking a line inside a task name ("per-part")."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        import textwrap

        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        return textwrap.fill(
            " ".join(text.split()),
            width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_on_hyphens=False,
        )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _one_line_error(parser: argparse.ArgumentParser) -> None:
    """Argument errors as one line (argparse prints the usage too), exit 2."""

    def error(message: str) -> NoReturn:
        print(f"{PROG}: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)

    parser.error = error  # type: ignore[method-assign]


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "--task",
        action="append",
        metavar="TASK",
        help=f"{' | '.join(TASKS)}; repeat it or give a comma list (default: all of them)",
    )
    add(
        "--lengths",
        action="append",
        metavar="LIST",
        help=f"comma list of lengths: 8k, 32k, 128000, 4x (default: {','.join(DEFAULT_LENGTHS)})",
    )
    add(
        "--methods",
        action="append",
        metavar="LIST",
        help=f"comma list of {', '.join(METHODS)}, or all (default: "
        f"{','.join(DEFAULT_METHODS)}; rlm-repl is the RLM in REPL mode, the model writing code)",
    )
    add(
        "--samples",
        type=_positive_int,
        default=3,
        metavar="N",
        help="samples per task and length (3)",
    )
    add("--model", default="local", metavar="SPEC", help="model spec, as for ask (default: local)")
    add("--sub-model", metavar="SPEC", help="model spec for the RLM's sub-calls (default: --model)")
    add("--base-url", metavar="URL", help="OpenAI-compatible server URL (or $OPENAI_BASE_URL)")
    add("--corpus", metavar="PATH", help="a text file or a folder (default: Python's help text)")
    add(
        "--code-corpus",
        metavar="PATH",
        help="a folder of .py files for the code task (default: Python's asyncio package)",
    )
    add("--seed", type=_int, default=0, metavar="N", help="seed of every random choice (0)")
    add(
        "--needles",
        type=_positive_int,
        default=3,
        metavar="K",
        help="needles per multi-niah sample (3)",
    )
    add("--json", action="store_true", help="print one JSON object instead of the table")
    add("--plot", metavar="FILE.png", help="plot accuracy and tokens against length")
    add("--out", metavar="FILE.json", help="results file (default: rlm-bench-<timestamp>.json)")
    add(
        "--max-depth",
        type=_positive_int,
        default=1,
        metavar="N",
        help="RLM CALL levels below the root (1)",
    )
    add(
        "--max-calls",
        type=_positive_int,
        default=100,
        metavar="N",
        help="RLM model calls per sample (100)",
    )
    add("--sub-window", type=_positive_int, metavar="N", help="tokens an RLM sub-call may read")
    add(
        "--judge-model",
        metavar="SPEC",
        help="the RLM's reader of passages for questions in other words, as for ask "
        "(default: the sub-model; with the embedded 0.5B, the 1.5B when installed)",
    )
    add("--timeout", type=_positive_float, metavar="S", help="seconds per model request")
    add(
        "--resume",
        action="store_true",
        help="go on from the results already in --out (same model, corpus and seed): run only "
        "the samples it lacks, e.g. after an interruption or with a larger --samples",
    )
    add("--quiet", action="store_true", help="no progress lines on stderr")


def add_bench_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``bench`` command to a parent parser's subparsers; its namespace carries
    ``handler=run_bench_command``."""
    parser = subparsers.add_parser(
        "bench",
        help="measure the RLM against plain model calls on your text",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=_HelpFormatter,
    )
    add_bench_arguments(parser)
    _one_line_error(parser)
    parser.set_defaults(handler=run_bench_command)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=DESCRIPTION, epilog=EPILOG, formatter_class=_HelpFormatter
    )
    add_bench_arguments(parser)
    _one_line_error(parser)
    return parser


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


def run_bench_command(args: argparse.Namespace) -> int:
    """Run the bench for parsed arguments; print the table (or JSON); return the exit code."""
    from rlm_graph.bench.options import BenchInputError, parse_lengths, parse_methods, parse_tasks
    from rlm_graph.bench.report import check_out_path, default_out_path
    from rlm_graph.errors import RLMError

    out = args.out or default_out_path()
    try:
        # Names first: a typo must not wait for a model to start.
        tasks = parse_tasks(args.task)
        methods = parse_methods(args.methods)
        lengths = [spec.label for spec in parse_lengths(args.lengths)]
        if args.resume and not args.out:
            raise BenchInputError("--resume needs --out: the results file to go on from")
        out = check_out_path(out)
        from rlm_graph.bench.report import format_table
        from rlm_graph.bench.runner import run_bench

        result = run_bench(
            tasks=tasks,
            lengths=lengths,
            methods=methods,
            samples=args.samples,
            model=args.model,
            sub_model=args.sub_model,
            base_url=args.base_url,
            corpus=args.corpus,
            code_corpus=args.code_corpus,
            seed=args.seed,
            needles=args.needles,
            max_depth=args.max_depth,
            max_calls=args.max_calls,
            sub_window=args.sub_window,
            judge_model=args.judge_model,
            timeout=args.timeout,
            out=out,
            resume=args.resume,
            plot=args.plot,
            quiet=args.quiet,
        )
    except (BenchInputError, RLMError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail(
            f"interrupted; the samples finished so far are saved in {out} "
            f"(go on with the same command and --out {out} --resume)",
            EXIT_INTERRUPTED,
        )
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        print(format_table(result))
    if not args.quiet:
        saved = f"results saved to {out}" + (f", plot to {args.plot}" if args.plot else "")
        print(f"{PROG}: {saved}", file=sys.stderr)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """``rlm-graph bench`` on its own: ``main(["--task", "niah", "--lengths", "8k"])``."""
    return run_bench_command(build_parser().parse_args(argv))
