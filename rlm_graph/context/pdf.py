"""PDF text, page by page, with ``pypdf``.

Why pypdf and not pdfplumber: pypdf is pure Python with no dependencies, reads pages lazily
(a 2,000-page manual is never held whole), and its ``extract_text`` keeps reading order well
enough for questions and citations; pdfplumber is built on pdfminer.six, pulls in Pillow and
pypdfium2, and is several times slower per page — its strength, table geometry, is not what a
reader of the text needs. See docs/contexts.md.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from typing import BinaryIO

from rlm_graph.errors import ContextError

# Each page's text is normalized to this many chars at most: a page is a page, not a book.
MAX_PAGE_CHARS = 1 << 20


def pdf_pages(source: BinaryIO, what: str) -> Iterator[str]:
    """The text of each page of a PDF read from a seekable binary stream, in order.

    Raises ContextError for a damaged or encrypted PDF, and for one with no text layer at all
    (a scan), which would otherwise be an empty context.
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged PDF is our one-line error
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(source)
            if reader.is_encrypted and not reader.decrypt(""):
                raise ContextError(f"{what} is an encrypted PDF: decrypt it first (qpdf --decrypt)")
            count = len(reader.pages)
            any_text = False
            for number in range(count):
                text = (reader.pages[number].extract_text() or "")[:MAX_PAGE_CHARS]
                any_text = any_text or bool(text.strip())
                yield text
    except ContextError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise ContextError(
            f"{what} is not a readable PDF (damaged or truncated?): {detail}"
        ) from None
    if count and not any_text:
        raise ContextError(
            f"{what} has no text layer ({count:,} pages of images, a scan?): run OCR on it first "
            "(for example ocrmypdf) and pass the result"
        )
    if not count:
        raise ContextError(f"{what} is a PDF with no pages")
