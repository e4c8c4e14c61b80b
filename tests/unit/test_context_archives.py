"""Compressed files read as streams, archives read as folders, and the bad inputs around them."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import tarfile
import tempfile
import threading
import zipfile
from pathlib import Path

import charset_normalizer
import pytest
import zstandard

from rlm_graph.blobs import MemoryBlobStore
from rlm_graph.context import ContextRegistry, open_context
from rlm_graph.context import archives as archives_module
from rlm_graph.errors import ContextError
from rlm_graph.evidence import locate
from tests.unit.pdf_maker import make_pdf
from tests.unit.test_context_files import rss_anon

LOG = "".join(f"2024-03-{d:02d} 10:00:00 INFO worker started\n" for d in range(1, 29))
LOG += "2024-03-29 10:00:00 ERROR disk full on /var/data\n"

COMPRESSORS = {
    "log.gz": gzip.compress,
    "log.bz2": bz2.compress,
    "log.xz": lzma.compress,
    "log.zst": lambda data: zstandard.ZstdCompressor().compress(data),
}


@pytest.mark.parametrize("name", sorted(COMPRESSORS))
def test_compressed_files_are_read_as_their_text(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(COMPRESSORS[name](LOG.encode()))
    view = open_context(path)
    assert view.text() == LOG and view.kind == "file"
    assert view.store.encoding == "utf-8"
    found = locate(view, "ERROR disk full on /var/data")
    assert found.verified and found.line == 29


def test_a_compressed_utf16_log_is_decoded_after_decompression(tmp_path: Path) -> None:
    path = tmp_path / "win.log.gz"
    path.write_bytes(gzip.compress(LOG.encode("utf-16")))
    view = open_context(path)
    assert view.text() == LOG and view.store.encoding == "utf-16"
    assert "gzip-compressed" in view.describe()


def _tar_gz(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_a_tar_gz_is_a_folder_of_its_text_members(tmp_path: Path) -> None:
    path = tmp_path / "logs.tar.gz"
    _tar_gz(
        path,
        {
            "logs/app.log": LOG.encode(),
            "logs/old.log": "ancienne entrée: réseau coupé\n".encode("latin-1") * 3,
            "logs/manual.pdf": make_pdf(["Intro", "Restart the worker with: svc restart"]),
            "logs/core.bin": b"\x7fELF" + bytes(64),
        },
    )
    view = open_context(path)
    assert view.kind == "dir"
    assert [f.path for f in view.files()] == ["logs/app.log", "logs/old.log", "logs/manual.pdf"]
    assert view.store.skipped == ["logs/core.bin"]
    assert view.store.encoding == "mixed (cp1252, pdf, utf-8)"  # what the start line shows
    assert "archive" in view.describe() and "logs/old.log" in view.describe()
    child = view.child("file:app.log")
    assert child.text() == LOG
    assert "réseau coupé" in view.child("file:logs/old.log").text()
    found = locate(view, "ERROR disk full")
    assert (found.file, found.line) == ("logs/app.log", 29)
    in_pdf = locate(view, "Restart the worker with: svc restart")
    assert (in_pdf.file, in_pdf.page, in_pdf.line) == ("logs/manual.pdf", 2, 1)


def test_a_real_source_folder_as_tar_gz_and_zip(tmp_path: Path) -> None:
    # A package folder nobody here wrote.
    source = Path(charset_normalizer.__file__).parent
    names = sorted(
        p.relative_to(source.parent).as_posix()
        for p in source.rglob("*.py")
        if "__pycache__" not in p.parts
    )
    tar = tmp_path / "src.tar.gz"
    with tarfile.open(tar, "w:gz") as archive:
        archive.add(source, arcname=source.name)
    zipped = tmp_path / "src.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        for py in source.rglob("*.py"):
            archive.write(py, py.relative_to(source.parent).as_posix())
    for path in (tar, zipped):
        view = open_context(path)
        paths = [f.path for f in view.files()]
        assert set(names) <= set(paths)
        api = f"{source.name}/api.py"
        text = (source / "api.py").read_text()
        assert view.child(f"file:{api}").text() == text
        line = "def from_bytes("
        found = locate(view, line)
        assert found.verified and found.file == api
        assert text.splitlines()[found.line - 1].startswith(line)


def test_zip_members_are_read_in_name_order_and_links_are_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("b.txt", "second\n")
        archive.writestr("a.txt", "first\n")
        archive.writestr(".hidden", "never\n")
        link = zipfile.ZipInfo("loop")
        link.external_attr = 0o120777 << 16  # a symlink to itself
        archive.writestr(link, "loop")
    view = open_context(path)
    assert [f.path for f in view.files()] == ["a.txt", "b.txt"]
    assert view.store.skipped == ["loop"]


def test_a_tar_with_a_symlink_loop_skips_the_links(tmp_path: Path) -> None:
    path = tmp_path / "loop.tar"
    with tarfile.open(path, "w") as archive:
        for name, target in (("a", "b"), ("b", "a"), ("self", "self")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            archive.addfile(info)
        data = b"real text\n"
        info = tarfile.TarInfo("real.txt")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    view = open_context(path)
    assert [f.path for f in view.files()] == ["real.txt"]
    assert sorted(view.store.skipped) == ["a", "b", "self"]


def test_a_folder_with_a_symlink_loop_opens(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("text\n")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to(tmp_path)  # a cycle through a folder link
    view = open_context(tmp_path)
    assert [f.path for f in view.files()] == ["real.txt"]


def test_a_corrupt_gz_fails_in_one_line(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(LOG.encode() * 50))
    data[40:60] = b"\xff" * 20
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(ContextError) as err:
        open_context(path)
    assert "damaged gzip stream" in str(err.value) and "\n" not in str(err.value)
    truncated = tmp_path / "short.gz"
    truncated.write_bytes(gzip.compress(LOG.encode() * 50)[:100])
    with pytest.raises(ContextError, match="damaged gzip stream"):
        open_context(truncated)


@pytest.mark.parametrize("kind", ["zip", "gz"])
def test_a_zip_bomb_is_refused_with_bounded_memory(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archives_module, "EXPANSION_FLOOR", 8 << 20)
    text = b"all work and no play makes jack a dull boy\n" * ((256 << 20) // 44)
    path = tmp_path / f"bomb.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("bomb.txt", text)
    else:
        path.write_bytes(gzip.compress(text, compresslevel=9))
    del text
    assert path.stat().st_size < 2 << 20  # 256 MiB of text in under 2 MiB
    renders = set(Path(tempfile.gettempdir()).glob("rlm-graph-render-*"))
    before = rss_anon()
    with pytest.raises(ContextError, match="expands past") as err:
        open_context(path)
    assert "zip bomb" in str(err.value)
    assert rss_anon() - before < 32 << 20
    assert set(Path(tempfile.gettempdir()).glob("rlm-graph-render-*")) <= renders  # cleaned up


def test_a_named_pipe_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []
    thread = threading.Thread(
        target=lambda: outcome.append(pytest.raises(ContextError, open_context, fifo).value),
        daemon=True,
    )
    thread.start()
    thread.join(5)
    assert not thread.is_alive(), "opening a pipe with no writer hung"
    assert "named pipe" in str(outcome[0]) and "--context -" in str(outcome[0])


def test_gz_on_stdin_bytes_is_decompressed() -> None:
    view = open_context(gzip.compress(LOG.encode()))
    assert view.text() == LOG and view.store.uri is None


def test_a_rendering_is_cached_by_content_hash_and_reopened_without_rendering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "logs.tar.gz"
    _tar_gz(path, {"a.log": LOG.encode(), "b.log": b"other\n"})
    blobs = MemoryBlobStore()
    first = open_context(path, ContextRegistry(blobs))

    def no_render(*args, **kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr(archives_module, "render_path", no_render)
    again = open_context(path, ContextRegistry(blobs))  # a follow-up turn naming the file
    assert again.ref.store_id == first.ref.store_id and again.text() == first.text()
    resumed = ContextRegistry(blobs).view(first.ref)  # a resume from the checkpointed ref
    assert [f.path for f in resumed.files()] == ["a.log", "b.log"]
    path.unlink()  # the rendering outlives its source
    assert ContextRegistry(blobs).view(first.ref).text() == first.text()
