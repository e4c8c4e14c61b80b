"""Fixed-size overlapping chunks with edges snapped to line breaks.

Token counts are estimated as bytes / chars_per_token (``rlm_graph.tokens``), so every number here is
O(1) to compute, even for a 1 GB file. A chunk edge depends only on the bytes just before its
nominal position, so ``span(i)`` is cheap and deterministic without scanning earlier chunks.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rlm_graph.context.utf8 import ByteReader, snap_forward
from rlm_graph.errors import TargetError
from rlm_graph.tokens import CHARS_PER_TOKEN

_WHITESPACE = b" \t\r\f\v"


class Chunking(BaseModel):
    """How a context is cut into chunks the model can address as ``chunk:N``."""

    model_config = ConfigDict(frozen=True)  # hashable: views cache one layout per chunking

    chunk_tokens: int = Field(default=1000, gt=0)
    overlap_tokens: int = Field(default=100, ge=0)
    chars_per_token: float = Field(default=CHARS_PER_TOKEN, gt=0)

    @model_validator(mode="after")
    def _overlap_below_chunk(self) -> Chunking:
        if self.overlap_tokens >= self.chunk_tokens:
            raise ValueError(
                f"overlap_tokens ({self.overlap_tokens}) must be smaller than "
                f"chunk_tokens ({self.chunk_tokens})"
            )
        return self

    @property
    def chunk_bytes(self) -> int:
        return max(1, round(self.chunk_tokens * self.chars_per_token))

    @property
    def overlap_bytes(self) -> int:
        # Rounding must never make the stride zero.
        return min(round(self.overlap_tokens * self.chars_per_token), self.chunk_bytes - 1)

    @property
    def stride(self) -> int:
        return self.chunk_bytes - self.overlap_bytes

    def tokens(self, nbytes: int) -> int:
        """Estimated tokens for ``nbytes`` bytes."""
        return math.ceil(nbytes / self.chars_per_token)

    def count(self, size: int) -> int:
        """Number of chunks for a byte space of ``size`` bytes."""
        if size <= self.chunk_bytes:
            return 1
        return 1 + math.ceil((size - self.chunk_bytes) / self.stride)


class ChunkLayout:
    """Chunk spans over one byte space ``[0, size)`` read through ``read``."""

    def __init__(self, read: ByteReader, size: int, chunking: Chunking) -> None:
        self._read = read
        self.size = size
        self.chunking = chunking
        self.count = chunking.count(size)
        cb = chunking.chunk_bytes
        # Look back ~20% of a chunk for a line break, but never more than half a stride: that
        # keeps chunk starts strictly increasing. Every snap lands on a char boundary in
        # (p - window, p], and snapping is monotone in p, so consecutive chunks still overlap
        # (start[i+1] = snap((i+1)*stride) <= snap(i*stride + chunk_bytes) = end[i]).
        self._window = max(1, min(cb // 5, chunking.stride // 2))

    def _snap(self, pos: int) -> int:
        if pos <= 0:
            return 0
        if pos >= self.size:
            return self.size
        lo = max(0, pos - self._window)
        data = self._read(lo, pos)
        cut = data.rfind(b"\n")
        if cut < 0:
            cut = max(data.rfind(bytes([c])) for c in _WHITESPACE)
        if cut >= 0:
            return lo + cut + 1
        return snap_forward(self._read, pos, self.size)

    def _check(self, i: int) -> None:
        if not 0 <= i < self.count:
            raise TargetError(
                f"chunk:{i} is out of range: this context has {self.describe_range()}"
            )

    def describe_range(self) -> str:
        """E.g. ``13 chunks (chunk:0 to chunk:12)``; used in errors and descriptions."""
        if self.count == 1:
            return "1 chunk (chunk:0)"
        return f"{self.count:,} chunks (chunk:0 to chunk:{self.count - 1})"

    def span(self, i: int) -> tuple[int, int]:
        """``(start, end)`` of chunk ``i``; chunk 0 starts at 0 and the last ends at ``size``."""
        self._check(i)
        stride, cb = self.chunking.stride, self.chunking.chunk_bytes
        start = 0 if i == 0 else self._snap(i * stride)
        end = self.size if i == self.count - 1 else self._snap(i * stride + cb)
        return start, end

    def chunk_of(self, offset: int) -> int:
        """The first chunk containing ``offset`` (the last chunk for the end offset)."""
        offset = max(0, min(offset, self.size))
        if offset >= self.size:
            return self.count - 1
        stride, cb = self.chunking.stride, self.chunking.chunk_bytes
        # Chunks ending before offset - chunk_bytes cannot contain it; start a little earlier
        # to absorb snapping, then walk forward (starts are increasing).
        i = max(0, (offset - cb) // stride - 1)
        while i < self.count:
            start, end = self.span(i)
            if start > offset:
                break
            if offset < end:
                return i
            i += 1
        return self.count - 1  # unreachable when chunks cover the space; kept as a safe answer

    def chunks_for(self, start: int, end: int) -> tuple[int, int]:
        """First and last chunk a span ``[start, end)`` touches (by first-containing chunk)."""
        first = self.chunk_of(start)
        return first, max(first, self.chunk_of(max(start, end - 1)))
