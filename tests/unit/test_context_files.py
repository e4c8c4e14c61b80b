"""File, folder and registry contexts: mmap'd files, directory layout, open_context, reopen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rlm_graph.context import (
    Chunking,
    ContextRegistry,
    DirectoryStore,
    FileStore,
    looks_like_path,
    open_context,
)
from rlm_graph.errors import ContextError, TargetError


def rss_anon() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    pytest.skip("no RssAnon in /proc/self/status")


# ----- a big memory-mapped file ----------------------------------------------------------------


def test_grep_and_lines_on_200mb_file_stay_out_of_memory(tmp_path: Path) -> None:
    block = b"".join(
        b"row %05d of a repeated block, lorem ipsum dolor sit amet\n" % i for i in range(10_000)
    )
    repeats = (200 << 20) // len(block)
    path = tmp_path / "big.log"
    with open(path, "wb") as f:
        for _ in range(repeats):
            f.write(block)
        f.write(b"the NEEDLE is here\nlast line\n")
    size = path.stat().st_size
    before = rss_anon()

    view = open_context(path)
    assert view.store.kind == "file" and view.size == size
    result = view.grep("needle")
    total_lines = repeats * 10_000 + 2
    assert result.total == 1
    hit = result.hits[0]
    assert hit.line == total_lines - 1
    assert hit.text == "the NEEDLE is here"
    assert hit.chunk == view.chunk_of(hit.offset)
    assert view.line_count() == total_lines
    assert view.peek(f"lines:{total_lines - 1}-{total_lines}").endswith(
        "the NEEDLE is here\nlast line\n"
    )
    mid = (repeats // 2) * 10_000 + 1  # the first line of the middle copy of the block
    start, end = view.line_span(mid, mid + 1)
    assert start == (repeats // 2) * len(block)
    assert view.text(start, end) == block[: 2 * (block.index(b"\n") + 1)].decode()
    assert "lines not counted" in view.describe()

    grown = rss_anon() - before
    assert grown < 50 << 20, f"anonymous RSS grew by {grown / 1e6:.0f} MB"
    view.store.close()


def test_file_store_reads_and_ids(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("héllo\nworld\n", encoding="utf-8")
    store = FileStore(path)
    assert store.uri == str(path.resolve())
    assert store.size == 13 and store.kind == "file"
    assert store.read_bytes(7, 12) == b"world"
    assert store.read_bytes(10, 99) == b"ld\n"
    ref = store.ref()
    assert (ref.start, ref.end, ref.label, ref.uri) == (0, 13, "all", store.uri)
    same = FileStore(path)
    assert same.store_id == store.store_id
    assert open_context(str(path)).text(0, 2) == "hé"


# ----- folders -------------------------------------------------------------------------------


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "sub").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("hidden\n")
    (root / ".env").write_text("SECRET=1\n")
    (root / "a.txt").write_text("alpha\nneedle one\n")
    (root / "sub" / "b.txt").write_text("beta no newline needle")
    (root / "sub" / "c.md").write_text("gamma\n")
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    return root


def test_directory_layout_and_skips(folder: Path) -> None:
    store = DirectoryStore(folder)
    expected = (
        b"=== file: a.txt ===\nalpha\nneedle one\n"
        b"=== file: sub/b.txt ===\nbeta no newline needle\n"
        b"=== file: sub/c.md ===\ngamma\n"
    )
    assert store.size == len(expected)
    assert store.read_bytes(0, store.size) == expected
    assert store.read_bytes(25, 60) == expected[25:60]  # spans a file end, padding and header
    assert store.skipped == ["image.png"]
    assert [f.path for f in store.files()] == ["a.txt", "sub/b.txt", "sub/c.md"]
    b = store.files()[1]
    assert store.read_bytes(b.start, b.end) == b"beta no newline needle"
    assert store.uri == str(folder.resolve())


def test_directory_targets_grep_and_describe(folder: Path) -> None:
    view = open_context(folder)
    assert view.text(
        *view.resolve("file:sub/b.txt").model_dump(include={"start", "end"}).values()
    ) == ("beta no newline needle")
    assert view.resolve("file:b.txt").label == "file:sub/b.txt"  # unique suffix
    assert view.resolve("file:SUB/C.MD").label == "file:sub/c.md"
    with pytest.raises(
        TargetError, match=r"file:x.txt not found; files: a.txt, sub/b.txt, sub/c.md"
    ):
        view.resolve("file:x.txt")
    result = view.grep("needle|file")  # headers are not searched
    assert result.total == 2
    assert [h.line for h in result.hits] == [3, 5]
    assert [h.text for h in result.hits] == ["needle one", "beta no newline needle"]
    child = view.child("file:sub/b.txt")
    assert child.files()[0].path == "sub/b.txt" and child.files()[0].start == 0
    assert child.grep("needle").hits[0].offset == 16
    text = view.describe(Chunking(chunk_tokens=10, overlap_tokens=2))
    assert "folder" in text and "(3 text files)" in text
    assert "  sub/b.txt  22 chars  chunks:" in text
    assert "(1 binary or unreadable files skipped)" in text
    assert "[file:a.txt | file a.txt | lines 2-3 of 7" in view.peek("file:a.txt")


def test_directory_ambiguous_suffix_and_many_files(tmp_path: Path) -> None:
    for d in ("x", "y"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "same.txt").write_text(d)
    for i in range(30):
        (tmp_path / f"f{i:02d}.txt").write_text(f"{i}\n")
    view = open_context(tmp_path)
    with pytest.raises(
        TargetError, match=r"ambiguous; it matches file:x/same.txt, file:y/same.txt"
    ):
        view.resolve("file:same.txt")
    with pytest.raises(TargetError, match=r"not found; files: f00.txt, .*f19.txt \(and 12 more\)$"):
        view.resolve("file:nope.txt")


def test_directory_with_many_files_uses_a_bounded_cache(tmp_path: Path) -> None:
    for i in range(60):
        (tmp_path / f"{i:03d}.txt").write_text(f"file {i}\n")
    store = DirectoryStore(tmp_path, cache_size=4)
    text = store.read_bytes(0, store.size)
    assert text.count(b"=== file: ") == 60 and b"file 59\n" in text
    assert len(store._cache) <= 4
    assert open_context(tmp_path).grep("file 5").total == 11  # 5, 50-59


# ----- open_context ----------------------------------------------------------------------------


def test_open_context_errors(tmp_path: Path) -> None:
    with pytest.raises(ContextError, match="context file not found: .*missing.txt"):
        open_context(tmp_path / "missing.txt")
    with pytest.raises(ContextError, match="context file not found: data/missing.txt"):
        open_context("data/missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ContextError, match="context is empty: .*empty.txt"):
        open_context(empty)
    blank = tmp_path / "blank.txt"
    blank.write_text(" \n\t\n")
    with pytest.raises(ContextError, match="context is empty"):
        open_context(str(blank))
    with pytest.raises(ContextError, match="context is empty: the given text is blank"):
        open_context("   \n ")
    with pytest.raises(ContextError, match="context is empty"):
        open_context(b"")
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"abc\x00def")
    with pytest.raises(
        ContextError, match="context file looks binary \\(no text encoding fits it.*\\): .*x.bin"
    ):
        open_context(binary)
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("café au lait".encode("latin-1"))
    assert open_context(latin1).text() == "café au lait"  # decoded (issue 17), not refused
    bins = tmp_path / "bins"
    bins.mkdir()
    (bins / "a.bin").write_bytes(b"\x00\x01")
    (bins / "b.bin").write_bytes(b"\xff\xd8\xff\xe0\x00")  # a JPEG's first bytes
    with pytest.raises(ContextError, match=r"context folder has no text files: .*bins \(2 binary"):
        open_context(bins)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read anything")
def test_open_context_permission_error(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("no access")
    path.chmod(0)
    with pytest.raises(ContextError, match="permission denied"):
        open_context(path)


def test_open_context_reports_os_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulated so the test also runs as root (who can read a chmod 0 file).
    import importlib

    opener = importlib.import_module("rlm_graph.context.paths")  # where files are opened
    path = tmp_path / "locked.txt"
    path.write_text("text")

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(opener, "open", refuse, raising=False)
    with pytest.raises(ContextError, match=r"cannot read context .*locked.txt: permission denied"):
        open_context(path)


def test_utf8_sniff_allows_a_character_cut_at_8kib(tmp_path: Path) -> None:
    path = tmp_path / "cut.txt"
    path.write_bytes(b"a" * 8191 + "€ and more".encode())  # € starts at byte 8191
    assert open_context(path).text().endswith("€ and more")


@pytest.mark.parametrize(
    ("text", "is_path"),
    [
        ("notes.txt", True),
        ("data/report.csv", True),
        ("./run", True),
        ("/var/log/app.log", True),
        ("C:\\data\\x.json", True),
        ("My Docs/notes.md", True),
        ("The answer is 42.", False),
        ("3.14", False),
        ("hello world", False),
        ("read notes.txt", False),
        ("and/or maybe", False),
        ("line one\nline two.txt", False),
    ],
)
def test_path_heuristic(text: str, is_path: bool) -> None:
    assert looks_like_path(text) is is_path


def test_open_context_text_vs_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert open_context("The answer is 42.").store.kind == "text"
    assert open_context(b"bytes text").text() == "bytes text"
    (tmp_path / "notes.txt").write_text("from disk\n")
    monkeypatch.chdir(tmp_path)
    view = open_context("notes.txt")  # an existing relative path opens the file
    assert view.store.kind == "file" and view.text() == "from disk\n"
    assert open_context("notes.txt\n").store.kind == "text"  # a newline means text


# ----- registry ------------------------------------------------------------------------------


def test_registry_reopens_by_uri_and_detects_changes(tmp_path: Path) -> None:
    path = tmp_path / "doc.txt"
    path.write_text("one\ntwo\nthree\n")
    first = ContextRegistry()
    view = open_context(path, registry=first)
    assert view.store.store_id in first and len(first) == 1
    ref = view.resolve("lines:2-3")
    assert first.view(ref).text() == "two\nthree\n"
    assert first.store_for(ref) is view.store

    fresh = ContextRegistry()  # e.g. a resumed checkpoint in a new process
    reopened = fresh.view(ref)
    assert reopened.text() == "two\nthree\n"
    assert fresh.store_for(ref) is reopened.store

    path.write_text("one\nTWO\nthree\n")
    with pytest.raises(ContextError, match="context changed since it was opened: .*doc.txt"):
        ContextRegistry().view(ref)
    path.unlink()
    with pytest.raises(ContextError, match="context is missing: cannot reopen .*doc.txt"):
        ContextRegistry().view(ref)


def test_registry_reopens_folders_and_rejects_unknown_text(folder: Path) -> None:
    ref = open_context(folder).resolve("file:a.txt")
    assert ContextRegistry().view(ref).text() == "alpha\nneedle one\n"
    (folder / "new.txt").write_text("added\n")
    with pytest.raises(ContextError, match="context changed"):
        ContextRegistry().view(ref)
    text_ref = open_context("in memory only").store.ref()
    with pytest.raises(ContextError, match="not in the blob store"):
        ContextRegistry().view(text_ref)
