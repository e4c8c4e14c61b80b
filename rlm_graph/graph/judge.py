"""The judge: a short second model call that reads one passage alone and answers the question.

Word overlap tells a passage about the question from one about something else only as far as
their words differ: "The ferry from the north quay carries 148 passengers." shares every word
but one with a question about the ferry from the south quay. So a leaf's finding on a lookup is
verified only when a reader given nothing but the passage answers the question the same way,
and, when the question's wording names the kind of thing it asks for ("which town", "who"),
when the model takes the answer for one (``is_kind``).
On a 28-case tuning set (BENCHMARKS.md), asked "does this passage answer it?", the 0.5B model
agreed with right passages 2/7 and the 1.5B said yes to nearly every passage; asked to answer
from the passage alone, the 0.5B agreed with right answers 7/7 and with answers read off
unrelated sentences 0/7.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from rlm_graph import prompts
from rlm_graph.configuration import RLMRuntime
from rlm_graph.evidence import Evidence, added_phrase, normalized, says
from rlm_graph.graph.events import ModelCallEvents
from rlm_graph.graph.model_call import call_model_json, json_schema_format
from rlm_graph.models import ResolvedModel
from rlm_graph.protocol.reply_json import find_json, is_object
from rlm_graph.questions import asked_kind, asks_for_many
from rlm_graph.state import Usage

# At most this many passages of one finding are put to the judge (the first that agrees ends it).
MAX_JUDGED = 2
JUDGE_FORMAT = json_schema_format(
    "passage_answer",
    {
        "type": "object",
        "properties": {
            "found": {"type": "boolean"},
            "answer": {"type": "string", "maxLength": 300},
        },
        "required": ["found", "answer"],
        "additionalProperties": False,
    },
)


KINDS = ("person", "place", "time", "number", "thing")
KIND_FORMAT = json_schema_format(
    "phrase_kind",
    {
        "type": "object",
        "properties": {"names": {"type": "string", "enum": list(KINDS)}},
        "required": ["names"],
        "additionalProperties": False,
    },
)
# Kinds a question's wording names directly; other nouns ("cartographer", "office") are
# classified by the model like the answer is.
# Common question nouns whose kind needs no model call (the 0.5B reads "an office" as a thing,
# and then checks nothing); any other noun is put to the model.
_PLACES = (
    "place", "location", "town", "city", "village", "country", "county", "region", "state",
    "province", "office", "branch", "building", "room", "street", "island", "port", "harbour",
    "harbor", "district", "neighbourhood", "neighborhood", "capital", "continent",
)  # fmt: skip
_PEOPLE = (
    "person", "man", "woman", "author", "writer", "manager", "mentor", "owner", "founder",
    "captain", "leader", "employee", "engineer", "artist", "king", "queen", "teacher",
    "student", "doctor", "scientist", "member", "colleague", "boss", "friend", "child",
)  # fmt: skip
_TIMES = ("date", "day", "year", "month", "time", "century", "decade", "season")
_KNOWN_KINDS = {
    **dict.fromkeys(_PLACES, "place"),
    **dict.fromkeys(_PEOPLE, "person"),
    **dict.fromkeys(_TIMES, "time"),
}


def with_article(kind: str) -> str:
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"


async def kind_of(
    rt: RLMRuntime, model: ResolvedModel, phrase: str, events: ModelCallEvents
) -> tuple[str, Usage, str | None]:
    """What ``phrase`` names (``KINDS``), as the model reads it; "thing" when it cannot say."""
    messages = [
        SystemMessage(prompts.KIND_SYSTEM),
        HumanMessage(prompts.KIND_USER.format(phrase=phrase)),
    ]
    reply = await call_model_json(rt, model, messages, KIND_FORMAT, events=events)
    if reply.error:
        return "thing", reply.usage, reply.error
    data = find_json(reply.text, is_object, span=True) or {}
    kind = str(data.get("names") or "thing").strip().lower()
    return (kind if kind in KINDS else "thing"), reply.usage, None


async def is_kind(
    rt: RLMRuntime,
    model: ResolvedModel,
    answer: str,
    kind: str,
    events: ModelCallEvents,
    question: str = "",
) -> tuple[bool, Usage, str | None]:
    """Whether ``answer`` names the kind of thing the question's ``kind`` noun does (a person
    for "which cartographer", a place for "which town"): a passage that names a person does
    not answer "in which town". Either side read as "thing" decides nothing (True). An answer
    that restates the ``question`` is judged by what it adds ("... works in the office of Tom
    Reed" names a person: the 0.5B read the whole sentence as a place)."""
    usage = Usage()
    wanted = _KNOWN_KINDS.get(kind)
    if wanted is None:
        wanted, spent, error = await kind_of(rt, model, with_article(kind), events)
        usage = usage.add(spent)
        if error:
            return True, usage, error
    if wanted == "thing":
        return True, usage, None
    given, spent, error = await kind_of(rt, model, added_phrase(answer, question), events)
    usage = usage.add(spent)
    return given in ("thing", wanted), usage, error


def agrees(reading: str, answer: str, question: str = "") -> bool:
    """The judge's reading and the finding say the same: one stands in the other, or one says
    the other (its words and all its numbers), or the finding says what the reading adds to
    the ``question`` it restates ("Dunstead has a boat service with a stated capacity of 883
    passengers" adds "Dunstead 883 passengers" to the question's words)."""
    a, b = normalized(reading), normalized(answer)
    if not a or not b:
        return False
    if a in b or b in a or says(answer, reading) or says(reading, answer):
        return True
    added = added_phrase(reading, question) if question else reading
    return added != reading and says(added, answer)


def read_reply(text: str) -> str | None:
    """The judge's answer, or None when it found none (or replied in another shape)."""
    data = find_json(text, is_object, span=True)
    if data is None or not data.get("found"):
        return None
    answer = str(data.get("answer") or "").strip()
    return answer or None


async def read_passage(
    rt: RLMRuntime, model: ResolvedModel, question: str, text: str, events: ModelCallEvents
) -> tuple[str | None, Usage, str | None]:
    """What a reader given only ``text`` answers to ``question`` (None: it found no answer),
    its usage, and the error of a failed call."""
    messages = [
        SystemMessage(prompts.JUDGE_SYSTEM),
        HumanMessage(prompts.JUDGE_USER.format(passage=text, question=question)),
    ]
    reply = await call_model_json(rt, model, messages, JUDGE_FORMAT, events=events)
    if reply.error:
        return None, reply.usage, reply.error
    return read_reply(reply.text), reply.usage, None


def _judged_text(item: Evidence, lead: str) -> str:
    """The passage as the judge reads it: the sentence before it, and where it stands (its
    file, the definition around it)."""
    return f"{lead} {item.located_text()}".strip()


async def judge(
    rt: RLMRuntime,
    model: ResolvedModel,
    question: str,
    answer: str,
    passages: list[tuple[Evidence, str]],
    *,
    runtime: Any = None,
    call_id: str = "",
) -> tuple[Evidence | None, Usage, str | None]:
    """The first passage (with the sentence before it) from which the model, reading it alone,
    answers ``question`` as ``answer`` does; its usage; and the error of a failed call."""
    usage = Usage()
    events = ModelCallEvents(runtime, call_id, "judge")
    for item, lead in passages[:MAX_JUDGED]:
        reading, spent, error = await read_passage(
            rt, model, question, _judged_text(item, lead), events
        )
        usage = usage.add(spent)
        if error:
            return None, usage, error
        if reading is not None and agrees(reading, answer, question):
            # Read off a passage that names the question's names, a person is no answer to
            # "in which town": the answer must be of the kind the question asks for.
            kind = asked_kind(question)
            if kind is not None and not asks_for_many(question):
                fits, spent, error = await is_kind(rt, model, answer, kind, events, question)
                usage = usage.add(spent)
                if error or not fits:
                    return None, usage, error
            return item, usage, None
    return None, usage, None
