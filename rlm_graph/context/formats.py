"""What a file is, from its first bytes: text, a compressed stream, an archive, a PDF, or a
binary format we can only name in an error message."""

from __future__ import annotations

from typing import Literal

Format = Literal["text", "gzip", "bz2", "xz", "zstd", "zip", "tar", "pdf", "binary"]
COMPRESSED: tuple[Format, ...] = ("gzip", "bz2", "xz", "zstd")

# Magic numbers of what we read, then of common binaries, named only so that a refusal says
# what was found ("looks like a PNG image"), never "binary" alone.
_MAGIC: tuple[tuple[bytes, Format, str], ...] = (
    (b"\x1f\x8b", "gzip", "gzip-compressed data"),
    (b"BZh", "bz2", "bzip2-compressed data"),
    (b"\xfd7zXZ\x00", "xz", "xz-compressed data"),
    (b"\x28\xb5\x2f\xfd", "zstd", "zstd-compressed data"),
    (b"PK\x03\x04", "zip", "a zip archive"),
    (b"PK\x05\x06", "zip", "an empty zip archive"),
    (b"%PDF-", "pdf", "a PDF document"),
    (b"\x7fELF", "binary", "an ELF executable"),
    (b"\x89PNG", "binary", "a PNG image"),
    (b"\xff\xd8\xff", "binary", "a JPEG image"),
    (b"GIF8", "binary", "a GIF image"),
    (b"SQLite format 3\x00", "binary", "an SQLite database"),
    (b"7z\xbc\xaf\x27\x1c", "binary", "a 7-Zip archive (not supported: use zip or tar)"),
    (b"Rar!", "binary", "a RAR archive (not supported: use zip or tar)"),
    (b"\xd0\xcf\x11\xe0", "binary", "an old Microsoft Office document (not supported)"),
    (b"\x00asm", "binary", "a WebAssembly module"),
)
_TAR_MAGIC_AT = 257  # "ustar" in a POSIX tar header


def sniff(head: bytes) -> tuple[Format, str]:
    """The format of a file that starts with ``head``, and its name for messages."""
    for magic, fmt, name in _MAGIC:
        if head.startswith(magic):
            return fmt, name
    if head[_TAR_MAGIC_AT : _TAR_MAGIC_AT + 5] == b"ustar":
        return "tar", "a tar archive"
    return "text", "text"
