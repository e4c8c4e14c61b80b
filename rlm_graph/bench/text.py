"""Word-level helpers the generators and the scorers share, so truth and scoring read text alike.

``normalise`` (lower case, every run of characters other than letters and digits one space)
and ``names_value`` (a value as whole normalised words) match codes, towns and the like.
``content_words`` (lower-case words of three letters or more, English stop words dropped) and
``stem`` (a word's first five letters: "harbour" and "harbor", "identifier" and "identifiers"
meet) compare phrases whatever their inflection.
"""

from __future__ import annotations

import re

STEM_CHARS = 5
_NON_WORD = re.compile(r"[^0-9a-z]+")
_WORD = re.compile(r"[a-z]+")
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "done",
        "down",
        "during",
        "each",
        "either",
        "every",
        "few",
        "for",
        "from",
        "further",
        "get",
        "gets",
        "got",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "however",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "let",
        "may",
        "me",
        "might",
        "more",
        "most",
        "much",
        "must",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "one",
        "only",
        "or",
        "other",
        "others",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "same",
        "shall",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "thus",
        "to",
        "too",
        "under",
        "until",
        "up",
        "upon",
        "us",
        "use",
        "used",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "whether",
        "which",
        "while",
        "who",
        "whom",
        "whose",
        "why",
        "will",
        "with",
        "within",
        "without",
        "would",
        "yet",
        "you",
        "your",
        "yours",
    ]
)


def normalise(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def names_value(answer: str, value: str) -> bool:
    """Whether ``answer`` names ``value`` (normalised; whole words only)."""
    needle = normalise(value)
    return bool(needle) and f" {needle} " in f" {normalise(answer)} "


def content_words(text: str) -> list[str]:
    """The words that carry meaning, in order: lower case, three letters or more, no stop
    words (digits and punctuation split words)."""
    return [w for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in STOPWORDS]


def stem(word: str) -> str:
    return word.lower()[:STEM_CHARS]


def stems(text: str) -> set[str]:
    return {stem(w) for w in content_words(text)}
