"""PDFs read page by page: pages as sections, citations with file + page + line, scans and
damaged files refused in one line, extraction cached in the blob store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlm_graph.blobs import FileBlobStore
from rlm_graph.context import ContextRegistry, open_context
from rlm_graph.context import pdf as pdf_module
from rlm_graph.errors import ContextError
from rlm_graph.evidence import locate
from tests.unit.pdf_maker import make_pdf
from tests.unit.test_cli import ask, env, run_cli, server  # noqa: F401 - fixtures

MANUAL = [
    "Operating manual\nChapter 1: installation\nUnpack the unit and plug it in.",
    "Chapter 2: maintenance\nClean the filter every month.\nReplace the belt every year.",
    "Chapter 3: access\nThe vault access code is 7391-ALPHA.\nKeep it secret.",
]
# A PDF that a Debian package ships on this machine: text nobody here wrote.
REAL_PDF = Path("/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf")


@pytest.fixture
def manual(tmp_path: Path) -> Path:
    path = tmp_path / "manual.pdf"
    path.write_bytes(make_pdf(MANUAL))
    return path


def test_a_pdf_is_read_page_by_page(manual: Path) -> None:
    view = open_context(manual)
    assert view.kind == "file" and view.store.encoding == "pdf"
    assert [p.page for p in view.store.parts()] == [1, 2, 3]
    description = view.describe()
    assert "PDF, 3 pages" in description and "section:3  'page 3'" in description
    page3 = view.child("section:3").text()
    assert "The vault access code is 7391-ALPHA." in page3 and "filter" not in page3
    found = locate(view, "The vault access code is 7391-ALPHA.")
    assert (found.file, found.page, found.line) == ("manual.pdf", 3, 2)
    assert found.where() == "manual.pdf, page 3, line 2"
    start = found.start - view.start
    assert "page 3" in view.span_header("x", start, start + 5)


def test_a_scanned_pdf_gets_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf(["", "", ""], text_layer=False))
    with pytest.raises(ContextError) as err:
        open_context(path)
    message = str(err.value)
    assert "no text layer" in message and "3 pages" in message and "OCR" in message


def test_a_truncated_pdf_fails_in_one_line(manual: Path) -> None:
    broken = manual.with_name("broken.pdf")
    broken.write_bytes(manual.read_bytes()[:400])
    with pytest.raises(ContextError) as err:
        open_context(broken)
    message = str(err.value)
    assert "not a readable PDF" in message and "\n" not in message


def test_a_folder_with_pdfs_reads_their_pages(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("Shopping list: milk, eggs.\n")
    (tmp_path / "manual.pdf").write_bytes(make_pdf(MANUAL))
    view = open_context(tmp_path)
    assert [f.path for f in view.files()] == ["manual.pdf", "notes.txt"]
    assert view.store.encoding == "mixed (pdf, utf-8)"  # not "utf-8" alone
    assert "Clean the filter every month." in view.child("file:manual.pdf").text()
    found = locate(view, "The vault access code is 7391-ALPHA.")
    assert (found.file, found.page, found.line) == ("manual.pdf", 3, 2)
    assert locate(view, "Shopping list").file == "notes.txt"


def test_extracted_text_is_cached_by_content_hash(
    manual: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = FileBlobStore(tmp_path / "blobs")
    first = open_context(manual, ContextRegistry(blobs))
    calls = []
    real = pdf_module.pdf_pages
    monkeypatch.setattr(
        "rlm_graph.context.archives.pdf_pages", lambda *a: calls.append(a) or real(*a)
    )
    again = open_context(manual, ContextRegistry(blobs))
    resumed = ContextRegistry(blobs).view(first.ref)
    assert calls == []  # neither the follow-up nor the resume extracted the text again
    assert again.text() == first.text() == resumed.text()
    assert [p.page for p in resumed.store.parts()] == [1, 2, 3]
    assert (tmp_path / "blobs" / first.ref.store_id).is_file()


@pytest.mark.skipif(not REAL_PDF.exists(), reason="shared-mime-info's docs are not installed")
def test_a_real_pdf_from_a_debian_package() -> None:
    view = open_context(REAL_PDF)
    pages = view.store.parts()
    assert len(pages) > 3 and view.store.encoding == "pdf"
    found = locate(view, "Shared MIME-info Database")
    assert found.verified and found.page == 1 and found.file == REAL_PDF.name


def test_the_cli_cites_the_page_and_the_line(server, env, tmp_path: Path, manual: Path) -> None:  # noqa: F811
    db = tmp_path / "runs.sqlite"
    proc = ask(server, str(manual), "--json", "--db", str(db), "--thread", "pdf-1", env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["answer"] == "7391-ALPHA" and out["grounded"]
    citation = out["citations"][0]
    assert (citation["file"], citation["page"], citation["line"]) == ("manual.pdf", 3, 2)
    assert "PDF, 3 pages" in proc.stderr and "encoding pdf" in proc.stderr  # the start line
    show = run_cli("show", "pdf-1", "--db", str(db), env=env)
    assert show.returncode == 0, show.stderr
    assert f"context: {manual}" in show.stdout and "encoding pdf" in show.stdout


def test_a_follow_up_from_the_cli_reuses_the_extracted_text(
    server,  # noqa: F811
    tmp_path: Path,
    manual: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The CLI opens ``--context`` with the checkpoint database's blob store: a second turn
    on the same thread (``--context`` given again) reads the cached pages."""
    from rlm_graph.cli import main

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-secret")
    monkeypatch.setenv("RLM_GRAPH_HOME", str(tmp_path / "home"))
    calls = []
    real = pdf_module.pdf_pages
    monkeypatch.setattr(
        "rlm_graph.context.archives.pdf_pages", lambda *a: calls.append(a) or real(*a)
    )
    db = tmp_path / "runs.sqlite"

    def ask_in_process(question: str) -> dict:
        argv = ["ask", question, "--context", str(manual), "--model", "test-model",
                "--base-url", server.base_url, "--sub-window", "2000", "--db", str(db),
                "--thread", "pdf-2", "--json", "--quiet"]  # fmt: skip
        assert main(argv) == 0
        return json.loads(capsys.readouterr().out)

    first = ask_in_process("What is the vault access code?")
    assert len(calls) == 1 and first["turn"] == 1
    again = ask_in_process("What is the vault access code, again?")
    assert len(calls) == 1  # the follow-up read the pages the first turn extracted
    assert (again["answer"], again["turn"]) == ("7391-ALPHA", 2)
    citation = again["citations"][0]
    assert (citation["file"], citation["page"], citation["line"]) == ("manual.pdf", 3, 2)
