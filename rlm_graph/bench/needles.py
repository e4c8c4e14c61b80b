"""Needle shapes: the facts planted in a haystack, the questions that ask for them, and how an
answer is recognised as naming a fact's value.

Five shapes, three fact templates each (one template per sample, drawn from its rng), keys and
values drawn from the word lists below (invented towns and people, so no model knows the facts
from memory):

- ``sentence``: "The best thing to do in Kelwick is to swim in the cold pools below the weir."
  (truth: the activity phrase). Named when at least 60% of the phrase's content words are in
  the answer (stop words dropped, compared on 5-letter stems: ``text.stem``).
- ``name``: "The clock tower of Kelwick was restored by Ilsa Varrow." Named when the first and
  the last name both stand in the answer as whole words, at most three words apart ("Varrow,
  Ilsa" and "Ilsa M. Varrow" name her; "Varrow" alone does not).
- ``date``: "The bridge at Kelwick was completed on 14 March 1987." (also written "March 14,
  1987" or "1987-03-14"). Named when one date expression of the answer has that year, month
  (name, abbreviation or number) and day: "14 March 1987", "March 14th, 1987", "1987-03-14",
  "14/03/1987" (a numeric day/month order is ambiguous: either reading counts).
- ``number``: "The ferry from Kelwick carries 1,312 passengers on each crossing." Named when
  the number stands in the answer as a whole number, with or without thousands separators
  ("1312", "1,312", "1 312"; not "11312" or "1312.5").
- ``code``: "The access code for the cobalt archive is 4821-KESTREL." Named as whole
  normalised words (``4821 kestrel``; not ``14821-KESTREL``).

Every template has a question in the needle's own words and a paraphrase in other words (the
key is the only word they must share), for one needle and for all of a sample's needles (one
template per sample, distinct keys, so "each town whose clock tower was restored" is exactly
the planted ones).

``says_not_found`` and ``names_a_value`` score ``absent``: an answer is right when it says the
text does not hold the fact and names no value of the asked shape. ``HOP_TEMPLATES`` are the
two-fact chains of ``multi-hop``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from rlm_graph.bench.text import content_words, names_value, normalise, stem

Shape = Literal["sentence", "name", "date", "number", "code"]
# Sample i of niah, multi-niah and absent asks for shape SHAPES[i % 5].
SHAPES: tuple[Shape, ...] = ("sentence", "name", "date", "number", "code")
SENTENCE_SHARE = 0.6  # share of the truth phrase's content words an answer must hold
NAME_REACH = 3  # the first and last name at most this many words apart

# ----- word lists --------------------------------------------------------------------------
# Towns: invented from two parts (240 of them), so no model knows a fact about one.
TOWN_HEADS = (
    "Brin", "Kel", "Dun", "Ost", "Vel", "Tarn", "Hal", "Wen", "Cor", "Fen", "Gris", "Lud",
    "Pel", "Quen", "Rav", "Sel", "Thal", "Yar", "Mor", "Esk",
)  # fmt: skip
TOWN_TAILS = (
    "moor", "wick", "haven", "stead", "ford", "by", "mere", "holt", "bury", "combe", "thorpe",
    "wold",
)  # fmt: skip
FIRST_NAMES = (
    "Ilsa", "Tamsin", "Oren", "Perrin", "Maelis", "Corvin", "Edda", "Lisander", "Nerys", "Bram",
    "Odile", "Fennick", "Sunniva", "Teodor", "Ysolde", "Caspian", "Rhosyn", "Anselm", "Livia",
    "Dagny", "Emeric", "Wilhelmina", "Jory", "Marisol", "Thessaly", "Ulric", "Zofia", "Hesper",
)  # fmt: skip
LAST_NAMES = (
    "Varrow", "Quennell", "Ashgrove", "Ostrander", "Kettleby", "Brackwater", "Lindqvist",
    "Tremayne", "Halloran", "Ravensworth", "Cobbold", "Fenwright", "Marchbank", "Ollerton",
    "Sallow", "Thistlewood", "Underhay", "Wexcombe", "Yarrowby", "Dunstaple", "Greywell",
    "Inglethorpe", "Jessamy", "Pennimore", "Stobart", "Vellacott", "Abernathy", "Corrigan",
)  # fmt: skip
# Activities (sentence shape): no two share more than a word, and none shares a word with a
# question, so only the planted phrase scores.
ACTIVITIES = (
    "watch the lantern boats drift along the canal at dusk",
    "climb the old signal tower for a view over the salt flats",
    "buy smoked eel from the harbour market before noon",
    "swim in the cold pools below the weir",
    "hear the bell ringers practise on Thursday evenings",
    "hire a rowing skiff and circle the reed islands",
    "taste the plum brandy in the cellar under the mill",
    "follow the chalk path up to the ruined chapel",
    "feed the tame herons beside the slipway",
    "browse the map sellers' stalls in the covered arcade",
    "ride the funicular railway to the cliff gardens",
    "collect amber on the shingle beach after a storm",
    "eat barley pancakes with honey at the station buffet",
    "walk the drained moat around the star fort",
    "listen to organ recitals in the palm conservatory",
    "cycle the towpath to the lock keeper's cottage",
    "search the tide pools for violet crabs",
    "join the midnight procession of paper lanterns shaped like cranes",
    "sketch the carved gargoyles on the wool exchange",
    "picnic among the standing stones on the ridge",
    "watch glassblowers shape bottles in the furnace yard",
    "ski down the slopes behind the quarry",
    "sample pickled walnuts at the autumn fair",
    "paddle a canoe through the flooded forest",
    "drink mint tea in the courtyard of the weavers' guild",
    "ring the wishing gong halfway along the stair street",
)
# Code shape: plain words a model cannot guess the pairing of.
ARCHIVES = (
    "amber", "aspen", "basalt", "birch", "canyon", "cedar", "cobalt", "coral", "ember", "falcon",
    "garnet", "granite", "harbor", "hazel", "indigo", "juniper", "lagoon", "lantern", "maple",
    "marble", "meadow", "nickel", "obsidian", "onyx", "orchid", "pebble", "quartz", "raven",
    "saffron", "sierra", "sparrow", "spruce", "tundra", "umber", "violet", "walnut", "willow",
    "zephyr", "cypress", "thistle",
)  # fmt: skip
CODE_WORDS = (
    "KESTREL", "HERON", "OSPREY", "PLOVER", "MARTEN", "BADGER", "LYNX", "OTTER", "EGRET",
    "FINCH", "IBIS", "CRANE", "WREN", "TERN", "STOAT", "VOLE", "BISON", "GECKO", "MOOSE",
    "CONDOR", "PUFFIN",
)  # fmt: skip
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
YEARS = range(1820, 1980)


@dataclass(frozen=True)
class Template:
    """One way of stating a fact of a shape, with the questions that ask for it."""

    shape: Shape
    fact: str  # "{key}" and "{value}"
    question: str  # one needle, in the needle's own words
    paraphrase: str  # one needle, in other words
    multi: str  # every needle of the sample, in the needle's words (no placeholder)
    multi_paraphrase: str
    low: int = 0  # number shape: the values' range
    high: int = 0


TEMPLATES: dict[Shape, tuple[Template, ...]] = {
    "sentence": (
        Template(
            "sentence",
            "The best thing to do in {key} is to {value}.",
            "What is the best thing to do in {key}?",
            "Which activity would you recommend above all to someone visiting {key}?",
            "For each town the text names the best thing to do in, what is that best thing to do?",
            "Which towns come with a top recommended activity, and what activity is "
            "recommended in each?",
        ),
        Template(
            "sentence",
            "Everyone who moves to {key} soon learns to {value}.",
            "What does everyone who moves to {key} soon learn to do?",
            "Which habit do newcomers to {key} pick up?",
            "For each town where the text says what everyone who moves there soon learns to "
            "do, what is it?",
            "Which towns have a habit that newcomers pick up, and what is the habit in each?",
        ),
        Template(
            "sentence",
            "On feast days the people of {key} gather to {value}.",
            "What do the people of {key} gather to do on feast days?",
            "How does {key} celebrate its holidays?",
            "For each town whose people gather on feast days, what do they gather to do?",
            "Which towns have a holiday custom, and how does each celebrate?",
        ),
    ),
    "name": (
        Template(
            "name",
            "The clock tower of {key} was restored by {value}.",
            "Who restored the clock tower of {key}?",
            "Which craftsperson repaired {key}'s public timepiece?",
            "For each town whose clock tower the text says was restored, who restored it?",
            "Name every town with a repaired public timepiece in the text, and who repaired each.",
        ),
        Template(
            "name",
            "The first map of {key} was drawn by {value}.",
            "Who drew the first map of {key}?",
            "Which cartographer produced the earliest chart of {key}?",
            "For each town whose first map the text mentions, who drew it?",
            "Which towns have an earliest chart credited to someone, and which cartographer "
            "made each?",
        ),
        Template(
            "name",
            "The choir of {key} was founded by {value}.",
            "Who founded the choir of {key}?",
            "Which person started the singing group in {key}?",
            "For each town whose choir the text says was founded by someone, who founded it?",
            "Which towns' singing groups have a known starter, and who started each?",
        ),
    ),
    "date": (
        Template(
            "date",
            "The public baths of {key} first opened on {value}.",
            "When did the public baths of {key} first open?",
            "On which day did {key}'s bathhouse welcome its earliest guests?",
            "For each town whose public baths the text gives an opening date for, on what date "
            "did they first open?",
            "Which towns' bathhouses have a recorded day they welcomed their earliest guests, "
            "and what day was it for each?",
        ),
        Template(
            "date",
            "The bridge at {key} was completed on {value}.",
            "When was the bridge at {key} completed?",
            "On which date did construction of {key}'s river crossing finish?",
            "For each town whose bridge the text gives a completion date for, when was it "
            "completed?",
            "Which towns' river crossings have a recorded finishing date, and what is it for each?",
        ),
        Template(
            "date",
            "The charter of {key} was signed on {value}.",
            "On what date was the charter of {key} signed?",
            "When did {key} receive its founding document?",
            "For each town whose charter the text says was signed, on what date was it signed?",
            "Which towns have a dated founding document, and what is the date for each?",
        ),
    ),
    "number": (
        Template(
            "number",
            "The ferry from {key} carries {value} passengers on each crossing.",
            "How many passengers does the ferry from {key} carry on each crossing?",
            "How many people fit on one trip of the boat that leaves {key}?",
            "For each town whose ferry the text gives a passenger number for, how many "
            "passengers does it carry on each crossing?",
            "Which towns have a boat service with a stated capacity, and how many people fit "
            "on one trip for each?",
            low=120,
            high=2400,
        ),
        Template(
            "number",
            "The library of {key} holds {value} bound volumes.",
            "How many bound volumes does the library of {key} hold?",
            "How large is the book collection in {key}?",
            "For each town whose library the text gives a number of bound volumes for, how "
            "many does it hold?",
            "Which towns' book collections have a stated size, and how large is each?",
            low=1200,
            high=98000,
        ),
        Template(
            "number",
            "The observatory above {key} stands {value} metres above sea level.",
            "How many metres above sea level does the observatory above {key} stand?",
            "At what altitude is the telescope station near {key}?",
            "For each town whose observatory the text gives a height above sea level for, how "
            "high does it stand?",
            "Which towns have a telescope station of known altitude, and what is the altitude "
            "of each?",
            low=310,
            high=4800,
        ),
    ),
    "code": (
        Template(
            "code",
            "The access code for the {key} archive is {value}.",
            "What is the access code for the {key} archive?",
            "Which combination lets someone into the {key} records store?",
            # Worded with the needle's own words ("archive", "access code") so keyword
            # retrieval has a fair chance; the model is not told how many there are. No
            # placeholder in it: given "(the access code for the NAME archive is ...)", 0.5B
            # leaves answered "NAME archive".
            "Which archives does the text mention, and what is the access code for each archive?",
            "List every records store the text gives an entry combination for, with that "
            "combination.",
        ),
        Template(
            "code",
            "The {key} vault opens with the code {value}.",
            "What code opens the {key} vault?",
            "Which combination unlocks the {key} strongroom?",
            "Which vaults does the text mention, and what code opens each vault?",
            "List every strongroom the text gives an unlocking combination for, with that "
            "combination.",
        ),
        Template(
            "code",
            "The crate marked {key} carries the shipping tag {value}.",
            "What shipping tag does the crate marked {key} carry?",
            "Which label is attached to the {key} box?",
            "Which crates does the text mention, and what shipping tag does each crate carry?",
            "List every box the text gives a label for, with that label.",
        ),
    ),
}


@dataclass(frozen=True)
class HopTemplate:
    """multi-hop: "A <link> B." and "B <place> Z.", asked "where is A's B?"."""

    link: str  # "{a}", "{b}"
    place: str  # "{b}", "{z}"
    question: str  # "{a}"


HOP_TEMPLATES = (
    HopTemplate(
        "{a} reports to {b}.",
        "{b} works in the {z} office.",
        "In which office does {a}'s manager work?",
    ),
    HopTemplate(
        "{a}'s mentor is {b}.", "{b} lives in {z}.", "In which town does {a}'s mentor live?"
    ),
    HopTemplate(
        "{a} bought a boat from {b}.",
        "{b} was born in {z}.",
        "In which town was the person who sold {a} a boat born?",
    ),
)


class Fact(BaseModel):
    """A fact of a shape, before it is planted."""

    shape: str
    key: str
    value: str
    sentence: str


# ----- drawing facts -----------------------------------------------------------------------
def draw_towns(rng: random.Random, k: int) -> list[str]:
    picks = rng.sample(range(len(TOWN_HEADS) * len(TOWN_TAILS)), k)
    return [TOWN_HEADS[i // len(TOWN_TAILS)] + TOWN_TAILS[i % len(TOWN_TAILS)] for i in picks]


def draw_people(rng: random.Random, k: int) -> list[str]:
    """k full names; no first or last name twice, so half a name never names another."""
    firsts = rng.sample(FIRST_NAMES, k)
    lasts = rng.sample(LAST_NAMES, k)
    return [f"{first} {last}" for first, last in zip(firsts, lasts, strict=True)]


def render_date(year: int, month: int, day: int, style: int) -> str:
    name = MONTHS[month - 1]
    if style == 0:
        return f"{day} {name} {year}"
    if style == 1:
        return f"{name} {day}, {year}"
    return f"{year}-{month:02d}-{day:02d}"


def _values(rng: random.Random, template: Template, k: int) -> list[str]:
    shape = template.shape
    if shape == "sentence":
        return rng.sample(ACTIVITIES, k)
    if shape == "name":
        return draw_people(rng, k)
    if shape == "date":
        years = rng.sample(YEARS, k)  # distinct: no two values one digit apart
        return [
            render_date(year, rng.randint(1, 12), rng.randint(1, 28), rng.randrange(3))
            for year in years
        ]
    if shape == "number":
        return [f"{n:,}" for n in rng.sample(range(template.low, template.high), k)]
    digits = rng.sample(range(1000, 10000), k)
    words = rng.sample(CODE_WORDS, k)
    return [f"{d}-{w}" for d, w in zip(digits, words, strict=True)]


def draw_facts(rng: random.Random, shape: Shape, k: int) -> tuple[Template, list[Fact]]:
    """One template of ``shape`` and k facts in it: distinct keys, distinct values."""
    template = rng.choice(TEMPLATES[shape])
    keys = rng.sample(ARCHIVES, k) if shape == "code" else draw_towns(rng, k)
    values = _values(rng, template, k)
    return template, [
        Fact(shape=shape, key=key, value=value, sentence=template.fact.format(key=key, value=value))
        for key, value in zip(keys, values, strict=True)
    ]


# ----- reading values out of answers -------------------------------------------------------
_MONTH_NUMBER = {name.lower(): i + 1 for i, name in enumerate(MONTHS)}
_MONTH_NUMBER |= {name.lower()[:3]: i + 1 for i, name in enumerate(MONTHS)}
_MONTH_NUMBER["sept"] = 9
_MONTH = r"(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
_ORDINAL = r"(?:st|nd|rd|th)?"
_YMD = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_DMY_NAMED = re.compile(
    rf"(?<!\d)(\d{{1,2}}){_ORDINAL}(?:\s+of)?[\s-]+{_MONTH},?[\s-]+(\d{{4}})(?!\d)", re.I
)
_MDY_NAMED = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}}){_ORDINAL},?\s+(\d{{4}})(?!\d)", re.I)
_NUMERIC = re.compile(r"(?<![\d/.-])(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?!\d)")
# Whole numbers, thousands separators allowed ("1,312", "1 312"); never part of a longer
# number or of a decimal ("11312", "1312.5").
_INTEGER = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:[,\u00a0\u202f' ]\d{3})+|\d+)(?![\d]|[.,]\d)", re.UNICODE
)
_CODE_LIKE = re.compile(r"\b\d{4}\s*-?\s*[a-z]{3,}\b")


def parse_dates(text: str) -> set[tuple[int, int, int]]:
    """Every (year, month, day) a date expression of ``text`` can mean."""
    found: set[tuple[int, int, int]] = set()
    for y, m, d in _YMD.findall(text):
        found.add((int(y), int(m), int(d)))
    for d, month, y in _DMY_NAMED.findall(text):
        found.add((int(y), _MONTH_NUMBER[month.lower()], int(d)))
    for month, d, y in _MDY_NAMED.findall(text):
        found.add((int(y), _MONTH_NUMBER[month.lower()], int(d)))
    for a, b, y in _NUMERIC.findall(text):  # 03/04/1987: either reading
        found |= {(int(y), int(b), int(a)), (int(y), int(a), int(b))}
    return {(y, m, d) for y, m, d in found if 1 <= m <= 12 and 1 <= d <= 31}


def parse_integers(text: str) -> list[int]:
    return [int(re.sub(r"\D", "", match)) for match in _INTEGER.findall(text)]


def phrase_share(answer: str, phrase: str) -> float:
    """The share of ``phrase``'s content words (as stems) that ``answer`` holds."""
    wanted = {stem(w) for w in content_words(phrase)}
    if not wanted:
        return 0.0
    have = {stem(w) for w in content_words(answer)}
    return len(wanted & have) / len(wanted)


