"""Text in any common encoding: BOMs, legacy 8-bit text, binaries refused with what was found."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from rlm_graph.context import ContextRegistry, open_context
from rlm_graph.errors import ContextError
from rlm_graph.evidence import locate
from rlm_graph.testing import ScriptedChatModel, is_leaf_prompt, leaf_text
from tests.unit.conftest import make_rlm

FRENCH = (
    "Le château de la forêt était très élevé.\n"
    "Où est-ce que ça se trouve ? Déjà vu, garçon, naïve.\n"
    "Le code du coffre est 7391-ALPHA, écrit à la main.\n"
)
# A Latin-1 text nobody here wrote: vim's keymap of French accents, shipped by Debian.
REAL_LATIN1 = Path("/usr/share/vim/vim90/keymap/accents.vim")


@pytest.mark.parametrize(
    ("codec", "bom", "shown"),
    [
        ("utf-8", codecs.BOM_UTF8, "utf-8 (BOM)"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16"),
        ("utf-32-le", codecs.BOM_UTF32_LE, "utf-32"),
        ("utf-32-be", codecs.BOM_UTF32_BE, "utf-32"),
    ],
)
def test_a_bom_decides_the_encoding_and_offsets_count_in_utf8(
    tmp_path: Path, codec: str, bom: bytes, shown: str
) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(bom + FRENCH.encode(codec))
    view = open_context(path)
    assert view.text() == FRENCH  # the BOM is gone, every accent is back
    assert view.store.encoding == shown and view.ref.encoding == shown
    assert shown in view.describe()
    found = locate(view, "Le code du coffre est 7391-ALPHA")
    assert found.verified and found.line == 3
    assert view.text(found.start, found.end) == "Le code du coffre est 7391-ALPHA"
    assert view.line_count() == 3


def test_plain_utf8_is_still_mapped_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text(FRENCH, encoding="utf-8")
    view = open_context(path)
    assert type(view.store).__name__ == "FileStore" and view.store.encoding == "utf-8"
    assert view.store.store_id == view.ref.store_id and view.size == len(FRENCH.encode())


def test_latin1_french_is_read_as_western_text(tmp_path: Path) -> None:
    path = tmp_path / "lettre.txt"
    path.write_bytes(FRENCH.encode("latin-1"))
    view = open_context(path)
    assert view.text() == FRENCH
    assert view.store.encoding == "cp1252"


@pytest.mark.skipif(not REAL_LATIN1.exists(), reason="vim's keymaps are not installed")
def test_a_real_latin1_file_decodes_to_its_accents() -> None:
    view = open_context(REAL_LATIN1)
    assert view.store.encoding in ("cp1252", "latin-1", "iso8859-15")
    assert REAL_LATIN1.read_bytes().decode("latin-1") == view.text()
    assert "\ufffd" not in view.text() and "é" in view.text()


def test_utf16_without_bom_and_other_8bit_scripts(tmp_path: Path) -> None:
    nobom = tmp_path / "nobom.txt"
    nobom.write_bytes(("line one\nline two\n" * 20).encode("utf-16-le"))
    assert open_context(nobom).text() == "line one\nline two\n" * 20
    russian = "Привет мир, как дела? Это тест кодировки текста.\n" * 5
    koi8 = tmp_path / "ru.txt"
    koi8.write_bytes(russian.encode("koi8-r"))
    view = open_context(koi8)
    assert view.text() == russian and view.store.encoding == "koi8-r"


@pytest.mark.parametrize(
    ("content", "detected"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "a PNG image"),
        (b"\x7fELF\x02\x01\x01" + bytes(200), "an ELF executable"),
        (bytes(range(256)) * 8, "no text encoding fits"),
    ],
)
def test_binary_files_are_refused_in_one_line_that_says_what_was_found(
    tmp_path: Path, content: bytes, detected: str
) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(content)
    with pytest.raises(ContextError) as err:
        open_context(path)
    message = str(err.value)
    assert "looks binary" in message and detected in message and str(path) in message
    assert "\n" not in message


def test_bytes_in_a_legacy_encoding_are_decoded_too() -> None:
    view = open_context(("Noël à Montréal. " * 10).encode("cp1252"))
    assert view.text() == "Noël à Montréal. " * 10 and view.store.encoding == "cp1252"


async def test_a_utf16_file_answers_with_the_line_cited(tmp_path: Path) -> None:
    path = tmp_path / "journal.log"
    lines = [f"entry {i}: nothing to report" for i in range(1, 40)]
    lines[26] = "entry 27: The vault access code is 7391-ALPHA."
    path.write_bytes("\n".join(lines).encode("utf-16"))

    def respond(messages):
        assert is_leaf_prompt(messages)
        text = leaf_text(messages)
        quote = "The vault access code is 7391-ALPHA."
        return (
            f'{{"found": true, "answer": "7391-ALPHA", "quotes": ["{quote}"]}}' * (quote in text)
            or '{"found": false, "answer": ""}'
        )

    rlm = make_rlm(ScriptedChatModel(respond=respond))
    result = await rlm.ainvoke({"query": "What is the vault access code?", "context": path})
    assert result.answer == "7391-ALPHA" and result.grounded
    assert result.citations[0]["line"] == 27


def test_encoding_reaches_the_ref_and_a_registry_reopens_the_decoded_text(tmp_path) -> None:
    from rlm_graph.blobs import MemoryBlobStore

    path = tmp_path / "u16.txt"
    path.write_bytes(FRENCH.encode("utf-16"))
    blobs = MemoryBlobStore()
    view = open_context(path, ContextRegistry(blobs))
    ref = view.ref
    assert ref.encoding == "utf-16" and ref.kind == "file" and ref.uri == str(path)
    reopened = ContextRegistry(blobs).view(ref)
    assert reopened.text() == FRENCH and reopened.store.store_id == ref.store_id
