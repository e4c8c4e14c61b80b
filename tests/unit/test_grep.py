"""GREP on RE2: linear time for any pattern, unsupported patterns explained, same hits as before."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from rlm_graph.context import Chunking, open_context
from rlm_graph.context import regex as regex_module
from rlm_graph.context.grep import COUNT_CAP, MAX_RENDER_CHARS
from rlm_graph.errors import TargetError
from rlm_graph.samples import make_haystack

CHUNKING = Chunking(chunk_tokens=500, overlap_tokens=25)

# Each of these makes a backtracking engine (Python's re) take time exponential in the length
# of a run of a's: on the 10,000-character line below, longer than the age of the universe.
CATASTROPHIC = [r"(a+)+$", r"(a|aa)+$", r"(a*)*b", r"(.*a){25}", r"^(\w+\s?)*$", r"(a|a?)+$"]


@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("grep") / "big.txt"
    with path.open("w") as out:
        out.write("a" * 10_000 + "!\n")
        block = make_haystack(1_000_000, seed=2)
        for _ in range(20):  # ~20 MB
            out.write(block)
        out.write("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\n")
    return path


GREP_IN_A_PROCESS = """
import sys
from rlm_graph.context import Chunking, open_context
result = open_context(sys.argv[1]).grep(sys.argv[2], Chunking(chunk_tokens=500, overlap_tokens=25))
print("TOTAL", result.total)
"""


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_patterns_finish(hostile_file, pattern):
    # In a process of its own, so that a regression fails on the timeout instead of hanging the
    # suite; the timeout guards against a hang, it is no speed target (benchmarks/grep_speed.py).
    proc = subprocess.run(
        [sys.executable, "-c", GREP_IN_A_PROCESS, str(hostile_file), pattern],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "TOTAL" in proc.stdout
    assert proc.stderr == ""  # RE2 prints nothing of its own


@pytest.mark.parametrize(
    ("pattern", "named"),
    [
        (r"foo(?=bar)", "lookahead"),
        (r"(?<!x)foo", "lookahead and lookbehind"),
        (r"(\w)\1", "backreferences"),
        (r"(?P<n>a)(?P=n)", "backreferences"),
        (r"a++", "possessive"),
        (r"(?>ab)", "atomic"),
    ],
)
def test_unsupported_patterns_say_what_to_write_instead(pattern, named):
    view = open_context("foobar and foo\n")
    with pytest.raises(TargetError, match=named) as info:
        view.grep(pattern, CHUNKING)
    assert "rewrite" in str(info.value)


def test_invalid_and_empty_patterns():
    view = open_context("some text\n")
    with pytest.raises(TargetError, match="invalid regex"):
        view.grep("[unclosed", CHUNKING)
    with pytest.raises(TargetError, match="empty grep pattern"):
        view.grep("", CHUNKING)


def _python_hits(text: bytes, pattern: str) -> list[tuple[int, int]]:
    rx = re.compile(pattern.encode(), re.IGNORECASE | re.MULTILINE)
    return [m.span() for m in rx.finditer(text)]


@pytest.mark.parametrize(
    "pattern", [r"vault", r"\d{4}-alpha", r"^note 1\d\.", r"auditor|night shift"]
)
def test_hits_match_a_backtracking_engine_on_ordinary_patterns(tmp_path, pattern):
    text = make_haystack(60_000, seed=4)
    path = tmp_path / "doc.txt"
    path.write_text(text)
    for source in (text, path):
        result = open_context(source).grep(pattern, CHUNKING, max_hits=10_000)
        expected = _python_hits(text.encode(), pattern)
        assert [hit.offset for hit in result.hits] == [start for start, _ in expected]
        assert result.total == len(expected)
        lines = [text.encode()[:start].count(b"\n") + 1 for start, _ in expected]
        assert [hit.line for hit in result.hits] == lines


def test_non_ascii_text_matches_case_insensitively():
    text = "Préambule\nL'ÉTÉ est chaud.\nl'été revient.\n"
    result = open_context(text).grep("été", CHUNKING)
    assert result.total == 2 and [hit.line for hit in result.hits] == [2, 3]


def test_folder_hits_never_span_files_or_headers(tmp_path):
    (tmp_path / "a.txt").write_text("alpha needle\nend of a")
    (tmp_path / "b.txt").write_text("start of b\nneedle beta\n")
    view = open_context(tmp_path)
    result = view.grep("needle", CHUNKING)
    assert result.total == 2
    assert view.grep("a.txt", CHUNKING).total == 0  # the file headers are not text
    assert view.grep(r"of a\s+start", CHUNKING).total == 0  # no match across two files


def test_block_scanning_finds_every_match_once(tmp_path, monkeypatch):
    """With tiny blocks, matches on and across block edges are each found exactly once."""
    text = ("xx needle-123 yy " * 5000) + "\n"
    path = tmp_path / "doc.txt"
    path.write_text(text)
    expected = _python_hits(text.encode(), r"needle-\d+")
    monkeypatch.setattr(regex_module, "SCAN_BLOCK", 97)
    monkeypatch.setattr(regex_module, "SCAN_OVERLAP", 50)
    result = open_context(path).grep(r"needle-\d+", CHUNKING, max_hits=10_000)
    assert [hit.offset for hit in result.hits] == [start for start, _ in expected]


def test_counts_and_output_are_capped():
    text = "e " * (COUNT_CAP + 10) + "\n"
    result = open_context(text).grep("e", CHUNKING, max_hits=40)
    assert result.capped and result.total == COUNT_CAP and len(result.hits) == 40
    assert "at least" in result.render()
    long_lines = "\n".join(f"hit {i} " + "z" * 900 for i in range(40)) + "\n"
    rendered = open_context(long_lines).grep("hit", CHUNKING, max_hits=40).render()
    assert len(rendered) < MAX_RENDER_CHARS + 500 and "more hits not shown" in rendered


def test_patterns_that_match_empty_text_end():
    view = open_context("abc\n" * 1000)
    for pattern in ("x*", "^", "$", "(?:)"):
        result = view.grep(pattern, CHUNKING)
        assert 0 < result.total <= COUNT_CAP


EMPTY_OR_ANCHORED = [r"^", r"$", r"^$", r"\b", r"x*", r"^\s*$", r"(?:)"]


@pytest.mark.parametrize("pattern", EMPTY_OR_ANCHORED)
def test_empty_matches_are_found_once_like_python(tmp_path, monkeypatch, pattern):
    # google-re2's own finditer reports an empty match twice when the search did not start on
    # it (every ^, $ and \b after the first); counts and hits must equal Python's.
    text = "alpha\n\nbeta gamma\n\n\n  \ndelta"
    path = tmp_path / "doc.txt"
    path.write_text(text)
    expected = [start for start, _ in _python_hits(text.encode(), pattern)]
    for source in (text, path):
        result = open_context(source).grep(pattern, CHUNKING, max_hits=1000)
        assert [hit.offset for hit in result.hits] == expected
    # The same across block edges, with blocks a few bytes long.
    monkeypatch.setattr(regex_module, "SCAN_BLOCK", 3)
    monkeypatch.setattr(regex_module, "SCAN_OVERLAP", 4)
    result = open_context(path).grep(pattern, CHUNKING, max_hits=1000)
    assert [hit.offset for hit in result.hits] == expected


def test_error_messages_quote_the_pattern_as_written():
    view = open_context("some text\n")
    for pattern in ("[ab", "(b"):
        with pytest.raises(TargetError) as info:
            view.grep(pattern, CHUNKING)
        message = str(info.value)
        assert f": {pattern};" in message and "(?m)" not in message
    with pytest.raises(TargetError, match=r"up to \{1000\}"):
        view.grep("x{2000}", CHUNKING)
    with pytest.raises(TargetError, match=r"write \$"):
        view.grep(r"end\Z", CHUNKING)


def _resident_kb(path: Path) -> int:
    """Resident kB of this process's memory maps of ``path`` (from /proc/self/smaps)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if re.match(r"[0-9a-f]+-[0-9a-f]+ ", line):
            inside = line.endswith(str(path))
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux /proc")
def test_a_scan_leaves_no_part_of_the_file_resident(tmp_path, monkeypatch):
    # Each block's pages are handed back, including the ones before a block that RE2 maps back
    # in by reading the byte before where its search starts (the kernel maps whole folios).
    path = tmp_path / "big.txt"
    block = make_haystack(1_000_000, seed=5).encode()
    with path.open("wb") as out:
        for _ in range(48):  # ~48 MB, 12 blocks of 4 MB
            out.write(block)
    monkeypatch.setattr(regex_module, "SCAN_BLOCK", 4 << 20)
    store = open_context(path).store
    try:
        rx = regex_module.compile_pattern(r"vault|night shift")
        assert sum(1 for _ in store.iter_matches(rx, 0, store.size)) > 0
        assert _resident_kb(Path(store.uri)) < 1024
    finally:
        store.close()


