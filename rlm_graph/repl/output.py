"""What a cell prints, kept up to a cap: the head is shown, the rest is only counted (its
characters, and the lines of the whole output)."""

from __future__ import annotations


class OutputBuffer:
    """A print sink that keeps the first ``limit`` characters and counts what it drops.

    Counting instead of failing matters: monty's own collectors end the cell with a
    MemoryError past their cap, which would turn a chatty but correct cell into an error.
    """

    def __init__(
        self, limit: int, *, text: str = "", cut: int = 0, lines: int | None = None
    ) -> None:
        self.limit = limit
        self._parts: list[str] = [text] if text else []
        self._kept = len(text)
        self.cut = cut
        self._open_line = bool(text) and not text.endswith("\n")
        self.lines = text.count("\n") + self._open_line if lines is None else lines

    def write(self, _stream: str, text: str) -> None:
        if text:
            # A line is counted when it starts: print("a", end="") then print("b") is one.
            self.lines += text.count("\n") + (not self._open_line) - text.endswith("\n")
            self._open_line = not text.endswith("\n")
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

    def fields(self) -> dict[str, str | int]:
        """The output as a cell's outcome holds it."""
        return {"output": self.text, "output_cut_chars": self.cut, "output_lines": self.lines}
