"""Contexts as users have them, on text nobody here wrote, asked through the real CLI: a fact
planted at a random line of a real Latin-1 file, a UTF-16 rendering of a standard-library
module, a .tar.gz of a real source folder and a PDF built from Python's own help text. Each
answer must cite the file (and page) and the line where the fact was put."""

from __future__ import annotations

import io
import json
import random
import tarfile
from pathlib import Path

import pytest

from tests.unit.pdf_maker import make_pdf
from tests.unit.test_cli import ask, env, server  # noqa: F401 - fixtures

FACT = "The vault access code is 7391-ALPHA."
REAL_LATIN1 = Path("/usr/share/vim/vim90/keymap/accents.vim")


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


def _utf16(tmp_path: Path) -> tuple[Path, dict]:
    import textwrap

    source = Path(textwrap.__file__).read_text(encoding="utf-8")
    lines, line = _plant(source.splitlines(), seed=2)
    path = tmp_path / "textwrap-utf16.py"
    path.write_bytes("\n".join(lines).encode("utf-16"))  # with its byte-order mark
    return path, {"line": line}


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


def _pdf(tmp_path: Path) -> tuple[Path, dict]:
    from pydoc_data.topics import topics

    words = [
        line.encode("latin-1", "replace").decode("latin-1")[:90]
        for line in topics["assert"].splitlines() + topics["pass"].splitlines()
        if line.strip()
    ]
    pages = [words[i : i + 30] for i in range(0, 120, 30) if words[i : i + 30]]
    page = random.Random(4).randrange(len(pages))
    pages[page], line = _plant(pages[page], seed=4)
    path = tmp_path / "topics.pdf"
    path.write_bytes(make_pdf(["\n".join(p) for p in pages]))
    return path, {"file": "topics.pdf", "page": page + 1, "line": line}


@pytest.mark.parametrize("make", [_latin1, _utf16, _tar_gz, _pdf], ids=lambda f: f.__name__[1:])
def test_a_real_file_answers_through_the_cli_with_its_line_cited(server, env, tmp_path, make):  # noqa: F811
    path, where = make(tmp_path)
    proc = ask(server, str(path), "--json", "--db", str(tmp_path / "runs.sqlite"), env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["answer"] == "7391-ALPHA" and out["grounded"], out
    citation = out["citations"][0]
    assert {key: citation.get(key) for key in where} == where
    assert FACT in citation["quote"]
