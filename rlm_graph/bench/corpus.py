"""The text samples are cut from: a file, a folder, or (by default) Python's own help topics.

The default needs no download and no hand-written filler: ``pydoc_data.topics`` ships with every
CPython and holds the prose of ``help("TOPIC")`` (a few hundred KB of real documentation).

Slices are cut at a seeded random offset, at line (preferably paragraph) boundaries. A corpus
shorter than a requested slice is *cycled*: it repeats from its beginning after a marker line
(``REPEAT_MARKER``), and the slice says how many times it wrapped (``repeats``), so a result on
repeated text is never mistaken for one on fresh text.

A corpus also knows its natural parts (``sections``): each help topic of the default corpus,
each file of a folder; ``per-part`` samples are made of them (a single file has none here:
``parts.py`` splits it on its headings or paragraphs).
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

from pydantic import BaseModel, Field

from rlm_graph.bench.options import BenchInputError
from rlm_graph.tokens import CHARS_PER_TOKEN, estimate_tokens

DEFAULT_CORPUS_NAME = "pydoc_data.topics"
REPEAT_MARKER = "\n\n----- (the corpus repeats from its beginning) -----\n\n"
_SNIFF_BYTES = 8192
# How far a cut may move to reach a paragraph (then a line) boundary.
_PARAGRAPH_REACH = 2000
_LINE_REACH = 400

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_PLAIN_SENTENCE = re.compile(r"^[A-Z][^|\n]{38,298}[.!?]$")
_UNDERLINE = re.compile(r"^\s*([*=~^\-#+])\1+\s*$")


class Section(BaseModel):
    """One natural part of a corpus: a help topic or a file, as a span of ``Corpus.text``."""

    title: str  # the topic name, or the file's path relative to the folder
    start: int  # str indices into Corpus.text
    end: int


class Corpus(BaseModel):
    """Loaded corpus text, with where it came from."""

    name: str
    text: str = Field(repr=False)
    files: int = 1
    skipped: int = 0  # binary or undecodable files left out of a folder
    sections: list[Section] = Field(default_factory=list, repr=False)

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.text)

    def describe(self) -> str:
        files = f", {self.files:,} files" if self.files > 1 else ""
        skipped = f", {self.skipped:,} binary files skipped" if self.skipped else ""
        return f"{self.name} ({len(self.text):,} chars, ~{self.tokens:,} tokens{files}{skipped})"


class TextSlice(BaseModel):
    text: str = Field(repr=False)
    offset: int  # byte offset in the corpus where the slice starts
    repeats: int = 0  # how many times the slice wrapped around the end of the corpus


def _decode_text(data: bytes) -> str | None:
    """The text of a file, or None when it is binary or not UTF-8."""
    if b"\x00" in data[:_SNIFF_BYTES]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def default_corpus() -> Corpus:
    """The help topics that ship with Python, sorted by topic name."""
    from pydoc_data.topics import topics

    text, sections = _joined([(name, topics[name].strip()) for name in sorted(topics)])
    return Corpus(name=DEFAULT_CORPUS_NAME, text=text, files=len(topics), sections=sections)


def _joined(pieces: list[tuple[str, str]]) -> tuple[str, list[Section]]:
    """The pieces joined by a blank line (and a final newline), with where each one is."""
    sections: list[Section] = []
    cursor = 0
    for title, piece in pieces:
        sections.append(Section(title=title, start=cursor, end=cursor + len(piece)))
        cursor += len(piece) + 2
    return "\n\n".join(piece for _, piece in pieces) + "\n", sections


def _folder_files(root: Path) -> list[Path]:
    """Non-hidden regular files under ``root``, sorted by path (hidden dirs such as .git are
    not entered)."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [Path(dirpath) / n for n in filenames if not n.startswith(".")]
    return sorted((p for p in found if p.is_file()), key=lambda p: p.relative_to(root).as_posix())


