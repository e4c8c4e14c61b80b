"""Which text encoding a byte stream is in, and decoding it to UTF-8 as a stream.

Byte-order marks decide first (UTF-8, UTF-16, UTF-32); valid UTF-8 is UTF-8; anything else is
asked of ``charset-normalizer``. The context's byte space is always UTF-8, so offsets, lines
and citations are counted in the decoded text.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator

from rlm_graph.context.utf8 import looks_binary

# The detector reads this much; a bigger sample is slower and rarely changes its mind.
SAMPLE_BYTES = 64 << 10
DECODE_BLOCK = 1 << 20
_BOMS = (  # longest first: a UTF-32-LE BOM starts like a UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Short legacy samples are ambiguous: charset-normalizer may call French in Latin-1 "cp1257".
# Western European text is by far the most common legacy 8-bit text, so cp1252 wins when it
# reads the sample about as cleanly as the detector's first choice.
_WESTERN = ("latin_1", "cp1252", "iso8859_15")
_WESTERN_SLACK = 0.1
NO_ENCODING = "no text encoding fits it: not UTF-8, UTF-16/32 or legacy 8-bit"
MIN_WIDE_CHARS = 8
_SHOWN = {"utf-8-sig": "utf-8 (BOM)", "iso8859-1": "latin-1"}


def detect_encoding(sample: bytes) -> str | None:
    """The Python codec name for a text whose first bytes are ``sample``; None when no text
    encoding fits (a binary: say ``NO_ENCODING``)."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    if not looks_binary(sample):
        return "utf-8"
    from charset_normalizer import from_bytes  # a few ms to import: only for legacy text

    best = from_bytes(sample).best()
    if best is None or (b"\x00" in sample and not _wide_text(sample, best.encoding)):
        return None
    if best.encoding not in _WESTERN:
        western = from_bytes(sample, cp_isolation=["cp1252"]).best()
        if western is not None and western.chaos <= best.chaos + _WESTERN_SLACK:
            return "cp1252"
    return best.encoding


def _wide_text(sample: bytes, codec: str) -> bool:
    """NUL bytes occur in text only in UTF-16/32, and then the text is mostly printable; a few
    bytes with a NUL (``00 01``) are a binary, whatever the detector says."""
    if not codec.startswith(("utf_16", "utf_32")):
        return False
    text = sample.decode(codec, errors="replace")
    printable = sum(ch.isprintable() or ch.isspace() for ch in text)
    return len(text) >= MIN_WIDE_CHARS and printable >= 0.95 * len(text)


def display_name(codec: str) -> str:
    """How an encoding is shown to people: ``utf-16``, ``utf-8 (BOM)``, ``cp1252``."""
    name = codecs.lookup(codec).name
    return _SHOWN.get(name, name.replace("_", "-"))


def combined(encodings: Iterable[str]) -> str | None:
    """How the encoding of many files is shown: the one they share, or ``mixed (cp1252, pdf,
    utf-8)``; None for no files."""
    names = sorted(set(encodings))
    if len(names) <= 1:
        return names[0] if names else None
    return f"mixed ({', '.join(names)})"


def decode_stream(blocks: Iterable[bytes], codec: str) -> Iterator[bytes]:
    """UTF-8 blocks of a stream in ``codec``; a BOM is dropped, bad bytes become U+FFFD."""
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    for block in blocks:
        text = decoder.decode(block)
        if text:
            yield text.encode("utf-8", errors="replace")  # lone surrogates cannot be UTF-8
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail.encode("utf-8", errors="replace")


def read_blocks(stream, size: int = DECODE_BLOCK) -> Iterator[bytes]:  # noqa: ANN001 - any binary file
    """A binary stream's bytes in blocks of at most ``size``."""
    while block := stream.read(size):
        yield block
