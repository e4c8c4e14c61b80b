"""Rendering what is not UTF-8 text as it stands into a ``PartsWriter``: text in another
encoding, PDFs, compressed streams (.gz .bz2 .xz .zst) and archives (.zip, .tar and compressed
tars) read as a folder of their members.

Everything is streamed: a member is read in blocks, decoded and written out, so memory stays
a few blocks whatever the archive's size. Links inside an archive are never followed (so a
symlink loop is just a skipped member), and the text an archive expands to is capped.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import stat
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import BinaryIO

import zstandard

from rlm_graph.context.encodings import (
    NO_ENCODING,
    SAMPLE_BYTES,
    combined,
    decode_stream,
    detect_encoding,
    display_name,
    read_blocks,
)
from rlm_graph.context.formats import COMPRESSED, Format, sniff
from rlm_graph.context.parts import ExpansionError, PartsStore, PartsWriter
from rlm_graph.context.pdf import pdf_pages
from rlm_graph.errors import ContextError

# A compressed source may expand to this many times its size, and always to this much: logs
# compress 10-20x, a zip bomb 1,000x and more.
EXPANSION_RATIO = 200
EXPANSION_FLOOR = 1 << 30
# A compressed format's name for people, and its file extension.
_COMPRESSIONS = {
    "gzip": ("gzip", "gz"),
    "bz2": ("bzip2", "bz2"),
    "xz": ("xz", "xz"),
    "zstd": ("zstd", "zst"),
}


def expansion_limit(compressed_size: int) -> int:
    return max(EXPANSION_FLOOR, EXPANSION_RATIO * compressed_size)


def decompressed(fmt: Format, raw: BinaryIO) -> BinaryIO:
    """A stream of the decompressed bytes of ``raw`` in a compressed format."""
    if fmt == "gzip":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    if fmt == "bz2":
        return bz2.BZ2File(raw)  # type: ignore[return-value]
    if fmt == "xz":
        return lzma.LZMAFile(raw)  # type: ignore[return-value]
    return zstandard.ZstdDecompressor().stream_reader(raw)  # type: ignore[return-value]


# Errors a damaged compressed stream or archive raises while it is read.
STREAM_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # gzip.BadGzipFile, truncated streams
    EOFError,
    lzma.LZMAError,
    zipfile.BadZipFile,
    zlib.error,
    tarfile.TarError,
    ValueError,
    zstandard.ZstdError,
)


@contextmanager
def _spooled(blocks: Iterable[bytes]) -> Iterator[BinaryIO]:
    """A seekable copy on disk (a PDF is read by random access; an archive member is not)."""
    with tempfile.TemporaryFile() as spool:
        for block in blocks:
            spool.write(block)
        spool.seek(0)
        yield spool  # type: ignore[misc]


class Renderer:
    """Writes members into one rendering, noting the encodings it met."""

    def __init__(self, writer: PartsWriter) -> None:
        self.writer = writer
        self.encodings: set[str] = set()

    def text_blocks(self, head: bytes, rest: Iterator[bytes], what: str) -> Iterator[bytes]:
        """A text's UTF-8 blocks, decoded from whatever encoding its first bytes show."""
        codec = detect_encoding(head)
        if codec is None:
            raise ContextError(f"{what} looks binary ({NO_ENCODING})")
        self.encodings.add(display_name(codec))
        return decode_stream(chain([head], rest), codec)

    def member(self, rel: str, stream: BinaryIO) -> None:
        """One file of an archive or folder, written as a file part (pages for a PDF); a
        binary, nested-archive, unreadable or empty-of-text member is only listed as skipped."""
        what = f"member {rel}"
        head = stream.read(SAMPLE_BYTES)
        rest = read_blocks(stream)
        fmt, _ = sniff(head)
        mark = self.writer.mark()
        try:
            if fmt in COMPRESSED:  # a log.gz inside a tar: read as the text it holds
                inner = decompressed(fmt, _Prefixed(head, stream))  # type: ignore[arg-type]
                head, rest = inner.read(SAMPLE_BYTES), read_blocks(inner)
                fmt, _ = sniff(head)
            if fmt == "pdf":
                with _spooled(chain([head], rest)) as spool:
                    self.writer.add_pages(rel, pdf_pages(spool, what), in_folder=True)
                self.encodings.add("pdf")
            elif fmt == "text":
                self.writer.add_file(rel, self.text_blocks(head, rest, what))
            else:
                self.writer.skipped.append(rel)
        except ExpansionError:
            raise  # the bomb limit ends the whole archive, not just this member
        except ContextError:
            self.writer.rollback(mark)
            self.writer.skipped.append(rel)

    def encoding(self) -> str | None:
        return combined(self.encodings)


