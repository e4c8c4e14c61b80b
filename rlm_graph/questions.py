"""What a question asks for, read from its wording: the rules hold for every answer shape.

- ``task_kind``: a *lookup* (a fact the text states: a name, a date, a number, a code, a
  sentence), *open* work (summarise, describe, say what each part is about) or an *aggregate*
  (count, total). A lookup's finding must come from a passage about the question; open work is
  backed by the passages of its own part.
- ``asks_for_many``: whether the answer is a list (every X, each X, which Xs) or one thing.
- ``fits_asked``: whether an answer has the shape the question's wording asks for (a number
  for "how many", "what year"); an answer of another shape is never verified.
- ``part_task``: the task one part gets from a question about every part ("For each essay, say
  what it is about" -> "Say what it is about (for the part of the text you are given)").
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal

from rlm_graph import prompts
from rlm_graph.settings import Mode

TaskKind = Literal["lookup", "open", "aggregate"]

_AGGREGATE = re.compile(r"\b(how many|count|number of|total|sum of|average|how often)\b", re.I)
# "How many passengers does the ferry carry?": a figure the text states about one thing (an
# auxiliary and its subject after the counted noun), a lookup like any other; "How many ERROR
# lines?" and "How many functions call it?" count what the text holds.
_STATED_QUANTITY = re.compile(
    r"\bhow (?:many|much)(?:\s+(?!(?:does|do|did|will|can|could|would|should)\b)[\w'-]+){0,4}?"
    r"\s+(?:does|do|did|will|can|could|would|should)\b",
    re.I,
)
# "How many people fit on one trip of the boat?": no auxiliary, yet a figure the text states,
# since people are not a unit of a text. Counting is asked of what a text is made of (its
# lines, records, errors, functions ...); any other counted noun asks for a stated figure
# (measured on the 0.5B: read as a count, the boat question had no judge and no sweep).
_HOW_MANY_NOUN = re.compile(r"\bhow (?:many|much)\s+(?:of the\s+)?([a-z][\w'-]*)", re.I)
_TEXT_UNITS = frozenset((
    "line", "record", "row", "column", "field", "entry", "item", "thing", "time",
    "occurrence", "instance", "error", "warning", "failure", "request", "response", "event",
    "message", "log", "file", "folder", "directory", "function", "method", "class", "call",
    "import", "module", "definition", "word", "character", "char", "letter", "digit", "number",
    "string", "mention", "section", "part", "chapter", "paragraph", "page", "document",
    "sentence", "user", "customer", "order", "transaction", "ticket", "issue", "test", "label",
    "match", "hit", "value", "key", "commit", "change", "step", "task", "job", "element",
    "node", "essay", "article", "post", "email", "note", "comment", "review", "case", "result",
))  # fmt: skip
_OPEN = re.compile(
    r"\b(summari[sz]e|summary|describe|overview|outline|main (?:idea|point|topic)s?|"
    r"(?:is|are) (?:it |they |this |these )?(?:mainly |mostly )?about|"
    r"each (?:part|section|essay|chapter|file|document|article))\b",
    re.I,
)
# What a part is about, as a whole ("say what it is mainly about", "summarize it", "its main
# topic"), not what it says of something ("what does it say about taxes").
_WHAT_ABOUT = re.compile(
    r"\b(?:summari[sz]e|summary|gist|overview|(?:main |central )?(?:topic|theme)s?|"
    r"main (?:idea|point|subject)s?|(?:is|are)\b[\w\s]{0,30}?\babout\s*(?:[.?!,;:]|$))",
    re.I,
)
# "all" of an idiom asks for one thing ("recommend above all", "if at all", "first of all", "the
# oldest of all"), as a singular subject does ("which habit do newcomers pick up": the verb is
# the newcomers'; "which towns do" asks for every town).
_MANY = re.compile(
    r"\b(each|every|(?<!above )(?<!\bat )(?<!after )(?<!\bof )all|list|which (?:\w+s )?(?:are|were|do)|"
    r"what are|name (?:the|all)|enumerate)\b|\b\w+s (?:does|do) the text (?:mention|name)",
    re.I,
)
# What a text is divided into: the things a question asks the same of, one part at a time.
_DIVISIONS = (
    r"part|section|essay|chapter|file|document|article|page|paragraph|story|stories|letter|"
    r"report|module|book|poem|entry|entries|post|message|email|transcript|speech|lecture|"
    r"episode|paper|contract|memo|note|scene|act|volume|appendix|appendices|source"
)
# "For each essay, say ..." at the start of a sentence: the rest of it is every part's task.
# Only a division of the text counts ("For each source file", "In every chapter of the
# book"): "For each town whose people gather on feast days, what do they gather to do?" asks
# for a fact of every town, a lookup (measured: read as per-part work, its leaves were given
# open tasks and a summary of the wrong passage was grounded by a third of its words).
_PER_PART = re.compile(
    r"(?:^|[.!?:]\s+)(?:for|in) (?:each|every) (?:of the )?(?:[\w'-]+\s+){0,2}?"
    rf"(?:{_DIVISIONS})s?\b[\w\s'-]{{0,40}}?[,:]\s*(?P<task>[^\n]+)$",
    re.I,
)


# Counting what the text holds: "count", "how often", a sum or an average, or "how many" with
# the counted things as the subject of the verb ("how many records have", "... are there");
# not "how many X does Y have" (a quantity stated about Y, a lookup).
_COUNT_VERBS = (
    r"are there|were there|is there|have|has|had|are|were|contain|contains|mention|mentions|"
    r"match|matches|appear|appears|occur|occurs|use|uses|call|calls|fail|failed"
)
# What a text is made of, one unit at a time: "the number of records ...", "in how many lines
# ...", "how many entries does the log hold" count the text's own units, not a stated quantity.
_UNIT_WORDS = r"(?:" + "|".join(sorted(_TEXT_UNITS)) + r")(?:s|es)?|entries"
_TEXT_NOUNS = r"text|log|file|table|list|document|context|export|data|dataset"
_COUNTS = re.compile(
    r"\b(?:count|how often|(?:number of|how many) times|sum of|total of|average|add up)\b|"
    r"\bhow many(?:\s+(?!(?:does|do|did|will|can|could|would|should)\b)[\w'-]+){0,4}?\s+"
    rf"(?:{_COUNT_VERBS})\b|"
    rf"\bnumber of (?:[\w'-]+\s+){{0,2}}?(?:{_UNIT_WORDS})\b|"
    rf"\bin how many (?:{_UNIT_WORDS})\b|"
    rf"\bhow many (?:[\w'-]+\s+){{0,3}}?(?:does|do) the (?:{_TEXT_NOUNS}) "
    r"(?:hold|contain|have|list|show|record)\b",
    re.I,
)

# Questions answered by a figure: a count, an amount, an age, a year.
_ASKS_NUMBER = re.compile(
    r"\b(how (?:many|much|old)|(?:what|which|in what) year|what (?:number|percentage|age))\b",
    re.I,
)
_NUMBER_WORDS = re.compile(
    r"\b(zero|none|no|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozen|half|single|once|"
    r"twice|a few|several)\b",
    re.I,
)


# "Which cartographer ...", "In which town ...", "What colour ...": the noun after the
# question word names the kind of thing asked for (an auxiliary after it names nothing).
_AUXILIARY = r"(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should)"
_WHICH_NOUN = re.compile(
    rf"\b(?:which|what)\s+([a-z][a-z-]+)\b(?:\s+([a-z][a-z-]+)(?=\s+{_AUXILIARY}\b))?", re.I
)
_NOT_A_KIND = frozenset((
    "is", "are", "was", "were", "do", "does", "did", "has", "have", "had", "can", "could",
    "will", "would", "should", "may", "might", "must", "the", "a", "an", "of", "kind", "sort",
    "type", "one", "ones", "else", "exactly", "happens", "happened", "everyone", "everybody",
    "everything", "someone", "something", "people", "they", "it", "he", "she", "we", "you", "i",
    "this", "that", "these", "those", "there", "its", "their", "his", "her", "our", "my",
))  # fmt: skip
# A word of a text, as far as numbers go: "2023-01-06" and "A12" are words, not numbers.
_WORD = re.compile(r"[^\s()\[\]{}'\"`=:;<>|]+")
_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_WHO = re.compile(r"^\W*(?:who|whom)\b|[,;:]\s*(?:who|whom)\b", re.I)
_WHERE = re.compile(r"^\W*where\b|[,;:]\s*where\b", re.I)


def asked_kind(question: str) -> str | None:
    """The kind of thing a question asks for, in its own words: the noun of "which town" or
    "what colour", "person" for "who", "place" for "where"; None when its wording does not
    say (a "what is ..." question, a figure, a yes/no)."""
    if asks_for_number(question):
        return None
    if match := _WHICH_NOUN.search(question):
        noun = match.group(1).lower()
        if noun in _NOT_A_KIND or noun.endswith("ly"):
            return None
        second = (match.group(2) or "").lower()  # "what shipping tag does ..."
        return f"{noun} {second}" if second and second not in _NOT_A_KIND else noun
    if _WHO.search(question.strip()):
        return "person"
    if _WHERE.search(question.strip()):
        return "place"
    return None


def asks_for_number(question: str) -> bool:
    """Whether the question asks for a figure ("how many", "what year")."""
    return _ASKS_NUMBER.search(question) is not None


def numbers_in(text: str) -> set[str]:
    """The numbers written in ``text`` as words of their own ("137", "1,234", "2.5"; not the
    parts of a date, a code or a name: "2023-01-06", "A12"), without thousands separators."""
    found: set[str] = set()
    for word in _WORD.findall(text):
        word = word.rstrip(".,")
        if _NUMBER.fullmatch(word):
            found.add(format(Decimal(word.replace(",", "")).normalize(), "f"))
    return found


def fits_asked(answer: str, question: str) -> bool:
    """Whether ``answer`` has the shape the question asks for: a question that asks for a
    figure is answered with digits or number words ("1987", "three"), never with a name read
    off the same sentence. Other questions take any shape."""
    if not asks_for_number(question):
        return True
    return any(c.isdigit() for c in answer) or _NUMBER_WORDS.search(answer) is not None


def task_kind(question: str) -> TaskKind:
    """A lookup, open work or an aggregate, decided from the question's wording."""
    if asks_to_count(question) or (
        _AGGREGATE.search(question)
        and not _STATED_QUANTITY.search(question)
        and not _counts_no_text_unit(question)
    ):
        return "aggregate"
    if _OPEN.search(question) or _PER_PART.search(question.strip()):
        return "open"
    return "lookup"


