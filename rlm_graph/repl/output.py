"""What a cell prints, kept up to a cap: the head is shown, the rest is only counted."""

from __future__ import annotations


class OutputBuffer:
    """A print sink that keeps the first ``limit`` characters and counts what it drops.

    Counting instead of failing matters: monty's own collectors end the cell with a
    MemoryError past their cap, which would turn a chatty but correct cell into an error.
    """

    def __init__(self, limit: int, *, text: str = "", cut: int = 0) -> None:
        self.limit = limit
        self._parts: list[str] = [text] if text else []
        self._kept = len(text)
        self.cut = cut

    def write(self, _stream: str, text: str) -> None:
        room = self.limit - self._kept
        if room > 0:
            head = text[:room]
            self._parts.append(head)
            self._kept += len(head)
            self.cut += len(text) - len(head)
        else:
            self.cut += len(text)

    @property
    def text(self) -> str:
        return "".join(self._parts)
