"""A REPL session's state as bytes, with the context cut out.

A sandbox dump holds every live value, the context included: a 40 MB context would make every
checkpoint 40 MB. The host always has the context (it lives in a ContextStore), so the dump is
stored with each occurrence of the context's text replaced by a reference, and the text is put
back on restore. The cut is exact byte surgery, independent of the dump's format: a literal
run of bytes equal to the text is replaced by a reference to that same text, so putting it back
gives the original bytes, checked by their sha256. Text the code derived from the context (a
list of its lines, say) is the code's own data and stays in the dump.
"""

from __future__ import annotations

import hashlib
import json
import struct
from typing import Literal

from pydantic import BaseModel, field_validator

from rlm_graph.repl.models import ContextValue, PendingCall, SandboxLimits
from rlm_graph.secrets import redact

_MAGIC = b"RLMREPL1"
_HEADER_LEN = struct.Struct(">I")

# Shorter texts are left in place: cutting them saves little and a short text is more likely to
# occur by chance (harmless for correctness, since the bytes are identical, but pointless).
MIN_ELIDED_BYTES = 4096


class SandboxStateError(ValueError):
    """State bytes cannot be restored: not ours, damaged, or saved with another context."""


class PausedCell(BaseModel):
    """Host-side facts about a cell paused at a sub-call, kept beside the sandbox's dump."""

    call_id: int
    """The sandbox's id of the suspended call (one call; a batch is one call with many items)."""

    function: str
    batched: bool
    pending: list[PendingCall]
    output: str = ""
    output_cut_chars: int = 0
    output_lines: int = 0
    final: str | None = None  # the answer the cell's code gave FINAL(...) before it paused

    @field_validator("output", "final")
    @classmethod
    def _no_secrets(cls, text: str | None) -> str | None:
        # The output so far of a paused cell is stored in the checkpoint with the dump.
        return None if text is None else redact(text) or ""


Segment = tuple[Literal["b", "ctx"], str | int]
"""("b", n): the next n bytes of the body; ("ctx", key): the context text under key."""


class _Header(BaseModel):
    runtime: str
    kind: Literal["idle", "paused"]
    cell: int
    limits: SandboxLimits
    paused: PausedCell | None = None
    dump: list[Segment]
    dump_sha256: str
    rollback: list[Segment] | None = None
    rollback_sha256: str | None = None


class SessionState(BaseModel):
    """Everything needed to rebuild a session: the sandbox's raw dumps plus host-side facts."""

    runtime: str
    kind: Literal["idle", "paused"]
    cell: int
    """Cells started so far; the paused one included."""

    limits: SandboxLimits
    dump: bytes
    """The sandbox's own dump: the idle session, or the session paused mid-cell."""

    rollback: bytes | None = None
    """For a paused cell, the idle session before the cell started: what a limit hit after a
    restore goes back to."""

    paused: PausedCell | None = None

    def to_bytes(self, context: ContextValue) -> bytes:
        """Serialise with every occurrence of the context's text replaced by a reference."""
        blobs = _context_blobs(context)
        body: list[bytes] = []
        rollback = None if self.rollback is None else _encode(self.rollback, blobs, body)
        header = _Header(
            runtime=self.runtime,
            kind=self.kind,
            cell=self.cell,
            limits=self.limits,
            paused=self.paused,
            dump=_encode(self.dump, blobs, body),
            dump_sha256=_sha256(self.dump),
            rollback=rollback,
            rollback_sha256=None if self.rollback is None else _sha256(self.rollback),
        )
        head = header.model_dump_json().encode()
        return b"".join([_MAGIC, _HEADER_LEN.pack(len(head)), head, *body])

    @classmethod
    def from_bytes(cls, data: bytes, context: ContextValue) -> SessionState:
        """Rebuild the raw dumps, putting the context's text back where it was cut out."""
        if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + _HEADER_LEN.size:
            raise SandboxStateError("not a REPL session state")
        start = len(_MAGIC) + _HEADER_LEN.size
        (head_len,) = _HEADER_LEN.unpack_from(data, len(_MAGIC))
        try:
            header = _Header.model_validate(json.loads(data[start : start + head_len]))
        except ValueError as exc:
            raise SandboxStateError(f"damaged REPL session state header: {exc}") from exc
        blobs = _context_blobs(context)
        body = memoryview(data)[start + head_len :]
        # The rollback dump's literal bytes come first in the body, as written by to_bytes.
        rollback, used = (None, 0)
        if header.rollback is not None:
            rollback, used = _decode(header.rollback, blobs, body, header.rollback_sha256)
        dump, _ = _decode(header.dump, blobs, body[used:], header.dump_sha256)
        return cls(
            runtime=header.runtime,
            kind=header.kind,
            cell=header.cell,
            limits=header.limits,
            dump=dump,
            rollback=rollback,
            paused=header.paused,
        )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _encode(dump: bytes, blobs: dict[str, bytes], body: list[bytes]) -> list[Segment]:
    """Segments describing ``dump``; its literal runs are appended to ``body``."""
    segments: list[Segment] = []
    for part in _split(dump, blobs):
        if isinstance(part, bytes):
            segments.append(("b", len(part)))
            body.append(part)
        else:
            segments.append(("ctx", part))
    return segments


def _decode(
    segments: list[Segment], blobs: dict[str, bytes], body: memoryview, sha256: str | None
) -> tuple[bytes, int]:
    """The dump the segments describe, and how many body bytes it used."""
    parts: list[bytes] = []
    pos = 0
    for tag, value in segments:
        if tag == "b":
            parts.append(bytes(body[pos : pos + int(value)]))
            pos += int(value)
        elif str(value) in blobs:
            parts.append(blobs[str(value)])
        else:
            raise SandboxStateError(f"the context has no file {value!r} this state refers to")
    dump = b"".join(parts)
    if _sha256(dump) != sha256:
        raise SandboxStateError(
            "the REPL state does not match this context: it was saved with another context"
        )
    return dump, pos


def _context_blobs(context: ContextValue) -> dict[str, bytes]:
    """The texts worth cutting, by key: "" for a text context, the file name for a folder."""
    texts = {"": context} if isinstance(context, str) else dict(context)
    blobs = {key: text.encode("utf-8") for key, text in texts.items()}
    return {key: blob for key, blob in blobs.items() if len(blob) >= MIN_ELIDED_BYTES}


def _split(dump: bytes, blobs: dict[str, bytes]) -> list[bytes | str]:
    """The dump as literal byte runs and context keys, longest texts cut first."""
    parts: list[bytes | str] = [dump]
    for key, blob in sorted(blobs.items(), key=lambda kv: -len(kv[1])):
        cut: list[bytes | str] = []
        for part in parts:
            if isinstance(part, str):
                cut.append(part)
                continue
            pieces = part.split(blob)
            for i, piece in enumerate(pieces):
                if i:
                    cut.append(key)
                if piece:
                    cut.append(piece)
        parts = cut
    return parts
