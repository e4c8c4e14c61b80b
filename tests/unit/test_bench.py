"""``rlm-graph bench``: generated tasks checked independently, scoring, corpora, the four
methods on a deterministic fake model, the JSON contract and the command end to end."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage

from rlm_graph import prompts, testing
from rlm_graph.bench import (
    ROW_KEYS,
    BenchInputError,
    load_corpus,
    main,
    run_bench,
    score_answer,
)
from rlm_graph.bench.corpus import REPEAT_MARKER, Corpus, default_corpus, sentences
from rlm_graph.bench.methods import MethodSetup, head_that_fits, run_method
from rlm_graph.bench.options import (
    DEFAULT_METHODS,
    METHODS,
    TASKS,
    parse_length,
    parse_lengths,
    parse_methods,
    parse_tasks,
)
from rlm_graph.bench.progress import BenchProgress, SampleWatch
from rlm_graph.bench.scoring import first_integer, names_value
from rlm_graph.bench.tasks import LABELS, NIAH_DEPTHS, TaskSample, generate_sample
from rlm_graph.bench.text import stems
from rlm_graph.models import ResolvedModel
from rlm_graph.testing import ScriptedChatModel, is_leaf_prompt, is_reduce_prompt, leaf_text
from rlm_graph.tokens import dense_tokens, estimate_tokens

ROOT = Path(__file__).resolve().parents[2]
# The record shape and the needle value shapes, written here again on purpose: the checks must
# not reuse the generator's own templates.
# A record in each format the count task writes (pipes, a tab-separated table, a log): groups
# id, date, label, text.
RECORD_LINES = (
    r"^Record (\d+) \| (\d{4}-\d\d-\d\d) \| label: ([a-z]+) \| (.+)$",
    r"^(\d+)\t(\d{4}-\d\d-\d\d)\t([a-z]+)\t(.+)$",
    r"^\[(?P<date>\d{4}-\d\d-\d\d)\] #(?P<id>\d+) (?P<label>[a-z]+): (?P<text>.+)$",
)
RECORD = re.compile("|".join(f"(?:{p})" for p in RECORD_LINES))


def record(line: str) -> tuple[str, str, str, str] | None:
    """(id, date, label, text) of a record line in any of the formats, or None."""
    match = RECORD.match(line)
    if not match:
        return None
    found = [g for g in match.groups() if g is not None]
    if match["date"] is not None:  # the log writes the date first
        return match["id"], match["date"], match["label"], match["text"]
    return found[0], found[1], found[2], found[3]


SHAPE_ORDER = ("sentence", "name", "date", "number", "code")
VALUE_SHAPES = {
    "sentence": re.compile(r"^[a-z][a-z' ]+[a-z]$"),
    "name": re.compile(r"^[A-Z][a-z]+ [A-Z][a-z]+$"),
    "date": re.compile(
        r"^(?:\d{1,2} [A-Z][a-z]+ \d{4}|[A-Z][a-z]+ \d{1,2}, \d{4}|\d{4}-\d\d-\d\d)$"
    ),
    "number": re.compile(r"^\d{1,3}(?:,\d{3})*$"),
    "code": re.compile(r"^\d{4}-[A-Z]+$"),
}


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return default_corpus()


# ----- a deterministic fake that reads exactly what it is sent ------------------------------
# question -> the planted sentences that answer it. The fake reads a sentence back only when
# it is in the text it was sent, so it finds what a perfect reader of that text would.
KNOWN: dict[str, set[str]] = {}


def remember(*samples: TaskSample) -> tuple[TaskSample, ...]:
    for sample in samples:
        facts = {n.sentence for n in sample.needles if n.role != "distractor"}
        KNOWN.setdefault(sample.question, set()).update(facts)
    return samples


def known(corpus, task, length, count, seed=0, **kwargs) -> list[TaskSample]:
    """The samples a run will generate, remembered for the fake."""
    samples = [generate_sample(task, corpus, length, i, seed=seed, **kwargs) for i in range(count)]
    remember(*samples)
    return samples


def _question(messages: list[BaseMessage]) -> str:
    asked = re.findall(r"(?:^|\n)(?:Question|Task): (.*)", str(messages[-1].content))
    return asked[-1].strip() if asked else ""


def _found_in(text: str, sentences) -> str:
    hits = sorted((s for s in sentences if s in text), key=text.index)
    return " ".join(hits)


def _leaf_answer(text: str, question: str) -> str:
    """A perfect reader of the text it was sent: the planted facts it holds, or a count."""
    if "How many records" in question:
        label = re.search(r"label ([a-z]+)", question).group(1)
        window = re.search(r"from (\S+) to (\S+) \(", question)
        rows = [record(line) for line in text.splitlines()]
        n = sum(
            1
            for row in rows
            if row
            and row[2] == label
            and (not window or window.group(1) <= row[1] <= window.group(2))
        )
        return f"There are {n} records."
    return _found_in(text, KNOWN.get(question, ())) or "NOT FOUND"


def _everything_known() -> set[str]:
    return set().union(*KNOWN.values()) if KNOWN else set()


REPL_HEAD = prompts.REPL_SYSTEM.split("{")[0]


def is_repl_turn(messages: list[BaseMessage]) -> bool:
    return str(messages[0].content).startswith(REPL_HEAD)


def _repl_reply(messages: list[BaseMessage]) -> str:
    """REPL mode's planner, as a model that writes code would: a count question is answered by
    a regular expression over ``context`` and a filter, then by the variable it set."""
    if any(isinstance(m, AIMessage) for m in messages):
        return "FINAL_VAR(count)"
    question = _question(messages)
    label = re.search(r"label ([a-z]+)", question).group(1)
    window = re.search(r"from (\S+) to (\S+) \(", question)
    first, last = window.groups() if window else ("0", "9")
    code = (
        "import re\n"
        "rows = []\n"
        "for line in context.splitlines():\n"
        f"    match = re.match({RECORD.pattern!r}, line)\n"
        "    if match:\n"
        "        fields = [g for g in match.groups() if g is not None]\n"
        "        rows.append((fields[0], fields[2]) if line.startswith('[') else (fields[1], fields[2]))\n"
        f"count = len([1 for day, lab in rows if lab == {label!r} and {first!r} <= day <= {last!r}])"
        "\nprint(count)"
    )
    return f"```repl\n{code}\n```"


def _respond(messages: list[BaseMessage]) -> str:
    last = str(messages[-1].content)
    if is_repl_turn(messages):
        return _repl_reply(messages)
    if is_leaf_prompt(messages):  # leaves, and the direct / retrieve baselines
        return _leaf_answer(leaf_text(messages), _question(messages))
    if is_reduce_prompt(messages):
        return _found_in(last, _everything_known()) or "NOT FOUND"
    if last.startswith("Question:"):  # the planner's first turn: one CALL per chunk
        question = last.splitlines()[0].removeprefix("Question: ")
        count = re.search(r"([\d,]+) chunks? \(chunk:0", last)
        n = int(count.group(1).replace(",", "")) if count else 1
        return "\n".join(f'CALL("{question}", "chunk:{i}")' for i in range(n))
    return f'FINAL("{_found_in(last, _everything_known()) or "NOT FOUND"}")'


def oracle(window: int = 4000, **kwargs) -> ResolvedModel:
    return ResolvedModel(
        chat=ScriptedChatModel(respond=_respond, **kwargs), name="oracle", window_tokens=window
    )


def setup_for(model: ResolvedModel) -> MethodSetup:
    # A small sub-window: an 8k-token text is a dozen chunks.
    return MethodSetup(root=model, sub=model, sub_window=1500)


def check_value_shape(needle) -> None:
    assert VALUE_SHAPES[needle.shape].match(needle.value), (needle.shape, needle.value)
    assert needle.value in needle.sentence and needle.key in needle.sentence


# ----- generated tasks ------------------------------------------------------------------------
@pytest.mark.parametrize("index", range(10))
def test_niah_needle_occurs_once_at_its_stated_depth(corpus, index):
    sample = generate_sample("niah", corpus, 8000, index, seed=11)
    (needle,) = sample.needles
    assert sample.shape == needle.shape == SHAPE_ORDER[index % 5] and sample.shapes == [
        needle.shape
    ]
    check_value_shape(needle)
    assert sample.text.count(needle.sentence) == 1 and sample.text.count(needle.value) == 1
    assert sample.text.index(needle.sentence) == needle.char_offset
    assert sample.text[needle.char_offset - 1] == "\n"  # its own line
    assert sample.text[needle.char_offset + len(needle.sentence)] == "\n"
    depth = NIAH_DEPTHS[(index + index // 5) % 5]
    assert needle.target_depth == depth
    assert abs(needle.char_offset / len(sample.text) - depth) < 0.02
    assert needle.key in sample.question and needle.value not in sample.question
    assert sample.answer == needle.value == sample.expected[0]
    assert sample.tokens == estimate_tokens(sample.text)
    assert 0.95 * 8000 <= sample.tokens <= 8000
    # Odd samples ask in other words: nothing but the key is shared with the needle.
    assert sample.paraphrased == (index % 2 == 1)
    fact_words = stems(needle.sentence.replace(needle.key, "").replace(needle.value, ""))
    shared = fact_words & stems(sample.question.replace(needle.key, ""))
    assert (not shared) if sample.paraphrased else len(shared) >= 2, shared


def test_needle_shapes_cycle_and_every_shape_meets_every_depth(corpus):
    seen = set()
    for index in range(25):
        sample = generate_sample("niah", corpus, 2000, index, seed=3)
        seen.add((sample.shape, sample.needles[0].target_depth))
    assert len(seen) == 25


def test_haystack_is_real_corpus_text_from_the_stated_offset(corpus):
    sample = generate_sample("niah", corpus, 8000, 2, seed=4)
    needle_line = sample.needles[0].sentence + "\n"
    haystack = sample.text.replace(needle_line, "", 1).encode()
    start = sample.corpus_offset
    assert corpus.text.encode()[start : start + len(haystack)] == haystack
    assert corpus.text.encode()[start - 1 : start] == b"\n"  # cut at a line start


@pytest.mark.parametrize(("k", "index"), [(3, 1), (5, 0), (4, 2), (3, 3), (3, 4)])
def test_multi_niah_plants_k_distinct_needles_spread_through_the_text(corpus, k, index):
    sample = generate_sample("multi-niah", corpus, 8000, index, seed=2, needles=k)
    assert len(sample.needles) == k
    assert sample.shapes == [sample.shape] * k == [n.shape for n in sample.needles]
    assert sample.shape == SHAPE_ORDER[index % 5]
    assert len({n.key for n in sample.needles}) == k and len({n.value for n in sample.needles}) == k
    assert [n.value for n in sample.needles] == sample.expected
    for i, needle in enumerate(sample.needles):  # in text order, one per k-th
        check_value_shape(needle)
        assert sample.text.count(needle.sentence) == 1
        assert sample.text.index(needle.sentence) == needle.char_offset
        assert i / k <= needle.char_offset / len(sample.text) <= (i + 1) / k
        assert needle.key not in sample.question  # one question asks for all of them
    # One template per sample: the needles differ only in key and value.
    frames = {n.sentence.replace(n.key, "K").replace(n.value, "V") for n in sample.needles}
    assert len(frames) == 1


@pytest.mark.parametrize("index", range(6))  # each format with a label, then with a window
def test_count_truth_matches_an_independent_recount(corpus, index):
    sample = generate_sample("count", corpus, 6000, index, seed=9)
    lines = sample.text.splitlines()
    if sample.record_format == "tsv":
        assert lines.pop(0) == "id\tdate\tlabel\ttext"
    assert sample.record_format == ("pipe", "tsv", "log")[index // 2]
    rows = [record(line) for line in lines]
    assert all(rows) and len(rows) == sample.records
    assert [int(r[0]) for r in rows] == list(range(1, len(rows) + 1))
    assert {r[2] for r in rows} <= set(LABELS)
    label = re.search(r"have label ([a-z]+)", sample.question).group(1)
    window = re.search(r"from (\d{4}-\d\d-\d\d) to (\d{4}-\d\d-\d\d)", sample.question)
    assert (window is not None) == (index % 2 == 1)
    count = 0
    for row in rows:
        date = dt.date.fromisoformat(row[1])
        inside = window is None or (
            dt.date.fromisoformat(window.group(1)) <= date <= dt.date.fromisoformat(window.group(2))
        )
        count += row[2] == label and inside
    assert count == sample.count == int(sample.answer)
    assert 0 < count < len(rows)
    # Every record carries a real sentence of the corpus.
    flat = " ".join(corpus.text.split())
    assert all(r[3] in flat for r in rows[:50])


def test_generation_is_reproducible_and_seeded(corpus):
    for task in TASKS:
        first = generate_sample(task, corpus, 4000, 0, seed=1)
        again = generate_sample(task, corpus, 4000, 0, seed=1)
        other_seed = generate_sample(task, corpus, 4000, 0, seed=2)
        other_index = generate_sample(task, corpus, 4000, 1, seed=1)
        assert (first.text, first.question, first.answer) == (
            again.text,
            again.question,
            again.answer,
        )
        assert first.text != other_seed.text and first.text != other_index.text


def test_a_short_corpus_repeats_after_a_marker(tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("".join(f"Line {i} of a short but real document.\n" for i in range(40)))
    small = load_corpus(path)
    sample = generate_sample("niah", small, 3000, 0, seed=0)
    assert sample.corpus_repeats >= 1 and REPEAT_MARKER.strip() in sample.text
    assert sample.text.count(sample.needles[0].sentence) == 1
    assert 0.9 * 3000 <= sample.tokens <= 3000


# ----- scoring --------------------------------------------------------------------------------
def test_codes_match_whatever_the_case_spacing_and_punctuation():
    assert names_value("The code is **4821-kestrel**.", "4821-KESTREL")
    assert names_value("4821 KESTREL", "4821-KESTREL")
    assert names_value("Answer:\n  4821-Kestrel!", "4821-KESTREL")
    assert not names_value("14821-KESTREL", "4821-KESTREL")
    assert not names_value("4821-KESTRELS", "4821-KESTREL")
    assert not names_value("4821", "4821-KESTREL")
    assert not names_value("NOT FOUND", "4821-KESTREL")


def test_multi_needle_scoring_counts_partial_recall(corpus):
    sample = generate_sample("multi-niah", corpus, 4000, 0, seed=3)
    a, b, c = sample.expected
    partial = score_answer(sample, f"{a.lower()}, and also {b}")
    assert not partial.correct and partial.recall == pytest.approx(2 / 3)
    full = score_answer(sample, f"{c}; {a}; {b}")
    assert full.correct and full.recall == 1.0
    assert score_answer(sample, None).recall == 0.0


def test_count_answers_are_read_as_their_first_integer(corpus):
    assert first_integer("There are 12 records.") == 12
    assert first_integer("1,204 records have it") == 1204
    assert first_integer("Count: 7 (out of 120)") == 7
    assert first_integer("none of them") is None
    sample = generate_sample("count", corpus, 3000, 0, seed=0)
    assert score_answer(sample, f"There are {sample.count} records.").correct
    wrong = score_answer(sample, f"There are {sample.count + 1} records.")
    assert not wrong.correct and wrong.parsed == sample.count + 1
    assert not score_answer(sample, "I cannot tell").correct


# ----- corpora and options ----------------------------------------------------------------------
def test_corpus_from_a_file_a_folder_and_python_itself(tmp_path):
    file = tmp_path / "notes.txt"
    file.write_text("First real line.\nSecond real line.\n")
    assert load_corpus(file).text == file.read_text()
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.txt").write_text("Bravo text.\n")
    (folder / "a.md").write_text("Alpha text.\n")
    (folder / "sub" / "c.txt").write_text("Charlie text.\n")
    (folder / "image.bin").write_bytes(b"\x89PNG\x00\x01\x02")
    (folder / ".hidden.txt").write_text("Hidden text.\n")
    loaded = load_corpus(folder)
    assert re.findall(r"(\w+) text", loaded.text) == ["Alpha", "Bravo", "Charlie"]
    assert loaded.files == 3 and loaded.skipped == 1
    default = load_corpus(None)
    from pydoc_data.topics import topics

    assert default.name == "pydoc_data.topics" and default.tokens > 50_000
    assert topics["assert"].strip() in default.text
    assert len(sentences(default)) > 500


def test_unusable_corpora_are_refused(tmp_path):
    (tmp_path / "empty.txt").write_text(" \n\n")
    (tmp_path / "binary.dat").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "bins").mkdir()
    (tmp_path / "bins" / "x.bin").write_bytes(b"\x00" * 10)
    for path, words in [
        (tmp_path / "missing.txt", "not found"),
        (tmp_path / "empty.txt", "no text"),
        (tmp_path / "binary.dat", "not UTF-8"),
        (tmp_path / "bins", "no text"),
    ]:
        with pytest.raises(BenchInputError, match=words):
            load_corpus(path)


def test_lengths_tasks_and_methods_parse():
    assert parse_length("8k").tokens == 8000
    assert parse_length("128000").label == "128k"
    assert parse_length("1.5k").tokens == 1500
    assert parse_length("4x").resolve(8192) == 32768
    assert [s.label for s in parse_lengths(["8k,8000", "32k"])] == ["8k", "32k"]
    assert [s.label for s in parse_lengths(None)] == ["8k", "32k", "128k"]
    for bad in ("8q", "0", "-3k", "x", "10"):
        with pytest.raises(BenchInputError):
            parse_length(bad)
    assert parse_tasks(["niah", "count,niah"]) == ["niah", "count"]
    assert parse_tasks(None) == [
        "niah",
        "multi-niah",
        "absent",
        "multi-hop",
        "count",
        "per-part",
        "code",
    ]
    assert parse_tasks("all") == parse_tasks(None)
    assert parse_methods("direct,RLM") == ["direct", "rlm"]
    # rlm-repl is run when asked for (or with all); the default stays the four methods.
    assert (
        parse_methods(None) == list(DEFAULT_METHODS) == ["rlm", "map-reduce", "direct", "retrieve"]
    )
    assert parse_methods("rlm-repl,rlm") == ["rlm-repl", "rlm"]
    assert parse_methods("all") == list(METHODS) and "rlm-repl" in METHODS
    with pytest.raises(BenchInputError, match="unknown method 'bm25'"):
        parse_methods("direct,bm25")


# ----- methods on the fake model ------------------------------------------------------------
async def test_direct_misses_a_needle_beyond_its_window_and_retrieve_finds_it(corpus):
    pytest.importorskip("bm25s")
    setup = setup_for(oracle(window=4000))
    deep, shallow = remember(
        generate_sample("niah", corpus, 8000, 4, seed=0),  # depth 0.9
        generate_sample("niah", corpus, 8000, 0, seed=0),  # depth 0.1: direct sees it
    )
    direct = await run_method("direct", setup, deep)
    assert direct.seen_fraction < 0.5
    assert direct.seen_tokens <= setup.reading_tokens
    assert deep.needles[0].char_offset > direct.seen_fraction * len(deep.text)
    assert direct.answer == "NOT FOUND" and not score_answer(deep, direct.answer).correct
    found = await run_method("retrieve", setup, deep)
    assert score_answer(deep, found.answer).correct
    assert 0 < found.chunks_used < found.chunks_total
    # One reading call (and, where the library checks a verified quote, the judge's call).
    assert found.seen_tokens <= setup.reading_tokens and found.model_calls in (1, 2)
    assert score_answer(shallow, (await run_method("direct", setup, shallow)).answer).correct


@pytest.mark.parametrize("method", ["rlm", "map-reduce"])
async def test_recursive_methods_find_the_needle_beyond_the_window(corpus, method):
    setup = setup_for(oracle(window=4000))
    (sample,) = remember(generate_sample("multi-niah", corpus, 8000, 0, seed=5))
    watch = SampleWatch()
    outcome = await run_method(method, setup, sample, watch)
    assert watch.model_calls == outcome.model_calls  # the heartbeat counts every model call
    # Every model call counted by what it was for, as the results file keeps them.
    assert sum(outcome.calls_by_kind.values()) == outcome.model_calls
    assert outcome.calls_by_kind["leaf"] > 0
    assert ("plan" in outcome.calls_by_kind, "reduce" in outcome.calls_by_kind) == (
        (True, False) if method == "rlm" else (False, True)
    )
    assert outcome.route == "recursive" and outcome.status == "done"
    assert outcome.model_calls > 5 and outcome.input_tokens > sample.tokens
    assert score_answer(sample, outcome.answer).correct
    calls = setup.root.chat.calls
    # The judge's checks of verified quotes (where the library makes them) are no planning.
    judged = getattr(testing, "is_judge_prompt", lambda c: False)
    planned = [c for c in calls if not (is_leaf_prompt(c) or is_reduce_prompt(c) or judged(c))]
    reduced = [c for c in calls if is_reduce_prompt(c)]
    # The model plans; map-reduce only maps and reduces.
    assert (len(planned) > 0, len(reduced) > 0) == (
        (True, False) if method == "rlm" else (False, True)
    )


def test_the_direct_baseline_cuts_a_table_of_records_to_the_window_by_its_digits(corpus):
    sample = generate_sample("count", corpus, 6000, 2, seed=3)  # the tab-separated table
    head = head_that_fits(sample.text, 1000)
    assert dense_tokens(head) <= 1000 < dense_tokens(sample.text)
    assert estimate_tokens(head) < 900  # its size alone would have let more in
    assert head.endswith("\n") and sample.text.startswith(head)


async def test_count_is_exact_when_the_records_fit_one_call(corpus):
    model = oracle(window=8000)
    setup = MethodSetup(root=model, sub=model)  # no sub-window: the RLM takes its direct route
    sample = generate_sample("count", corpus, 3000, 1, seed=0)
    direct = await run_method("direct", setup, sample)
    assert score_answer(sample, direct.answer).correct and direct.model_calls == 1
    # The RLM counts in code (auto: REPL mode for a count) even when the records fit one
    # call: one turn writes the code, one gives the answer it printed.
    rlm = await run_method("rlm", setup, sample)
    assert score_answer(sample, rlm.answer).correct and rlm.model_calls == 2


# Pipes with a label; a table, then a log, with a label and a date window.
@pytest.mark.parametrize("index", [0, 3, 5])
async def test_rlm_repl_counts_in_code_beyond_the_window(corpus, index):
    setup = setup_for(oracle(window=4000))
    sample = generate_sample("count", corpus, 8000, index, seed=5)
    assert sample.tokens > 4000 and sample.count > 0
    watch = SampleWatch()
    outcome = await run_method("rlm-repl", setup, sample, watch)
    assert outcome.status == "done" and outcome.route == "recursive", outcome
    assert outcome.answer == str(sample.count) and score_answer(sample, outcome.answer).correct
    # One turn of code, one answering with its variable: no leaf read the records.
    assert outcome.model_calls == watch.model_calls == 2
    assert all(is_repl_turn(call) for call in setup.root.chat.calls)
    # A computed number is answered, not grounded: no passage of the text says it.
    assert outcome.grounded is False


async def test_rlm_repl_is_the_rlm_in_repl_mode_with_the_same_settings(corpus):
    setup = MethodSetup(
        root=oracle(),
        sub=oracle(),
        max_depth=2,
        max_calls=40,
        sub_window=1500,
        rlm_options={"chunk_tokens": 700},
    )
    calls, repl = setup.rlm("model"), setup.rlm("model", mode="repl")
    assert (calls.mode, repl.mode) == ("auto", "repl")  # rlm: the defaults a user gets
    for rlm in (calls, repl):
        assert (rlm.limits.max_depth, rlm.limits.max_calls) == (2, 40)
        assert rlm.sub_window_tokens == 1500 and rlm.chunking.chunk_tokens == 700


def test_a_failing_model_is_a_wrong_answer_not_a_crash(corpus):
    def broken(messages):
        raise RuntimeError("server on fire")

    model = ResolvedModel(chat=ScriptedChatModel(respond=broken), name="broken", window_tokens=4000)
    result = run_bench(
        tasks="niah",
        lengths="2k",
        samples=1,
        methods="rlm,direct",
        model=model,
        corpus=corpus,
    )
    assert [s.method for s in result.samples] == ["rlm", "direct"]
    for sample in result.samples:
        assert sample.status == "error" and not sample.correct
        assert "server on fire" in sample.error
    assert all(row.errors == 1 and row.accuracy == 0 for row in result.rows)


def test_a_method_that_raises_is_recorded_and_the_run_goes_on(corpus, monkeypatch):
    from rlm_graph.bench import methods

    async def boom(setup, sample):
        raise ValueError("retrieval index broke")

    monkeypatch.setattr(methods, "run_retrieve", boom)
    known(corpus, "niah", 2000, 1)
    result = run_bench(
        tasks="niah", lengths="2k", methods="retrieve,direct", model=oracle(), corpus=corpus
    )
    failed, fine = result.samples[0], result.samples[1]
    assert failed.status == "error" and failed.error == "ValueError: retrieval index broke"
    assert not failed.correct and failed.answer is None
    assert fine.method == "direct" and fine.correct and fine.status == "done"


def test_results_carry_the_json_contract_and_are_saved(corpus, tmp_path):
    out = tmp_path / "run.json"
    seen = []
    known(corpus, "niah", 2000, 2, seed=7)
    result = run_bench(
        tasks=["niah", "count"],
        lengths="2k",
        samples=2,
        methods="direct,map-reduce",
        model=oracle(window=8000),
        corpus=corpus,
        seed=7,
        out=out,
        on_sample=seen.append,
    )
    data = result.to_json()
    assert json.loads(out.read_text()) == json.loads(json.dumps(data))
    for key in ("model", "corpus", "seed", "samples", "lengths", "date", "rows", "results"):
        assert key in data
    assert data["samples"] == 2 and data["seed"] == 7 and data["lengths"] == ["2k"]
    assert data["complete"] is True
    assert len(data["rows"]) == 4 and len(data["results"]) == len(seen) == 8
    for row in data["rows"]:
        assert set(ROW_KEYS) <= set(row)
        assert row["accuracy"] == 1.0 and row["model_calls"] >= 1 and row["input_tokens"] > 0
    raw = data["results"][0]
    assert raw["needles"][0]["char_offset"] > 0 and raw["truth"] == raw["needles"][0]["value"]
    assert "text" not in raw  # the haystack itself is not saved
    mapped = next(r for r in data["results"] if r["method"] == "map-reduce")
    assert sum(mapped["calls_by_kind"].values()) == mapped["model_calls"]


def test_an_interrupted_run_saves_what_it_measured(corpus, tmp_path):
    out = tmp_path / "partial.json"

    def stop(_):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_bench(
            tasks="niah",
            lengths="2k",
            samples=3,
            methods="direct",
            model=oracle(),
            corpus=corpus,
            out=out,
            on_sample=stop,
        )
    saved = json.loads(out.read_text())
    assert saved["complete"] is False and len(saved["results"]) == 1


def test_a_resumed_run_keeps_what_was_saved_and_runs_only_the_rest(corpus, tmp_path):
    out = tmp_path / "split.json"
    common = dict(tasks="niah", lengths="2k", methods="direct", corpus=corpus, seed=4, out=out)
    first = run_bench(samples=2, model=oracle(), **common)
    ran: list[int] = []
    second = run_bench(
        samples=4, model=oracle(), resume=True, on_sample=lambda r: ran.append(r.sample), **common
    )
    assert ran == [3, 4]  # samples 1 and 2 came from the file
    assert [r.sample for r in second.samples] == [1, 2, 3, 4]
    assert second.samples[:2] == first.samples
    assert second.rows[0].samples == 4 and json.loads(out.read_text())["complete"] is True
    with pytest.raises(BenchInputError, match="other settings .*seed 4 there, 5 now"):
        run_bench(samples=4, model=oracle(), resume=True, **{**common, "seed": 5})
    with pytest.raises(BenchInputError, match="--resume needs --out"):
        run_bench(samples=1, model=oracle(), resume=True, **{**common, "out": None})


async def test_a_long_sample_gets_heartbeat_lines(capsys, corpus):
    progress = BenchProgress(heartbeat=0.05)
    async with progress.running("niah 8k rlm sample 1/1") as watch:
        watch({"event": "model_call"})
        import asyncio

        await asyncio.sleep(0.18)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) >= 2
    assert all(
        "niah 8k rlm sample 1/1: running" in line and "1 model calls" in line for line in lines
    )


# ----- the command ----------------------------------------------------------------------------
@pytest.fixture
def fake_specs(monkeypatch):
    """``--model oracle`` resolves to the in-process fake; any other spec must not be reached."""
    import rlm_graph.models

    def resolve(spec, **kwargs):
        if spec == "oracle":
            return oracle(window=4000)
        raise AssertionError(f"unexpected model spec {spec!r}")

    monkeypatch.setattr(rlm_graph.models, "resolve_model", resolve)


def test_command_end_to_end_prints_json_and_progress(fake_specs, tmp_path, capsys):
    pytest.importorskip("bm25s")
    known(default_corpus(), "niah", 8000, 2)
    out = tmp_path / "bench.json"
    argv = ["--task", "niah", "--lengths", "8k", "--samples", "2", "--model", "oracle"]
    argv += ["--methods", "direct,retrieve", "--out", str(out), "--sub-window", "1500", "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data == json.loads(out.read_text())
    assert [(r["method"], r["length"]) for r in data["rows"]] == [
        ("direct", 8000),
        ("retrieve", 8000),
    ]
    assert all(set(ROW_KEYS) <= set(row) for row in data["rows"])
    done = [line for line in captured.err.splitlines() if re.search(r"sample \d/2: ", line)]
    assert len(done) == 4
    assert any("niah 8k retrieve sample 2/2: correct" in line for line in done)


def test_command_runs_rlm_repl_beside_rlm_in_rows_json_and_table(fake_specs, tmp_path, capsys):
    out = tmp_path / "repl.json"
    argv = ["--task", "count", "--lengths", "8k", "--samples", "1", "--model", "oracle"]
    argv += ["--methods", "rlm,rlm-repl", "--sub-window", "1500", "--out", str(out), "--quiet"]
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["methods"] == ["rlm", "rlm-repl"]
    assert [row["method"] for row in data["rows"]] == ["rlm", "rlm-repl"]
    repl = data["rows"][1]
    assert set(ROW_KEYS) <= set(repl) and repl["accuracy"] == 1.0 and repl["model_calls"] == 2
    (result,) = [r for r in data["results"] if r["method"] == "rlm-repl"]
    assert result["route"] == "recursive" and result["answer"] == result["truth"]
    assert main(argv) == 0
    table = capsys.readouterr().out.splitlines()
    row = next(line for line in table if line.split()[2:3] == ["rlm-repl"])
    assert row.split()[:5] == ["count", "8k", "rlm-repl", "1", "1.00"]


def test_command_prints_a_table_and_quiet_silences_progress(fake_specs, tmp_path, capsys):
    argv = ["--task", "count", "--lengths", "2k", "--samples", "1", "--model", "oracle"]
    argv += ["--methods", "direct", "--out", str(tmp_path / "t.json"), "--quiet"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    header, rule, row = captured.out.splitlines()[:3]
    assert header.split()[:4] == ["task", "length", "method", "n"]
    assert row.split()[:5] == ["count", "2k", "direct", "1", "1.00"]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--task", "haystack"], "unknown task 'haystack'"),
        (["--methods", "direct,magic"], "unknown method 'magic'"),
        (["--lengths", "8q"], "cannot read length '8q'"),
        (["--corpus", "/no/such/corpus.txt"], "corpus not found"),
        (["--samples", "0"], "must be at least 1"),
        (["--samples", "many"], "not a whole number"),
        (["--needles", "40"], "--needles must be between 1 and 20"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(fake_specs, argv, words, capsys, tmp_path):
    full = [*argv, "--model", "oracle", "--out", str(tmp_path / "x.json")]
    try:
        code = main(full)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and err.startswith("rlm-graph bench: ")
    assert not (tmp_path / "x.json").exists()


def test_the_parser_plugs_into_a_parent_cli(capsys):
    import argparse

    from rlm_graph.bench import add_bench_parser, run_bench_command

    parent = argparse.ArgumentParser(prog="rlm-graph")
    add_bench_parser(parent.add_subparsers(dest="command", required=True))
    args = parent.parse_args(["bench", "--task", "niah", "--lengths", "4x", "--samples", "2"])
    assert args.handler is run_bench_command
    assert (args.task, args.lengths, args.samples, args.model) == (["niah"], ["4x"], 2, "local")
    with pytest.raises(SystemExit) as stop:
        parent.parse_args(["bench", "--samples", "x"])
    assert stop.value.code == 2 and capsys.readouterr().err.count("\n") == 1


def test_empty_corpus_file_is_exit_2(fake_specs, tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    assert (
        main(["--corpus", str(empty), "--model", "oracle", "--out", str(tmp_path / "o.json")]) == 2
    )
    assert "corpus has no text" in capsys.readouterr().err


def test_plot_needs_matplotlib_and_says_which_extra(fake_specs, monkeypatch, tmp_path, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else real(name, *a),
    )
    argv = [
        "--model",
        "oracle",
        "--plot",
        str(tmp_path / "p.png"),
        "--out",
        str(tmp_path / "o.json"),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rlm-graph[bench]" in err and "matplotlib" in err


def test_retrieve_without_bm25s_says_what_to_install(fake_specs, monkeypatch, tmp_path, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "bm25s" else real(name, *a)
    )
    assert main(["--model", "oracle", "--methods", "direct,retrieve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bm25s" in err and "rlm-graph[bench]" in err
    assert (
        main(
            [
                "--model",
                "oracle",
                "--methods",
                "direct",
                "--quiet",
                "--task",
                "niah",
                "--lengths",
                "1k",
                "--samples",
                "1",
                "--out",
                str(tmp_path / "ok.json"),
            ]
        )
        == 0
    )


def test_plot_writes_a_png(corpus, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "bench.png"
    run_bench(
        tasks="niah,count",
        lengths="1k,2k",
        samples=1,
        methods="direct,map-reduce",
        model=oracle(window=8000),
        corpus=corpus,
        plot=png,
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_help_loads_no_heavy_library():
    code = (
        "import sys\n"
        "from rlm_graph.bench.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('langgraph', 'langchain_core', 'pydantic', 'bm25s', 'numpy')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert "HEAVY []" in proc.stdout, proc.stdout + proc.stderr
    assert "--lengths" in proc.stdout and "4x" in proc.stdout and "--code-corpus" in proc.stdout
    listed = re.search(r"--methods LIST\s+comma list of (.*?), or all", proc.stdout, re.DOTALL)
    assert listed.group(1).split() == ", ".join(METHODS).split()  # rlm-repl among them
    listed = re.search(r"--task TASK\s+(.*?);", proc.stdout, re.DOTALL).group(1)
    assert listed.split() == " | ".join(TASKS).split()  # no name broken at its hyphen


def _bench_process(server, argv: list[str], out: Path) -> subprocess.CompletedProcess:
    """``python -m rlm_graph.bench`` in its own process against a fake OpenAI-compatible
    server, printing JSON and saving to ``out``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-test-not-a-key"}
    model = ["--model", "fake", "--base-url", server.base_url, "--json", "--out", str(out)]
    return subprocess.run(
        [sys.executable, "-m", "rlm_graph.bench", *model, *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_command_over_real_http_with_a_model_spec(tmp_path):
    """The whole command in its own process, a spec string and --base-url, against the fake
    OpenAI-compatible server (it knows nothing of these needles: every answer is NOT FOUND)."""
    pytest.importorskip("langchain_openai")
    from benchmarks.fake_openai_server import FakeOpenAIServer

    out = tmp_path / "http.json"
    with FakeOpenAIServer() as server:
        argv = ["--task", "niah", "--lengths", "2k", "--samples", "1", "--methods", "direct,rlm"]
        proc = _bench_process(server, argv, out)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["model"].startswith("openai-compatible:fake@127.0.0.1")
    assert [row["method"] for row in data["rows"]] == ["direct", "rlm"]
    for result in data["results"]:
        assert result["status"] == "done" and result["answer"].upper() == "NOT FOUND"
        assert result["model_calls"] >= 1 and result["input_tokens"] > 400
        assert result["correct"] is False
    assert "sk-test-not-a-key" not in proc.stdout + proc.stderr + out.read_text()


def test_rlm_repl_over_real_http_counts_exactly(tmp_path):
    """``--methods rlm-repl`` in its own process against the fake server, whose REPL root
    counts the records with a regular expression in a ```repl block: the sandbox runs it and
    the count is exact, in two model calls (the code, then FINAL_VAR)."""
    pytest.importorskip("langchain_openai")
    from benchmarks.fake_openai_server import FakeOpenAIServer

    out = tmp_path / "repl.json"
    with FakeOpenAIServer() as server:
        argv = ["--task", "count", "--lengths", "8k", "--samples", "2", "--methods", "rlm-repl"]
        proc = _bench_process(server, argv, out)
        kinds = server.stats()["by_kind"]
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    (row,) = data["rows"]
    assert (row["method"], row["accuracy"], row["model_calls"]) == ("rlm-repl", 1.0, 2.0)
    assert kinds == {"repl": 4}  # two turns per sample, no leaf
    for result in data["results"]:  # sample 2 also filters by a date window
        assert result["status"] == "done" and result["answer"] == result["truth"]
        assert result["route"] == "recursive" and result["grounded"] is False


def test_the_pooled_table_gives_wilson_intervals_and_counts_false_grounded(tmp_path, capsys):
    from benchmarks.bench_table import main as table
    from benchmarks.bench_table import wilson

    low, high = wilson(6, 6)
    assert 0.60 < low < 0.62 and high == pytest.approx(
        1.0
    )  # six of six still leaves a wide interval
    assert wilson(0, 6)[1] == pytest.approx(1 - low, abs=1e-9)
    base = {"task": "niah", "method": "rlm", "text_tokens": 100, "input_tokens": 150}
    runs = [
        [{**base, "correct": True, "grounded": True}, {**base, "correct": False, "grounded": True}],
        [{**base, "correct": False, "grounded": False}],
    ]
    files = []
    for seed, results in enumerate(runs, start=5):
        files.append(tmp_path / f"seed{seed}.json")
        files[-1].write_text(json.dumps({"seed": seed, "results": results}))
    assert table([str(f) for f in files]) == 0
    out = capsys.readouterr().out
    assert "3 samples from seeds 5, 6" in out
    row = next(line for line in out.splitlines() if line.startswith("| niah"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[2].startswith("1/3 ") and cells[3].startswith("2/3 ")
    assert cells[4].startswith("1/2 (50%") and cells[6] == "1.50x"
