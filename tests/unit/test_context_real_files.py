"""Contexts as users have them, on text nobody here wrote, asked through the real CLI: a fact
planted at a random line of a real Latin-1 file, a UTF-16 rendering of a standard-library
module, a .tar.gz of a real source folder, a PDF built from Python's own help text and a PDF
that a Debian package ships with one page added. Each answer must cite the file (and page) and
the line where the fact was put, and the start line must name the encoding chosen. Bad input
given to the real CLI fails at once, in one line that says what was found."""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import tarfile
import time
from pathlib import Path

import pytest

from tests.unit.pdf_maker import make_pdf
from tests.unit.test_cli import ask, env, run_cli, server  # noqa: F401 - fixtures

FACT = "The vault access code is 7391-ALPHA."
REAL_LATIN1 = Path("/usr/share/vim/vim90/keymap/accents.vim")
REAL_PDF = Path("/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf")


def _plant(lines: list[str], seed: int) -> tuple[list[str], int]:
    """``lines`` with FACT as a line of its own at a random place; its 1-based line number."""
    at = random.Random(seed).randrange(1, len(lines))
    return lines[:at] + [FACT] + lines[at:], at + 1


def _latin1(tmp_path: Path) -> tuple[Path, dict]:
    if not REAL_LATIN1.exists():
        pytest.skip(f"{REAL_LATIN1} is not on this machine")
    lines, line = _plant(REAL_LATIN1.read_bytes().decode("latin-1").splitlines(), seed=1)
    path = tmp_path / "accents.vim"
    path.write_bytes("\n".join(lines).encode("latin-1"))
    assert any(ord(c) > 127 for c in "".join(lines))  # accents, not plain ASCII
    return path, {"line": line}  # one file: citations name the line


_latin1.encoding = "latin-1"  # type: ignore[attr-defined]


def _utf16(tmp_path: Path) -> tuple[Path, dict]:
    import textwrap

    source = Path(textwrap.__file__).read_text(encoding="utf-8")
    lines, line = _plant(source.splitlines(), seed=2)
    path = tmp_path / "textwrap-utf16.py"
    path.write_bytes("\n".join(lines).encode("utf-16"))  # with its byte-order mark
    return path, {"line": line}


_utf16.encoding = "utf-16"  # type: ignore[attr-defined]


def _tar_gz(tmp_path: Path) -> tuple[Path, dict]:
    import json as json_package

    folder = Path(json_package.__file__).parent
    members = sorted(p for p in folder.glob("*.py"))
    target = members[random.Random(3).randrange(len(members))]
    lines, line = _plant(target.read_text(encoding="utf-8").splitlines(), seed=3)
    path = tmp_path / "json-src.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for member in members:
            text = "\n".join(lines) if member == target else member.read_text(encoding="utf-8")
            data = text.encode("utf-8")
            info = tarfile.TarInfo(f"json/{member.name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path, {"file": f"json/{target.name}", "line": line}


_tar_gz.encoding = "utf-8"  # type: ignore[attr-defined]


def _pdf(tmp_path: Path) -> tuple[Path, dict]:
    from pydoc_data.topics import topics

    words = [
        line.encode("latin-1", "replace").decode("latin-1")[:90]
        for topic in ("assert", "pass", "del", "return", "raise", "break")
        for line in topics[topic].splitlines()
        if line.strip()
    ]
    pages = [words[i : i + 30] for i in range(0, 120, 30) if words[i : i + 30]]
    assert len(pages) == 4  # a page number in the citation means something
    page = random.Random(4).randrange(len(pages))
    pages[page], line = _plant(pages[page], seed=4)
    path = tmp_path / "topics.pdf"
    path.write_bytes(make_pdf(["\n".join(p) for p in pages]))
    return path, {"file": "topics.pdf", "page": page + 1, "line": line}


_pdf.encoding = "pdf"  # type: ignore[attr-defined]


def _debian_pdf(tmp_path: Path) -> tuple[Path, dict]:
    """shared-mime-info's spec, with a page holding the fact put in at a random place (pypdf)."""
    if not REAL_PDF.exists():
        pytest.skip(f"{REAL_PDF} is not on this machine")
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(REAL_PDF))
    at = random.Random(5).randrange(1, len(writer.pages))
    lines, line = _plant(["Appendix", "Notes kept with the specification.", "End."], seed=5)
    page = PdfReader(io.BytesIO(make_pdf(["\n".join(lines)]))).pages[0]
    writer.insert_page(page, at)
    path = tmp_path / "shared-mime-info-spec.pdf"
    with open(path, "wb") as out:
        writer.write(out)
    return path, {"file": path.name, "page": at + 1, "line": line}


_debian_pdf.encoding = "pdf"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "make", [_latin1, _utf16, _tar_gz, _pdf, _debian_pdf], ids=lambda f: f.__name__[1:]
)
def test_a_real_file_answers_through_the_cli_with_its_line_cited(server, env, tmp_path, make):  # noqa: F811
    path, where = make(tmp_path)
    db = str(tmp_path / "runs.sqlite")
    proc = ask(server, str(path), "--json", "--db", db, "--thread", "real", env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["answer"] == "7391-ALPHA" and out["grounded"], out
    citation = out["citations"][0]
    assert {key: citation.get(key) for key in where} == where
    assert FACT in citation["quote"]
    assert f"encoding {make.encoding} |" in proc.stderr  # the start line names the encoding
    show = run_cli("show", "real", "--db", db, env=env)
    assert show.returncode == 0 and f"encoding {make.encoding}," in show.stdout, show.stdout


def test_the_summary_line_names_the_page(server, env, tmp_path):  # noqa: F811
    path, where = _pdf(tmp_path)
    proc = ask(server, str(path), "--db", str(tmp_path / "runs.sqlite"), env=env)
    assert proc.returncode == 0, proc.stderr
    assert f" topics.pdf page {where['page']} line {where['line']})" in proc.stderr


def _fifo(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "pipe"
    os.mkfifo(path)  # nobody ever writes to it: opening it to read would wait forever
    return path, "is a named pipe, not a file"


def _truncated_pdf(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "manual.pdf"
    path.write_bytes(make_pdf(["Chapter 1", "Chapter 2", "Chapter 3"])[:400])
    return path, "is not a readable PDF (damaged or truncated?)"


def _corrupt_gz(tmp_path: Path) -> tuple[Path, str]:
    data = bytearray(gzip.compress(b"2024-03-01 10:00:00 INFO worker started\n" * 500))
    data[40:60] = b"\xff" * 20
    path = tmp_path / "app.log.gz"
    path.write_bytes(bytes(data))
    return path, "is a damaged gzip stream"


def _symlink_loop_tar(tmp_path: Path) -> tuple[Path, str]:
    """Only links, one a loop: nothing to read, and nothing followed."""
    path = tmp_path / "loop.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name, target in (("a", "b"), ("b", "a"), ("self", "self")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            archive.addfile(info)
    return path, "is an archive with no text files (3 binary or unreadable members skipped)"


def _binary(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    return path, "looks binary (a PNG image)"


@pytest.mark.parametrize(
    "make",
    [_fifo, _truncated_pdf, _corrupt_gz, _symlink_loop_tar, _binary],
    ids=lambda f: f.__name__[1:],
)
def test_bad_input_fails_through_the_cli_in_one_line(server, env, tmp_path, make):  # noqa: F811
    path, message = make(tmp_path)
    started = time.monotonic()
    proc = ask(server, str(path), "--db", str(tmp_path / "runs.sqlite"), env=env)
    assert time.monotonic() - started < 60  # run_cli's own timeout would fail the test first
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
