"""A bounded-memory line index: newline counts per 1 MiB block of a byte space.

Building it is one sequential pass that holds a single block at a time, so ``lines:A-B`` on a
1 GB memory-mapped file costs one counting pass (cached) plus a scan inside one block.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

from rlm_graph.context.utf8 import ByteReader

BLOCK_BYTES = 1 << 20


class LineIndex:
    """Newline positions of a byte space, answered from per-block counts."""

    def __init__(
        self,
        read: ByteReader,
        size: int,
        release: Callable[[int, int], None] | None = None,
        block: int = BLOCK_BYTES,
    ) -> None:
        self._read = read
        self._size = size
        self._block = block
        # _cum[j] = number of newlines before block j; the last entry is the total.
        cum = [0]
        for start in range(0, size, block):
            end = min(start + block, size)
            cum.append(cum[-1] + read(start, end).count(b"\n"))
            if release is not None:
                release(start, end)  # one pass over a huge file leaves it non-resident
        self._cum = cum

    @property
    def total(self) -> int:
        """Newlines in the whole byte space."""
        return self._cum[-1]

    def newlines_before(self, pos: int) -> int:
        """Number of newlines in ``[0, pos)``; reads at most one block."""
        pos = max(0, min(pos, self._size))
        j = pos // self._block
        if j >= len(self._cum) - 1:
            return self.total
        block_start = j * self._block
        return self._cum[j] + self._read(block_start, pos).count(b"\n")

    def newlines_between(self, start: int, end: int) -> int:
        """Number of newlines in ``[start, end)``; short spans are counted directly."""
        if end <= start:
            return 0
        if end - start <= self._block:
            return self._read(start, end).count(b"\n")
        return self.newlines_before(end) - self.newlines_before(start)

    def nth_newline(self, k: int) -> int | None:
        """Absolute position of the newline with 0-based index ``k``, or None if there is none."""
        if k < 0 or k >= self.total:
            return None
        j = bisect_right(self._cum, k) - 1  # the block holding newline k
        block_start = j * self._block
        data = self._read(block_start, min(block_start + self._block, self._size))
        want = k - self._cum[j] + 1  # the want-th newline inside this block
        # Binary search on prefix counts: C-speed counting instead of a Python loop per newline.
        lo, hi = 0, len(data) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if data.count(b"\n", 0, mid + 1) >= want:
                hi = mid
            else:
                lo = mid + 1
        return block_start + lo