def _hidden(name: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in name.split("/") if part)


def _clean(name: str) -> str:
    return name.replace("\\", "/").lstrip("/").removeprefix("./")


def render_zip(path: Path, renderer: Renderer) -> int:
    """Members of a zip in name order; the number read."""
    with zipfile.ZipFile(path) as archive:
        infos = sorted(archive.infolist(), key=lambda info: _clean(info.filename))
        for info in infos:
            name = _clean(info.filename)
            mode = info.external_attr >> 16
            if info.is_dir() or not name or _hidden(name):
                continue
            if stat.S_ISLNK(mode):  # a link is never followed: no loops, no escapes
                renderer.writer.skipped.append(name)
                continue
            with archive.open(info) as member:
                renderer.member(name, member)  # type: ignore[arg-type]
    return len(renderer.writer.files)


def render_tar(stream: BinaryIO, renderer: Renderer) -> int:
    """Members of a tar in archive order, read as one stream (a .tar.gz is never seeked)."""
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        for info in archive:
            name = _clean(info.name)
            if info.isdir() or not name or _hidden(name):
                continue
            if not info.isreg():  # links, devices, fifos: never followed
                renderer.writer.skipped.append(name)
                continue
            member = archive.extractfile(info)
            if member is not None:
                renderer.member(name, member)  # type: ignore[arg-type]
    return len(renderer.writer.files)


def render_path(path: Path, fmt: Format, uri: str, source_key: str | None) -> PartsStore:
    """A file that is not plain UTF-8 (its format sniffed as ``fmt``) as a rendering."""
    what = f"context file {path}"
    limit = expansion_limit(path.stat().st_size) if fmt in (*COMPRESSED, "zip", "tar") else None
    compression = _COMPRESSIONS.get(fmt)
    with PartsWriter(what, limit) as writer, open(path, "rb") as raw:
        renderer = Renderer(writer)
        try:
            stream: BinaryIO = decompressed(fmt, raw) if compression else raw
            head = stream.read(SAMPLE_BYTES)
            if compression:
                fmt, found = sniff(head)
                if fmt not in ("text", "tar"):
                    raise ContextError(f"{what} holds {found}, compressed: not text")
            if fmt == "pdf":
                raw.seek(0)
                pages = writer.add_pages(path.name, pdf_pages(raw, what), in_folder=False)
                source = f"PDF, {pages:,} {'page' if pages == 1 else 'pages'}"
                return writer.finish("file", "file", source, "pdf", uri, source_key)
            if fmt in ("zip", "tar"):
                if fmt == "zip":
                    count = render_zip(path, renderer)
                else:
                    count = render_tar(_Prefixed(head, stream), renderer)
                if not count:
                    raise ContextError(
                        f"{what} is an archive with no text files "
                        f"({len(writer.skipped):,} binary or unreadable members skipped)"
                    )
                label = f"tar.{compression[1]}" if compression and fmt == "tar" else fmt
                source = f"{label} archive, {count:,} text files"
                return writer.finish("dir", "archive", source, renderer.encoding(), uri, source_key)
            for block in renderer.text_blocks(head, read_blocks(stream), what):
                writer.write(block)
            encoding = renderer.encoding()
            source = f"text in {encoding}" + (
                f", {compression[0]}-compressed" if compression else ""
            )
            return writer.finish("file", "file", source, encoding, uri, source_key)
        except ContextError:
            raise
        except STREAM_ERRORS as exc:
            detail = " ".join(str(exc).split()) or type(exc).__name__
            kind = f"{compression[0]} stream" if compression else f"{fmt} file"
            raise ContextError(f"{what} is a damaged {kind}: {detail}") from None


class _Prefixed:
    """A stream whose first bytes were already read (to sniff them) and are put back."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._stream.read(size)
        if size < 0:
            data, self._head = self._head + self._stream.read(), b""
        else:
            data, self._head = self._head[:size], self._head[size:]
        return data