def load_corpus(path: str | os.PathLike[str] | None = None) -> Corpus:
    """A file, every UTF-8 text file of a folder (sorted by path, binaries skipped), or the
    default corpus when ``path`` is None. Unusable input raises ``BenchInputError``."""
    if path is None:
        return default_corpus()
    source = Path(path).expanduser()
    if source.is_dir():
        texts: list[tuple[str, str]] = []
        skipped = 0
        for file in _folder_files(source):
            try:
                text = _decode_text(file.read_bytes())
            except OSError:
                text = None
            if text is None:
                skipped += 1
            elif text.strip():
                texts.append((file.relative_to(source).as_posix(), text.strip("\n")))
        if not texts:
            raise BenchInputError(
                f"corpus folder has no text: {source} ({skipped:,} binary or unreadable files)"
            )
        joined, sections = _joined(texts)
        return Corpus(
            name=str(source), text=joined, files=len(texts), skipped=skipped, sections=sections
        )
    if not source.exists():
        raise BenchInputError(f"corpus not found: {source}")
    try:
        text = _decode_text(source.read_bytes())
    except OSError as exc:
        raise BenchInputError(f"cannot read corpus {source}: {exc.strerror or exc}") from None
    if text is None:
        raise BenchInputError(f"corpus file is not UTF-8 text: {source}")
    if not text.strip():
        raise BenchInputError(f"corpus has no text: {source} is empty")
    return Corpus(name=str(source), text=text)


def _snap_start(data: bytes, pos: int) -> int:
    """Move a start forward to the beginning of a paragraph, else of a line."""
    if pos == 0:
        return 0
    para = data.find(b"\n\n", pos, pos + _PARAGRAPH_REACH)
    if para >= 0:
        return para + 2
    line = data.find(b"\n", pos, pos + _PARAGRAPH_REACH)
    return line + 1 if line >= 0 else pos


def _snap_end(data: bytes, end: int, start: int) -> int:
    """Move an end back to just after a line break, if one is near."""
    if end >= len(data):
        return len(data)
    line = data.rfind(b"\n", max(start, end - _LINE_REACH), end)
    return line + 1 if line > start else end


def take_slice(corpus: Corpus, target_bytes: int, rng: random.Random) -> TextSlice:
    """About ``target_bytes`` of the corpus from a seeded random offset (``target_bytes`` is
    ``tokens * CHARS_PER_TOKEN``: the one token estimate). Cycles a corpus that is too short."""
    data = corpus.text.encode("utf-8")
    target_bytes = max(1, target_bytes)
    if len(data) >= target_bytes:
        start = _snap_start(data, rng.randrange(0, len(data) - target_bytes + 1))
        end = _snap_end(data, min(len(data), start + target_bytes), start)
        # decode(errors="ignore"): a fallback cut (no line break near) may split a character.
        return TextSlice(text=data[start:end].decode("utf-8", errors="ignore"), offset=start)
    start = _snap_start(data, rng.randrange(0, len(data)))
    if start >= len(data):
        start = 0
    marker = REPEAT_MARKER.encode()
    parts = [data[start:]]
    size, repeats = len(parts[0]), 0
    while size < target_bytes:
        parts += [marker, data]
        size += len(marker) + len(data)
        repeats += 1
    joined = b"".join(parts)
    end = _snap_end(joined, target_bytes, 0)
    return TextSlice(
        text=joined[:end].decode("utf-8", errors="ignore"), offset=start, repeats=repeats
    )


def tokens_to_bytes(tokens: int) -> int:
    return int(tokens * CHARS_PER_TOKEN)


def sentences(corpus: Corpus) -> list[str]:
    """Prose sentences of the corpus (whole, 40-300 chars, starting with a capital), for record
    texts; lines of it when it has no such prose (a code base). Never contains ``|``."""
    found: list[str] = []
    for paragraph in re.split(r"\n\s*\n", corpus.text):
        lines = paragraph.split("\n")
        # Indented blocks are code or grammar, underlines are headings: not prose.
        if any(line[:1].isspace() for line in lines if line.strip()):
            continue
        lines = [line for line in lines if not _UNDERLINE.match(line)]
        flat = " ".join(" ".join(lines).split())
        found += [s for s in _SENTENCE_END.split(flat) if _PLAIN_SENTENCE.match(s)]
    if found:
        return [s for s in found if "label:" not in s.lower()]
    lines = (" ".join(line.split()) for line in corpus.text.splitlines())
    return [
        line
        for line in lines
        if 20 <= len(line) <= 300 and "|" not in line and "label:" not in line.lower()
    ]