def _counts_no_text_unit(question: str) -> bool:
    """Whether "how many" asks about something other than a unit of the text ("how many
    people fit", not "how many lines", "how many errors were logged")."""
    match = _HOW_MANY_NOUN.search(question)
    if match is None:
        return False
    noun = match.group(1).lower()
    forms = {noun, noun.removesuffix("s"), noun.removesuffix("es")}
    if noun.endswith("ies"):
        forms.add(noun[:-3] + "y")
    return not forms & _TEXT_UNITS


def asks_to_count(question: str) -> bool:
    """Whether the question asks to count or total what the text holds ("How many records
    have ...", "How many X are there", "Count ...", "the sum of ..."), not for a quantity the
    text states about something ("How many employees does Acme have?")."""
    return _COUNTS.search(question) is not None


def mode_for(question: str) -> Mode:
    """The mode ``auto`` runs a question in: counting or totalling is done by code over every
    record (``repl``); anything else is read by sub-calls (``calls``). Measured in
    BENCHMARKS.md: on ``count``, REPL mode beat calls mode and ``direct`` on the embedded
    model; it is not measured to do better on lookups."""
    return "repl" if asks_to_count(question) else "calls"


def asks_for_many(question: str) -> bool:
    """Whether the question asks for every X (a list), not for one answer."""
    return bool(_MANY.search(question))


def asks_what_about(question: str) -> bool:
    """Whether the question asks what something is about as a whole (a summary, a topic),
    not for what it says about a thing."""
    return _WHAT_ABOUT.search(question) is not None


def asks_per_part(question: str) -> bool:
    """Whether the question asks the same of every part ("For each section, ...")."""
    return _PER_PART.search(question.strip()) is not None


def part_task(task: str) -> str:
    """The task of one part for a question about every part; other tasks as they are."""
    match = _PER_PART.search(task.strip())
    if match is None:
        return task
    rest = match.group("task").strip()
    return prompts.PART_TASK.format(task=rest[:1].upper() + rest[1:])