def names_person(answer: str, name: str) -> bool:
    """First and last name as whole words, at most ``NAME_REACH`` words apart (any order)."""
    first, *_, last = normalise(name).split()
    words = normalise(answer).split()
    firsts = [i for i, w in enumerate(words) if w == first]
    lasts = [i for i, w in enumerate(words) if w == last]
    return any(0 < abs(i - j) <= NAME_REACH for i in firsts for j in lasts)


def names_shape_value(shape: str, value: str, answer: str | None) -> bool:
    """Whether ``answer`` names ``value``, a value of needle shape ``shape``."""
    text = answer or ""
    if shape == "sentence":
        return phrase_share(text, value) >= SENTENCE_SHARE - 1e-9
    if shape == "name":
        return names_person(text, value)
    if shape == "date":
        return bool(parse_dates(value) & parse_dates(text))
    if shape == "number":
        truth = parse_integers(value)
        return bool(truth) and truth[0] in parse_integers(text)
    return names_value(text, value)


# ----- absent: "not found" and nothing else -----------------------------------------------
_NEGATION = (
    r"(?:not|never|no longer|does not|do not|did not|doesn t|don t|didn t|cannot|can not|can t|"
    r"could not|couldn t|is not|isn t|are not|aren t|was not|wasn t|were not|weren t|nowhere)"
)
_ABSENT_VERB = (
    r"(?:say|says|said|mention|mentions|mentioned|contain|contains|contained|state|states|"
    r"stated|specify|specifies|specified|give|gives|given|provide|provides|provided|name|names|"
    r"named|list|lists|listed|include|includes|included|tell|tells|told|indicate|indicates|"
    r"indicated|appear|appears|found|find|determine|determined|available|present|known|"
    r"identify|identified|record|recorded|answer)"
)
_NOT_FOUND = re.compile(
    r"^(?:answer )?not found\b"
    rf"|\b{_NEGATION} (?:\w+ ){{0,3}}?{_ABSENT_VERB}\b"
    r"|\bno (?:such |specific |relevant )?(?:information|mention|record|answer|data|detail|"
    r"details|reference|fact|facts|evidence)\b"
    r"|\bthere (?:is|are) no\b|\bunknown\b"
)
_NOTHING = {"", "none", "n a", "unknown", "no answer", "nothing"}


def says_not_found(answer: str | None) -> bool:
    """Whether ``answer`` says the text does not hold the fact: nothing, "not found" (any case
    and punctuation), or a phrase such as "the text does not mention ..."."""
    text = normalise(answer or "")
    return text in _NOTHING or bool(_NOT_FOUND.search(text))


def names_a_value(
    shape: str, answer: str | None, planted: list[str] | tuple[str, ...] = ()
) -> bool:
    """Whether ``answer`` names a concrete value of ``shape``: one of the ``planted`` values,
    or anything that reads as a value of that shape (a date, a number, a code, a person of
    the name lists, an activity of the list)."""
    text = answer or ""
    if any(names_shape_value(shape, value, text) for value in planted):
        return True
    if shape == "date":
        return bool(parse_dates(text))
    if shape == "number":
        return bool(parse_integers(text))
    if shape == "code":
        return bool(_CODE_LIKE.search(text.lower()))
    if shape == "name":
        words = set(normalise(text).split())
        return any(n.lower() in words for n in FIRST_NAMES + LAST_NAMES)
    return any(names_shape_value("sentence", a, text) for a in ACTIVITIES)
