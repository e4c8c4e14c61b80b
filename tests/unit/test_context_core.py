"""ContextView over in-memory text: slicing, lines, chunks, targets, peek and grep."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rlm_graph.context import Chunking, ContextView, TextStore, open_context, parse_target
from rlm_graph.errors import TargetError

SMALL = Chunking(chunk_tokens=25, overlap_tokens=5)  # 100-byte chunks, 20-byte overlap


def numbered(n: int) -> str:
    return "".join(f"line {i:04d} text\n" for i in range(1, n + 1))  # 15 bytes per line


# ----- slicing and UTF-8 -------------------------------------------------------------------


def test_text_slices_are_relative_and_snap_utf8_edges() -> None:
    v = open_context("aé€😀z")  # 1 + 2 + 3 + 4 + 1 bytes
    assert v.size == 11
    assert v.text() == "aé€😀z"
    assert v.text(0, 2) == "aé"  # end inside é moves forward past it
    assert v.text(2, 6) == "€"  # start at é's continuation byte moves to €
    assert v.text(7, 8) == ""  # both edges inside 😀 snap to its end
    assert v.text(6, 7) == "😀"
    child = ContextView(v.store, v.resolve("chars:1-6"))
    assert child.text() == "é€"
    assert child.size == 5


def test_invalid_utf8_decodes_with_replacement() -> None:
    v = ContextView(TextStore(b"ok \xff\xfe end"))
    assert v.text() == "ok \ufffd\ufffd end"


# ----- lines ---------------------------------------------------------------------------------


def test_lines_count_span_and_line_of() -> None:
    v = open_context("a\nbb\nccc")
    assert v.line_count() == 3
    assert v.line_span(2, 2) == (2, 5)
    assert v.text(*v.line_span(2, 3)) == "bb\nccc"
    assert v.line_of(0) == 1
    assert v.line_of(2) == 2
    assert v.line_of(5) == 3
    assert open_context("x\ny\n").line_count() == 2


def test_lines_are_relative_to_the_slice() -> None:
    v = open_context(numbered(100))
    child = ContextView(v.store, v.resolve("lines:11-20"))
    assert child.line_count() == 10
    assert child.text(*child.line_span(1, 1)) == "line 0011 text\n"
    assert child.peek("lines:10-10").splitlines()[1] == "line 0020 text"


def test_line_index_spans_many_blocks() -> None:
    from rlm_graph.context import LineIndex

    data = numbered(2000).encode()
    index = LineIndex(lambda a, b: data[a:b], len(data), block=64)
    assert index.total == 2000
    for k in (0, 1, 63, 500, 1999):
        assert index.nth_newline(k) == (k + 1) * 15 - 1
    assert index.nth_newline(2000) is None
    assert index.newlines_before(15 * 700 + 3) == 700
    assert index.newlines_between(150, 15 * 1000) == 990


# ----- chunks --------------------------------------------------------------------------------


def test_chunking_validation_and_sizes() -> None:
    with pytest.raises(ValidationError, match="overlap_tokens"):
        Chunking(chunk_tokens=10, overlap_tokens=10)
    with pytest.raises(ValidationError):
        Chunking(chunk_tokens=0)
    with pytest.raises(ValidationError):
        Chunking(chars_per_token=0)
    c = Chunking()
    assert (c.chunk_bytes, c.overlap_bytes, c.stride) == (4000, 400, 3600)
    assert c.count(4000) == 1
    assert c.count(4001) == 2
    assert c.count(4000 + 3600 * 5) == 6
    assert c.count(4000 + 3600 * 5 + 1) == 7


@pytest.mark.parametrize("text", [numbered(200), "word " * 700, "é" * 1000 + "x"])
def test_chunks_cover_everything_overlap_and_snap(text: str) -> None:
    v = open_context(text)
    n = v.chunk_count(SMALL)
    assert n == SMALL.count(v.size) > 10
    spans = [v.chunk_span(i, SMALL) for i in range(n)]
    assert spans[0][0] == 0
    assert spans[-1][1] == v.size
    data = v.read_bytes()
    for i, (start, end) in enumerate(spans):
        assert start < end <= start + SMALL.chunk_bytes * 1.2  # start may snap back ~20%
        assert end - start >= SMALL.chunk_bytes * 0.7 or i == n - 1
        # Edges are character boundaries (never a continuation byte).
        assert start == len(data) or data[start] & 0xC0 != 0x80
        assert end == len(data) or data[end] & 0xC0 != 0x80
        if i:
            prev_start, prev_end = spans[i - 1]
            assert prev_start < start < prev_end  # consecutive chunks overlap, no gap
    if "\n" in text:  # every inner edge sits right after a newline
        assert all(data[s - 1 : s] == b"\n" for s, _ in spans[1:])
        assert all(data[e - 1 : e] == b"\n" for _, e in spans)
    elif " " in text:
        assert all(data[s - 1 : s] == b" " for s, _ in spans[1:])
    # chunk_of gives the first chunk containing an offset.
    for offset in range(0, v.size, 37):
        i = v.chunk_of(offset, SMALL)
        assert spans[i][0] <= offset < spans[i][1]
        assert i == 0 or offset >= spans[i - 1][1]


def test_chunk_spans_are_deterministic_and_tiny_text_is_one_chunk() -> None:
    v = open_context(numbered(200))
    assert v.chunk_span(7, SMALL) == open_context(numbered(200)).chunk_span(7, SMALL)
    tiny = open_context("short")
    assert tiny.chunk_count() == 1
    assert tiny.chunk_span(0) == (0, 5)
    assert tiny.approx_tokens() == 2
    assert v.approx_tokens(SMALL) == 750


# ----- targets -------------------------------------------------------------------------------


def test_all_target_forms_resolve() -> None:
    v = open_context(numbered(200))
    ref = v.resolve("all", SMALL)
    assert (ref.start, ref.end, ref.label) == (0, v.size, "all")
    assert ref.store_id == v.store.store_id and ref.kind == "text"
    c3 = v.chunk_span(3, SMALL)
    assert (v.resolve("chunk:3", SMALL).start, v.resolve("chunk:3", SMALL).end) == c3
    ref = v.resolve("chunks:2-4", SMALL)
    assert (ref.start, ref.end, ref.label) == (
        v.chunk_span(2, SMALL)[0],
        v.chunk_span(4, SMALL)[1],
        "chunks:2-4",
    )
    ref = v.resolve("chars:15-45")
    assert (ref.start, ref.end, ref.label) == (15, 45, "chars:15-45")
    ref = v.resolve("lines:2-3")
    assert (ref.start, ref.end) == (15, 45)
    none = v.resolve("none")
    assert (none.start, none.end, none.label) == (0, 0, "none")


@pytest.mark.parametrize(
    ("raw", "label"),
    [
        ("chunk: 3", "chunk:3"),
        ("CHUNK:3", "chunk:3"),
        ("chunk 3", "chunk:3"),
        ("'chunk:3'", "chunk:3"),
        ("`chunk #3`", "chunk:3"),
        ("chunks:3", "chunk:3"),
        ("chunk:2-4", "chunks:2-4"),
        ("Chunks 2 to 4", "chunks:2-4"),
        (" lines: 10 - 20 ", "lines:10-20"),
        ("line 7", "lines:7-7"),
        ("chars:1,000-2,000", "chars:1000-2000"),
        ("ALL", "all"),
        ('"none"', "none"),
        ("file: ./sub/b.txt", "file:sub/b.txt"),
    ],
)
def test_target_parsing_is_tolerant(raw: str, label: str) -> None:
    assert parse_target(raw).label == label


def test_resolve_relative_to_child_slice() -> None:
    v = open_context(numbered(200))
    child = ContextView(v.store, v.resolve("lines:101-200"))
    ref = child.resolve("lines:1-1")
    assert v.text(ref.start, ref.end) == "line 0101 text\n"
    assert child.resolve("chars:0-15").start == 1500
    assert child.resolve("none").start == 1500
    assert child.chunk_count(SMALL) == SMALL.count(1500)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "chunk:40",
            r"chunk:40 is out of range: this context has 38 chunks \(chunk:0 to chunk:37\)",
        ),
        ("chunks:30-40", r"chunks:30-40 is out of range: this context has 38 chunks"),
        ("chunks:5-2", r"chunks:5-2 is reversed: write chunks:2-5"),
        ("chars:10-5", r"chars:10-5 is empty or reversed: use chars:A-B with A < B"),
        (
            "chars:0-99999",
            r"chars:0-99999 is out of range: this context has 3,000 chars \(chars:0-3000\)",
        ),
        ("chars:10", r"chars needs a range: chars:A-B"),
        ("lines:0-5", r"lines are numbered from 1"),
        ("lines:9-3", r"lines:9-3 is reversed: write lines:3-9"),
        ("lines:150-250", r"this context has 200 lines \(lines:1-200\)"),
        (
            "page 3",
            r"unknown target 'page 3': use all, chunk:N, chunks:N-M, chars:A-B, lines:A-B, file:PATH or none",
        ),
        ("chunk:x", r"cannot read 'chunk:x': write it like chunk:3"),
        ("all of it", r"unknown target 'all of it'"),
        ("", r"unknown target ''"),
        ("file:a.txt", r"file:a.txt only works on folder contexts; this context is one text"),
    ],
)
def test_target_errors_teach_the_valid_form(target: str, message: str) -> None:
    v = open_context(numbered(200))
    assert v.chunk_count(SMALL) == 38
    with pytest.raises(TargetError, match=message):
        v.resolve(target, SMALL)


def test_one_chunk_error_message() -> None:
    with pytest.raises(TargetError, match=r"has 1 chunk \(chunk:0\)"):
        open_context("tiny").resolve("chunk:1")


# ----- peek ----------------------------------------------------------------------------------


def test_peek_header_and_truncation() -> None:
    v = open_context(numbered(200))
    out = v.peek("lines:3-4")
    assert (
        out
        == "[lines:3-4 | lines 3-4 of 200 | chars 30-60 of 3,000]\nline 0003 text\nline 0004 text\n"
    )
    out = v.peek("all", max_chars=20)
    head, body, marker = out.split("\n", 2)
    assert head == "[all | lines 1-200 of 200 | chars 0-3,000 of 3,000]"
    assert body == "line 0001 text"
    assert marker == "line \n[... 2,980 more chars not shown; narrow the target, e.g. chars:20-40]"
    assert v.peek("none") == "[none | empty span]\n"


def test_peek_truncation_never_splits_a_character() -> None:
    v = open_context("€" * 100)
    out = v.peek("all", max_chars=10)  # 10 bytes end inside the 4th €
    assert "\ufffd" not in out
    assert "\n€€€€\n" in out
    assert "[... 288 more chars not shown" in out


# ----- grep ----------------------------------------------------------------------------------


def test_grep_hits_lines_chunks_and_case() -> None:
    lines = [f"row {i}" for i in range(1, 201)]
    lines[9] = "row 10 has an ERROR here"
    lines[149] = "row 150: error again, Error twice"
    v = open_context("\n".join(lines) + "\n")
    result = v.grep("error", SMALL)
    assert result.total == 3 and not result.truncated
    assert [h.line for h in result.hits] == [10, 150, 150]
    for hit in result.hits:
        assert v.line_of(hit.offset) == hit.line
        assert hit.chunk == v.chunk_of(hit.offset, SMALL)
        assert v.text(hit.offset, hit.offset + 5).lower() == "error"
    assert result.hits[0].text == "row 10 has an ERROR here"
    rendered = result.render().splitlines()
    assert rendered[0] == f"line 10 (chunk {result.hits[0].chunk}): row 10 has an ERROR here"
    assert rendered[-1] == "3 matches"
    assert v.grep("row 1\\b").render().endswith("1 match")


def test_grep_truncation_target_and_no_match() -> None:
    v = open_context(numbered(200))
    result = v.grep(r"line \d+", max_hits=5)
    assert (result.total, len(result.hits), result.truncated) == (200, 5, True)
    assert result.render().splitlines()[-1] == "showing 5 of 200 matches; refine the pattern"
    scoped = v.grep("text", target="lines:11-20")
    assert scoped.total == 10
    assert [h.line for h in scoped.hits] == list(range(11, 21))  # numbered in the whole view
    assert v.grep("nomatch").render() == "no matches for 'nomatch'"
    assert v.grep("^line 0002").total == 1  # ^ anchors per line


def test_grep_long_line_is_cut_around_the_match() -> None:
    v = open_context("x" * 5000 + " needle " + "y" * 5000 + "\nshort\n")
    hit = v.grep("NEEDLE").hits[0]
    assert hit.line == 1 and hit.offset == 5001
    assert "needle" in hit.text and len(hit.text) <= 210
    assert hit.text.startswith("...") and hit.text.endswith("...")


def test_grep_invalid_regex() -> None:
    v = open_context("some text")
    with pytest.raises(TargetError, match=r"invalid regex 'foo\(': missing \)"):
        v.grep("foo(")
    with pytest.raises(TargetError, match="empty grep pattern"):
        v.grep("")


def test_describe_mentions_sizes_chunks_and_preview() -> None:
    v = open_context(numbered(200))
    text = v.describe(SMALL, preview_chars=30)
    assert "text (given directly)" in text
    assert "3,000 chars (bytes), about 750 tokens, 200 lines" in text
    assert "38 chunks (chunk:0 to chunk:37), each about 25 tokens with 5 tokens overlap" in text
    assert "line 0001 text\nline 0002 text\n ..." in text
    child = ContextView(v.store, v.resolve("lines:1-10"))
    assert "slice lines:1-10" in child.describe(SMALL)
