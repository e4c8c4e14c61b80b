"""BM25 over the chunks the RLM itself would use: the retrieval baseline's reading list.

Chunks come from ``open_context(text)`` with ``RLMRuntime.chunking_for_view()``, so retrieval
and recursion read the very same slices; ``bm25s`` scores them against the question and the
best that fit one call's budget are read, in document order.
"""

from __future__ import annotations

from pydantic import BaseModel

from rlm_graph.context import Chunking, ContextView, TextStore
from rlm_graph.tokens import estimate_tokens

CHUNK_SEPARATOR = "\n[...]\n"


class Retrieved(BaseModel):
    text: str
    chunks: list[int]  # chosen chunk numbers, in document order
    chunks_total: int
    covered_bytes: int  # bytes of the input the chosen chunks cover (overlaps counted once)
    input_bytes: int


def bm25_scores(chunks: list[str], query: str) -> list[float]:
    """One BM25 score per chunk (bm25s, English stop words, no stemming)."""
    import bm25s

    corpus_tokens = bm25s.tokenize(chunks, stopwords="en", show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(corpus_tokens, show_progress=False)
    (query_tokens,) = bm25s.tokenize([query], stopwords="en", show_progress=False, return_ids=False)
    if not query_tokens:  # only stop words: nothing to rank by
        return [0.0] * len(chunks)
    return [float(s) for s in retriever.get_scores(list(query_tokens))]


def retrieve(text: str, query: str, chunking: Chunking, budget_tokens: int) -> Retrieved:
    """The best-scoring chunks of ``text`` for ``query`` that fit ``budget_tokens`` together."""
    view = ContextView(TextStore(text.encode("utf-8")))
    count = view.chunk_count(chunking)
    chunks = [view.child(f"chunk:{i}", chunking).text() for i in range(count)]
    scores = bm25_scores(chunks, query)
    # Ties (e.g. no query word anywhere) go to the earlier chunk: deterministic.
    ranked = sorted(range(count), key=lambda i: (-scores[i], i))
    chosen: list[int] = []
    used = 0
    separator = estimate_tokens(CHUNK_SEPARATOR)
    for i in ranked:
        cost = estimate_tokens(chunks[i]) + (separator if chosen else 0)
        if used + cost <= budget_tokens:
            chosen.append(i)
            used += cost
    chosen.sort()
    spans = sorted(view.chunk_span(i, chunking) for i in chosen)
    covered, reach = 0, 0
    for start, end in spans:  # union of overlapping spans
        start = max(start, reach)
        if end > start:
            covered += end - start
        reach = max(reach, end)
    return Retrieved(
        text=CHUNK_SEPARATOR.join(chunks[i] for i in chosen),
        chunks=chosen,
        chunks_total=count,
        covered_bytes=covered,
        input_bytes=view.size,
    )