def test_folder_hits_equal_python_file_by_file(tmp_path):
    texts = {
        "a.txt": "needle 1\nno match here\nneedle 22 needle 333\n",
        "sub/b.md": "intro\n\nNEEDLE 4 at the end",  # no final newline: the store adds one
        "sub/c.txt": "needle 5\n" * 50,
    }
    for rel, text in texts.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    view = open_context(tmp_path)
    space = view.read_bytes(0, view.size)
    rx = re.compile(rb"needle \d+$|^needle", re.IGNORECASE | re.MULTILINE)
    # Python on the whole virtual text, one file's span at a time: what the old code returned.
    expected = [m.start() for f in view.store.files() for m in rx.finditer(space, f.start, f.end)]
    result = view.grep(r"needle \d+$|^needle", CHUNKING, max_hits=1000)
    assert [hit.offset for hit in result.hits] == expected
    assert [hit.line for hit in result.hits] == [space[:at].count(b"\n") + 1 for at in expected]
    assert [hit.chunk for hit in result.hits] == [
        view.layout(CHUNKING).chunk_of(at) for at in expected
    ]


@pytest.mark.parametrize("pattern", [r"été", r"ü\w*", r"日本", r"\d+ ?€", r"naïve|façade"])
def test_non_ascii_offsets_equal_python(tmp_path, pattern):
    text = "été à Zürich: 12 €, 7€\nnaïve façade\n日本語のテキスト, l'été\nüber alles\n" * 30
    path = tmp_path / "utf8.txt"
    path.write_text(text, encoding="utf-8")
    expected = _python_hits(text.encode(), pattern)
    result = open_context(path).grep(pattern, CHUNKING, max_hits=1000)
    assert [hit.offset for hit in result.hits] == [start for start, _ in expected]
    assert result.total == len(expected) > 0
