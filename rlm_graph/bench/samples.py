"""The data of one generated sample: the question, the text, and the truth computed for it.

Kept apart from the generators (``tasks.py``, ``needles.py``, ``parts.py``, ``code_tasks.py``)
so each of them, and the scorers, can import the models without importing one another.
"""

from __future__ import annotations

import random
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from rlm_graph.tokens import estimate_tokens

TaskName = Literal["niah", "multi-niah", "absent", "multi-hop", "count", "per-part", "code"]


class Needle(BaseModel):
    """One planted fact and where it sits in the sample text."""

    key: str  # what the question names: a town, an archive, a person (multi-hop)
    value: str  # what the answer must name, as written in the text
    sentence: str
    char_offset: int  # index of the sentence in the sample text (a Python str index)
    depth: float  # char_offset / len(text)
    target_depth: float
    # sentence | name | date | number | code; multi-hop: link ("A reports to B") or place
    shape: str = "code"
    # fact: asked for; hop1 / hop2: the two links of a multi-hop chain; distractor: planted to
    # mislead (absent: another key's fact; multi-hop: another chain), never the answer.
    role: str = "fact"


class PartTruth(BaseModel):
    """per-part: one part of the text and the terms that show an answer knows what it is."""

    number: int  # 1-based, as its marker line says
    title: str  # the topic name, file name or first line it came from
    key_terms: list[str]  # title words, then its most distinctive words (tf-idf)
    char_offset: int  # where its marker line starts in the sample text


class CodeQuestion(BaseModel):
    """code: what was asked about the source tree and the truth read from its syntax trees."""

    kind: Literal["defines", "callers"]
    name: str  # the function asked about
    path: str | None = None  # defines: the one included file that defines it
    callers: list[str] = Field(default_factory=list)  # callers: names of the functions calling it
    files: list[str] = Field(default_factory=list)  # the files in the text, in text order


class TaskSample(BaseModel):
    """One generated question over one text, with its computed ground truth."""

    task: TaskName
    length: int  # target tokens
    index: int
    seed: int
    question: str
    answer: str  # the ground truth, as a person would write it
    # The values an answer must name: needle values (niah, multi-niah), the second hop's
    # place (multi-hop), the count, each part's key terms (per-part), the file or the callers
    # (code); empty for absent (nothing may be named).
    expected: list[str]
    shape: str | None = None  # needle tasks: the needle shape asked about
    shapes: list[str] = Field(default_factory=list)  # one per needle, in text order
    paraphrased: bool = False  # the question avoids the needle's own words
    distractor: bool = False  # absent / multi-hop: a misleading fact was planted
    count: int | None = None  # count: the exact number
    label: str | None = None
    date_range: tuple[str, str] | None = None
    records: int | None = None  # count: records in the text
    record_format: str | None = None  # count: how they are written (tasks.RECORD_FORMATS)
    needles: list[Needle] = Field(default_factory=list)
    parts: list[PartTruth] = Field(default_factory=list)
    code: CodeQuestion | None = None
    chars: int  # derived from text when not given
    tokens: int  # estimate_tokens(text): the actual size; derived from text when not given
    # Needle tasks: byte offset of the slice in the corpus; count: index of the first record's
    # sentence among the corpus's sentences; per-part: index of the first part among the
    # corpus's parts; code: index of the first file in the tree.
    corpus_offset: int
    corpus_repeats: int = 0  # > 0: the corpus was shorter than asked and repeats
    text: str = Field(repr=False, exclude=True)
    # code: the source tree's files (path -> text) the text joins; the RLM methods get them as
    # a folder, the way a user passes a source tree.
    folder: dict[str, str] | None = Field(default=None, repr=False, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _sized(cls, data: object) -> object:
        """``chars`` and ``tokens`` are the text's: every generator gets them from one place."""
        if isinstance(data, dict) and "text" in data:
            data.setdefault("chars", len(data["text"]))
            data.setdefault("tokens", estimate_tokens(data["text"]))
        return data


def sample_rng(seed: int, task: str, length: int, index: int) -> random.Random:
    # String seeds hash with SHA-512: stable across processes and Python versions.
    return random.Random(f"rlm-bench:{seed}:{task}:{length}:{index}")
