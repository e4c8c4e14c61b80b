"""Answers you can trust: leaves quote their text, the framework checks the quotes, an invented
answer cannot win by being first, and the final answer says what backs it."""

from __future__ import annotations

import inspect
import json
import re

import pytest

from rlm_graph import prompts
from rlm_graph.context import open_context
from rlm_graph.evidence import (
    check,
    contrasted,
    echoes,
    is_not_found,
    locate,
    named_terms,
    parse_reply,
    relevant,
    repeats_system_text,
    rewords,
    says,
)
from rlm_graph.graph.call import borrowed_names, never_named, restates_an_answer
from rlm_graph.graph.findings import citations, render_findings
from rlm_graph.graph.per_part import MAX_PART_LINE_CHARS
from rlm_graph.samples import make_haystack
from rlm_graph.testing import is_leaf_prompt, is_reduce_prompt, leaf_text
from tests.unit.conftest import chunk_calls, final_from_results, make_rlm, planner

TEXT = "Notes.\nThe   vault access code\nis 7391-ALPHA, said the auditor.\nLunch is at noon.\n"


def reply(found: bool, answer: str = "", quotes: list[str] | None = None) -> str:
    return json.dumps({"found": found, "answer": answer, "quotes": quotes or []})


def test_a_quote_verifies_across_case_and_whitespace_with_its_lines():
    view = open_context(TEXT)
    verdict = check(view, reply(True, "7391-ALPHA", ["the vault access code is 7391-alpha"]))
    assert verdict.outcome == "found" and verdict.verified
    (evidence,) = [e for e in verdict.evidence if "vault" in e.quote]
    assert (evidence.line, evidence.line_end) == (2, 3)
    assert TEXT.encode()[evidence.start : evidence.end].decode().startswith("The   vault")


def test_an_invented_quote_does_not_verify():
    verdict = check(
        open_context(TEXT),
        reply(True, "noon", ["The storage room door code is noon."]),
        "What is the vault access code?",
    )
    assert verdict.outcome == "found" and not verdict.verified
    assert not any("storage" in e.quote for e in verdict.evidence if e.verified)


@pytest.mark.parametrize(
    ("question", "answer", "invented"),
    [
        ("What is the vault access code?", "The vault access code is 1234567890.", "1234567890"),
        ("What is the vault access code?", "9164-DELTA", "9164"),
        ("Who said it?", "Margaret Oduya", "oduya"),
        ("When was the vault opened?", "On 14 June 1987", "1987"),
        ("Which city is it in?", "It is in Lisbon.", "lisbon"),
    ],
)
def test_an_answer_naming_what_its_slice_nowhere_holds_is_not_found(question, answer, invented):
    """A small model asked for a fact its slice lacks makes one up in the shape asked for
    (measured on the 0.5B model: 13 of 14 leaves of the demo answered with an invented code).
    Its names and figures are nowhere in its slice: that is "not found", not an answer."""
    verdict = check(open_context(TEXT), reply(True, answer, [answer]), question)
    assert verdict.outcome == "not_found" and not verdict.verified
    assert verdict.rejected and invented in verdict.rejected


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Who spoke of the code?", "The auditor"),  # a sentence-start capital names nothing
        ("When is lunch?", "Noon"),  # a one-word name the text holds, in another case
        ("How many codes are there?", "1 code, numbered 4821"),  # a figure may be worked out
        ("Is lunch at noon?", "Yes"),
    ],
)
def test_an_answer_in_the_slices_own_words_is_never_called_invented(question, answer):
    verdict = check(open_context(TEXT), reply(True, answer, []), question)
    assert verdict.outcome == "found" and verdict.rejected is None


def test_quotes_joined_by_an_ellipsis_must_appear_in_order():
    view = open_context(TEXT)
    assert locate(view, "The vault access code ... said the auditor").verified
    assert not locate(view, "said the auditor ... The vault access code").verified
    assert not locate(view, "code").verified  # too short to prove anything


FRAMES = (
    "Notes on the runtime.\nFrame objects represent execution frames.  They may occur in "
    "traceback objects (see below), and are also passed to registered trace functions.\n"
    'There are two flavors: built-in methods (such as "append()" on lists) and class methods.\n'
)


@pytest.mark.parametrize(
    ("quote", "located"),
    [
        (  # a sentence break written as a comma (the 0.5B on Python's help, fresh seed 60)
            "Frame objects represent execution frames, they may occur in traceback objects",
            "Frame objects represent execution frames. They may occur in traceback objects",
        ),
        (  # other quotation marks
            "two flavors: built-in methods (such as 'append()' on lists)",
            'two flavors: built-in methods (such as "append()" on lists',
        ),
    ],
)
def test_a_quote_with_its_punctuation_changed_is_located_in_the_text_s_own_words(quote, located):
    evidence = locate(open_context(FRAMES), quote)
    assert evidence.verified and evidence.quote == located
    assert FRAMES.encode()[evidence.start : evidence.end].decode().split() == located.split()


@pytest.mark.parametrize(
    "quote",
    [
        "frames they may",  # too few words to tell a quote from words that happen to meet
        "Frame objects represent traceback frames",  # a word the text does not have
        "They may occur in frames objects",  # the text's words in another order
    ],
)
def test_a_loose_quote_needs_enough_of_the_text_s_words_in_the_text_s_order(quote):
    assert not locate(open_context(FRAMES), quote).verified


def test_not_found_is_an_outcome_not_a_string():
    view = open_context(TEXT)
    for text in (reply(False), "NOT FOUND", "  not found. ", reply(True, "NOT FOUND")):
        assert check(view, text).outcome == "not_found"


@pytest.mark.parametrize(
    ("answer", "nothing"),
    [
        # The 1.5B reader on "New in version 3.10." for a list of towns: "found" in its JSON,
        # nothing in its words.
        ("The passage does not provide information about which towns have a chart.", True),
        ("The text doesn't mention a cartographer.", True),
        ("Context does not specify the code.", True),
        ("The passage names Fenby.", False),
        ("The text does not, however, stop at Fenby: Kelholt too.", False),
        ("Passage 4: the code is 4798-BADGER.", False),
    ],
)
def test_an_answer_that_says_its_passage_holds_nothing_is_not_found(answer, nothing):
    assert is_not_found(answer) is nothing


def test_replies_outside_the_format_still_count_as_unverified_answers():
    view = open_context(TEXT)
    plain = check(view, "The auditor said lunch.")
    assert plain.outcome == "found" and not plain.verified and not plain.formatted
    exact = check(view, "7391-ALPHA", "What is the vault access code?")  # word for word
    assert exact.verified and (exact.evidence[0].line, exact.evidence[0].line_end) == (2, 3)
    fenced = 'Sure.\n```json\n{"found": true, "answer": "7391-ALPHA", "quotes": []}\n```'
    assert parse_reply(fenced)[0].answer == "7391-ALPHA"
    assert check(view, fenced, "What is the vault access code?").verified


def test_folder_contexts_name_the_file_and_its_own_lines(tmp_path):
    (tmp_path / "a.txt").write_text("one\ntwo\nthree\n")
    (tmp_path / "b.txt").write_text("alpha\nThe vault access code is 7391-ALPHA.\n")
    evidence = locate(open_context(tmp_path), "vault access code is 7391-ALPHA")
    assert evidence.verified and (evidence.file, evidence.line) == ("b.txt", 2)
    assert evidence.where() == "b.txt, line 2"


def test_conflicting_verified_findings_are_shown_side_by_side():
    findings = [
        {"action": "CALL chunk:1", "call_id": "t1.1", "answer": "1204", "verified": True, "where": "line 9", "evidence": []},
        {"action": "CALL chunk:4", "call_id": "t1.4", "answer": "8812", "verified": True, "where": "line 70", "evidence": []},
        {"action": "CALL chunk:2", "call_id": "t1.2", "answer": "55-B", "verified": False, "where": "", "evidence": []},
    ]  # fmt: skip
    shown = render_findings(findings)
    lines = shown.splitlines()
    assert lines[0] == "- 1204  [verified: line 9] (chunk:1)"
    assert lines[2] == "- 55-B  [unverified] (chunk:2)"
    assert "Verified findings differ: 1204 (chunk:1) | 8812 (chunk:4)" in shown
    only_unverified = render_findings(findings[2:])
    assert "None of these is verified" in only_unverified
    # What a reducer reads: the unverified answer is counted, never shown beside verified ones.
    for_reducer = render_findings(findings, verified_only=True)
    assert "55-B" not in for_reducer and "1 other answer(s)" in for_reducer
    assert "55-B" in render_findings(findings[2:], verified_only=True)


def test_citations_back_the_final_answer_only_with_verified_findings():
    evidence = [{"quote": "code is 7391-ALPHA", "verified": True, "line": 3, "line_end": 3}]
    findings = [
        {"call_id": "t1.2", "answer": "55-B", "verified": False, "evidence": []},
        {"call_id": "t1.5", "answer": "7391-ALPHA", "verified": True, "evidence": evidence},
    ]
    assert [c["call_id"] for c in citations("The code is 7391-ALPHA.", findings)] == ["t1.5"]
    assert citations("55-B", findings) == []  # an unverified answer backs nothing
    # Every claim must be backed: one backed item beside an invented one is not grounded.
    assert citations("7391-ALPHA; 55-B", findings) == []


# Words of every haystack's first chunk, which no passage about the vault code says.
MISREAD = "the procurement group"


def inventing_and_quoting_leaves(messages):
    """One leaf misreads its slice (answers with its words, quoting a sentence that is not
    there), another quotes the true one."""
    text = leaf_text(messages)
    match = re.search(r"The vault access code is (\d{4}-ALPHA)\.", text)
    if match:
        return reply(True, match.group(1), [match.group(0)])
    if "Note 1." in text:  # the first chunk: a confident invention
        return reply(True, MISREAD, ["The storage room door code is the procurement group."])
    return reply(False)


async def test_an_invented_answer_loses_to_a_quoted_one_in_map_reduce():
    def respond(messages):
        if is_leaf_prompt(messages):
            return inventing_and_quoting_leaves(messages)
        assert is_reduce_prompt(messages)
        shown.append(str(messages[-1].content))
        first = re.search(r"^- .*?(\d+-[A-Z]+)", shown[-1], re.M)
        return first.group(1)  # a reducer that takes the first finding it is shown

    shown: list[str] = []

    model = planner(["unused"]).model_copy(update={"respond": respond})
    result = await make_rlm(model, planner="map-reduce").ainvoke(
        {"query": "What is the vault access code?", "context": make_haystack(20_000, seed=3)}
    )
    # The invention came first in the document; the verified finding is shown first.
    assert result.answer == "7391-ALPHA" and result.grounded
    assert result.citations and result.citations[0]["call_id"] != "t1.1"
    leaves = {r.target: r for r in result.records if r.kind == "leaf"}
    assert leaves["chunk:0"].verified is False and leaves["chunk:0"].answer == MISREAD
    assert MISREAD not in shown[0]  # the reducer is not shown the invention at all


async def test_an_answer_nothing_backs_is_flagged_not_presented_as_found():
    def turns(messages, turn):
        if turn == 0:
            return chunk_calls("What is the vault access code?", 3)
        return 'FINAL("55-B")'  # a planner that trusts the invention

    model = planner(turns, leaf=inventing_and_quoting_leaves)
    result = await make_rlm(model).ainvoke(
        {"query": "What is the vault access code?", "context": make_haystack(20_000, seed=3)}
    )
    assert result.answer == "not found" and result.unverified_answer == "55-B"
    assert not result.grounded and result.citations == []
    assert result.to_json()["grounded"] is False


async def test_planner_sees_each_childs_standing(haystack):
    seen = []

    def turns(messages, turn):
        seen.append(str(messages[-1].content))
        return chunk_calls("What is the vault access code?", 8) if turn == 0 else 'FINAL("x")'

    await make_rlm(planner(turns, leaf=inventing_and_quoting_leaves)).ainvoke(
        {"query": "What is the vault access code?", "context": haystack}
    )
    results = seen[1]
    assert f"CALL chunk:0 -> {MISREAD}  [unverified: no passage of its text backs it]" in results
    assert re.search(r"-> 7391-ALPHA  \[verified: line \d+\]", results)
    assert "CALL chunk:1 -> not found" in results


@pytest.mark.parametrize("route", ["direct", "recursive"])
async def test_citations_name_the_call_and_the_line(route, haystack):
    def turns(messages, turn):
        return (
            chunk_calls("What is the vault access code?", 8) if turn == 0 else 'FINAL("7391-ALPHA")'
        )

    direct_below = None if route == "direct" else 0
    text = haystack if route == "recursive" else "Intro.\nThe vault access code is 7391-ALPHA.\n"
    result = await make_rlm(
        planner(turns, leaf=inventing_and_quoting_leaves), direct_below=direct_below
    ).ainvoke({"query": "What is the vault access code?", "context": text})
    assert result.route == route and result.grounded
    citation = result.citations[0]
    assert citation["verified"] and citation["line"] >= 1 and "7391-ALPHA" in citation["quote"]
    assert citation["call_id"] == ("t1" if route == "direct" else "t1.7")


async def test_an_unbacked_final_is_sent_back_once_while_verified_findings_exist(haystack):
    seen = []

    def turns(messages, turn):
        seen.append("\n".join(str(m.content) for m in messages[-2:]))
        if turn == 0:
            return chunk_calls("What is the vault access code?", 8)
        if turn == 1:
            return 'FINAL("55-B  [unverified]")'  # the invention, mark and all
        return 'FINAL("7391-ALPHA [verified: line 95]")'

    result = await make_rlm(planner(turns, leaf=inventing_and_quoting_leaves)).ainvoke(
        {"query": "What is the vault access code?", "context": haystack}
    )
    assert "FINAL('55-B') is not backed by the text" in seen[2]
    assert "Verified findings: 7391-ALPHA" in seen[2]
    # The second look is a forced answer, with the verified findings in front of it.
    assert prompts.FORCE_REASON_REVIEW in seen[2] and "- 7391-ALPHA  [verified" in seen[2]
    assert result.answer == "7391-ALPHA" and result.grounded  # marks stripped, answer backed


async def test_an_unbacked_final_is_accepted_the_second_time_and_flagged(haystack):
    def turns(messages, turn):
        return chunk_calls("What is the vault code?", 8) if turn == 0 else 'FINAL("55-B")'

    result = await make_rlm(planner(turns, leaf=inventing_and_quoting_leaves)).ainvoke(
        {"query": "What is the vault access code?", "context": haystack}
    )
    assert result.unverified_answer == "55-B"
    assert result.usage.model_calls == 8 + 3  # plan, leaves, the bounced FINAL, the accepted one
    # Nothing backs it, and a leaf verified the code: that is the answer, the FINAL kept apart.
    assert result.answer == "7391-ALPHA" and result.grounded and result.found


def test_a_real_sentence_quoted_beside_an_invented_answer_does_not_verify():
    """The quote is in the text, but it says nothing of the answer: a small model's invention
    wrapped in a true sentence stays unverified."""
    view = open_context(TEXT)
    question = "What is the vault access code?"
    invented = check(view, reply(True, "noon", ["Lunch is at noon."]), question)
    assert invented.outcome == "found" and not invented.verified
    # The right answer with an unrelated quote: verified by the answer itself, located at the
    # answer's sentence, never at the unrelated one.
    right = check(view, reply(True, "7391-ALPHA", ["Lunch is at noon."]), question)
    assert right.verified and [(e.line, e.line_end) for e in right.evidence] == [(2, 3)]


async def test_a_leaf_cut_off_at_its_output_limit_still_answers(haystack):
    """The OpenAI client refuses a JSON-schema reply that hit the output limit
    (``LengthFinishReasonError``); what the model wrote is still read as its reply."""
    from openai import LengthFinishReasonError
    from openai.types.chat import ChatCompletion

    def leaf(messages):
        text = leaf_text(messages)
        if "7391-ALPHA" not in text:
            return reply(False)
        cut = '{"found": true, "answer": "7391-ALPHA", "quotes": ["The vault access code is 7391-ALPHA.", "The vault'
        completion = ChatCompletion.model_validate(
            {
                "id": "x", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": cut}}],
                "usage": {"prompt_tokens": 700, "completion_tokens": 1024, "total_tokens": 1724},
            }
        )  # fmt: skip
        raise LengthFinishReasonError(completion=completion)

    def turns(messages, turn):
        return chunk_calls("find the code", 8) if turn == 0 else 'FINAL("7391-ALPHA")'

    result = await make_rlm(planner(turns, leaf=leaf)).ainvoke(
        {"query": "What is the vault access code?", "context": haystack}
    )
    (found,) = [r for r in result.records if r.kind == "leaf" and r.outcome == "found"]
    assert found.status == "done" and found.error is None
    assert found.answer == "7391-ALPHA" and found.verified
    assert found.usage.output_tokens == 1024  # what the server reported, not an estimate
    assert result.grounded


async def test_a_final_that_names_every_verified_finding_is_taken_at_once(haystack):
    def turns(messages, turn):
        return (
            chunk_calls("What is the vault code?", 8)
            if turn == 0
            else 'FINAL("The code is 7391-ALPHA.")'
        )

    model = planner(turns, leaf=inventing_and_quoting_leaves)
    result = await make_rlm(model).ainvoke(
        {"query": "What is the vault access code?", "context": haystack}
    )
    assert result.answer == "The code is 7391-ALPHA." and result.grounded
    assert result.usage.model_calls == 8 + 2  # no second look


# ----- verified means relevant and supporting, for every answer shape -------------------------

ESSAY = (
    "Paul wrote that programmers should learn Lisp. Some people write in Latin to look clever.\n"
    "The best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny "
    "day.\nThe Halden observatory stands on a hill. It first opened to visitors on 14 March "
    "1987.\nThe Torvik ferry carries 312 passengers on each crossing.\n"
    "The lighthouse on Marrow Point was restored by Ingrid Castellanos.\n"
    "def parse_header(line):\n    return line.split(':', 1)\n"
    "The settings are read from config/app.toml at start-up.\n"
)


@pytest.mark.parametrize(
    ("shape", "question", "answer"),
    [
        ("sentence", "What is the best thing to do in San Francisco?", "eat a sandwich and sit in Dolores Park on a sunny day"),
        ("date", "When did the Halden observatory first open?", "14 March 1987"),
        ("number", "How many passengers does the Torvik ferry carry on each crossing?", "312"),
        ("name", "Who restored the lighthouse on Marrow Point?", "Ingrid Castellanos"),
        ("paraphrase", "Which person carried out the restoration of the Marrow Point lighthouse?", "Ingrid Castellanos"),
        ("function", "Which function splits a header line?", "parse_header"),
        ("path", "Where are the settings read from?", "config/app.toml"),
        ("code", "What is the vault access code?", "7391-ALPHA"),
    ],
)  # fmt: skip
def test_a_right_answer_in_each_shape_verifies(shape, question, answer):
    view = open_context(ESSAY + "The vault access code is 7391-ALPHA.\n")
    verdict = check(view, reply(True, answer, []), question)
    assert verdict.verified, shape
    (passage,) = verdict.evidence
    assert answer.casefold() in passage.quote.casefold()


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("What is the best thing to do in San Francisco?", "write in Latin"),
        ("When did the Halden observatory first open?", "312"),
        ("Who restored the lighthouse on Marrow Point?", "Paul"),
        ("How many passengers does the Torvik ferry carry on each crossing?", "1987"),
    ],
)
def test_a_verbatim_but_irrelevant_passage_is_not_verified(question, answer):
    """The string occurs in the text, and its sentence is about something else."""
    verdict = check(open_context(ESSAY), reply(True, answer, []), question)
    assert verdict.outcome == "found" and not verdict.verified


@pytest.mark.parametrize(
    ("question", "passage", "asked", "said"),
    [
        # Another key before the same noun: the fact is about a different thing.
        (
            "What shipping tag does the crate marked birch carry?",
            "The crate marked lagoon carries the shipping tag 9641-PLOVER.",
            "birch carry",
            "lagoon carries",
        ),
        (
            "In which town does Bram Yarrowby's mentor live?",
            "Jory Varrow's mentor is Wilhelmina Marchbank.",
            "yarrowby s mentor",
            "varrow s mentor",
        ),
        (
            "How many passengers does the ferry from the south quay carry?",
            "The ferry from the north quay carries 148 passengers.",
            "south quay",
            "north quay",
        ),
    ],
)
def test_the_same_words_said_of_another_thing_are_not_about_the_question(
    question, passage, asked, said
):
    found = contrasted(question, passage)
    assert found is not None and (found.asked, found.said) == (asked, said)
    assert not relevant(question, passage)
    # With the question's own key in place the passage is about it.
    right = passage.replace(said.split()[0], asked.split()[0])
    right = right.replace(said.split()[0].capitalize(), asked.split()[0].capitalize())
    right = right.replace("Jory", "Bram")
    assert contrasted(question, right) is None and relevant(question, right)


@pytest.mark.parametrize(
    ("question", "passage"),
    [
        # Rewordings: another noun before the same "of X", after the same modifier, another
        # relation word, another verb before a name.
        ("Which cartographer produced the earliest chart of Kelcombe?", "The first map of Kelcombe was drawn by Jory Ollerton."),
        ("Which combination lets someone into the obsidian records store?", "The access code for the obsidian archive is 9810-PUFFIN."),
        ("At what altitude is the telescope station near Yarhaven?", "The observatory above Yarhaven stands 4,413 metres above sea level."),
        ("Who sold Ilsa Pennimore a boat?", "It should be implemented Ilsa Pennimore bought a boat from Edda Quennell."),
        ("Which function calls `_wait` to wait?", "# wait for them: return await _wait(fs, timeout)"),
        ("Which function splits a header line?", "def parse_header(line):"),
        # what stands before a code name in lower case is no key of it (fresh seed 61)
        ("Which functions call `readuntil`?", "line = await self.readuntil(sep)"),
        ("Who calls `self.scan_once`?", "value, end = scan_once(s, end)"),
    ],
)  # fmt: skip
def test_a_reworded_question_is_no_contrast(question, passage):
    assert contrasted(question, passage) is None


SOURCE = """# file: base_futures.py
import reprlib


def isfuture(obj):
    return hasattr(obj.__class__, '_asyncio_future_blocking')

# file: staggered.py
async def staggered_race(coro_fns, delay):
    async def run_one_coro(previous_failed):
        return await coro_fns[0]()
"""


@pytest.mark.parametrize(
    "question",
    [
        "Which file defines the function `run_one_coro`?",
        "Which file defines run_one_coro?",
        "Which file defines the function runOneCoro?",
    ],
)
def test_a_file_header_is_not_about_a_question_naming_a_code_identifier(question):
    """Measured on the bench's code task (seed 7): a leaf answered "base_futures.py" and quoted
    the file's header line, which holds none of the question's identifier, and was verified:
    a code identifier, lower case or not, is a name the passage must hold."""
    verdict = check(open_context(SOURCE), reply(True, "base_futures.py", []), question)
    assert verdict.outcome == "found" and not verdict.verified


def test_code_identifiers_are_names_of_a_question():
    assert named_terms("Which file defines the function `run_one_coro`?") == ["run_one_coro"]
    assert named_terms("Which functions call _format_callbacks?") == ["_format_callbacks"]
    assert named_terms("What does getEventLoop return?") == ["geteventloop"]
    assert named_terms("Which function splits a header line?") == []
    # Word for word: a passage naming ``_waiter`` is not about ``_wait``.
    question = "Which function calls `_wait` to wait for the futures?"
    assert relevant(question, "    # wait for the futures: return await _wait(fs, timeout)")
    assert not relevant(question, "    # wait for the futures: waiter = self._waiter = None")


@pytest.mark.parametrize(
    ("question", "answer", "verified"),
    [
        ("How many passengers does the ferry carry on each crossing?", "The Torvik ferry", False),
        ("How many passengers does the ferry carry on each crossing?", "312 passengers", True),
        ("How many passengers does the ferry carry?", "three hundred and twelve", True),
        ("In what year did the bridge open?", "Orland", False),
        ("In what year did the bridge open?", "1931", True),
    ],
)  # fmt: skip
def test_a_question_that_asks_for_a_figure_is_not_backed_by_a_name(question, answer, verified):
    """The sentence says both the subject and the figure: only the figure answers."""
    text = ESSAY.replace("312 passengers", "312 passengers (three hundred and twelve)")
    text += "The Orland bridge opened in 1931.\n"
    verdict = check(open_context(text), reply(True, answer, []), question)
    assert verdict.outcome == "found" and verdict.verified is verified
    assert bool(citations(answer, [_finding(verdict)], question)) is verified


def _finding(verdict) -> dict:
    return {
        "call_id": "t1.1",
        "answer": verdict.answer,
        "verified": True,  # as a leaf would have it without the check: the final's own
        "evidence": [item.model_dump() for item in verdict.evidence],
    }


def test_a_fragment_quote_is_widened_to_its_sentence_before_it_is_judged():
    view = open_context(ESSAY)
    verdict = check(
        view, reply(True, "Ingrid Castellanos", ["restored by Ingrid"]), "Who restored the lighthouse on Marrow Point?"
    )  # fmt: skip
    assert verdict.verified
    assert (
        verdict.evidence[0].quote
        == "The lighthouse on Marrow Point was restored by Ingrid Castellanos."
    )
    # The same fragment, asked about something it does not say: widened, then refused.
    other = check(
        view, reply(True, "Ingrid", ["restored by Ingrid"]), "Who designed the Torvik ferry?"
    )
    assert not other.verified


def test_an_answer_that_echoes_the_question_is_not_an_answer():
    question = (
        "This file holds several essays. For each essay, say in one line what it is mainly about."
    )
    view = open_context("=== Essay 1 ===\nSeveral essays say what it is about.\n")
    assert check(view, reply(True, question, [question]), question).outcome == "not_found"
    assert check(view, reply(True, "essays", []), question).outcome == "not_found"
    lookup = "What is the vault access code?"
    assert (
        check(open_context(TEXT), reply(True, "the vault access code", []), lookup).outcome
        == "not_found"
    )


async def test_an_echoed_final_is_refused(haystack):
    question = "What is the vault access code?"
    seen = []

    def turns(messages, turn):
        seen.append(str(messages[-1].content))
        return f'FINAL("{question}")' if turn == 0 else 'FINAL("7391-ALPHA")'

    await make_rlm(planner(turns)).ainvoke({"query": question, "context": haystack})
    assert "FINAL has no answer in it" in seen[1]


async def test_an_absent_fact_gives_not_found_and_is_not_grounded(haystack):
    """The 0.5B's habit: leaves invent answers on text without the fact, and the planner
    believes one. Nothing backs it: the answer is "not found", grounded false, and the run
    says so in --json."""

    def leaf(messages):
        return reply(True, "The code is 4417-LIME.", ["The code is 4417-LIME."])

    def turns(messages, turn):
        return (
            chunk_calls("What is the boiler room code?", 3) if turn == 0 else 'FINAL("4417-LIME")'
        )

    result = await make_rlm(planner(turns, leaf=leaf)).ainvoke(
        {"query": "What is the boiler room code?", "context": haystack}
    )
    assert result.answer == "not found" and not result.found and not result.grounded
    assert result.unverified_answer == "4417-LIME"
    out = result.to_json()
    assert (out["found"], out["grounded"], out["answer"]) == (False, False, "not found")


async def test_a_one_answer_question_gets_one_answer_from_a_forced_list():
    import dataclasses

    from rlm_graph.models import resolve_model

    lines = make_haystack(20_000, seed=3).split("\n")
    lines.insert(40, "An earlier note said the vault access code was 1111-OLD, since changed.")

    def turns(messages, turn):
        if "Reply with a JSON object" in str(messages[-1].content):
            return json.dumps({"answers": ["7391-ALPHA", "1111-OLD"]})
        return chunk_calls("What is the vault access code?", 12)  # it stalls

    model = dataclasses.replace(resolve_model(planner(turns)), json_schema=True)
    result = await make_rlm(model).ainvoke(
        {"query": "What is the vault access code?", "context": "\n".join(lines)}
    )
    assert result.answer == "7391-ALPHA" and ";" not in result.answer and result.grounded


async def test_a_list_question_gets_every_verified_item_a_line_each():
    import dataclasses

    from rlm_graph.models import resolve_model

    lines = make_haystack(20_000, seed=3).split("\n")
    planted = {"pebble": "1259-STOAT", "falcon": "3440-BISON", "granite": "4561-KESTREL"}
    for at, (key, code) in zip((10, 60, 110), planted.items(), strict=True):
        lines.insert(at, f"The access code for the {key} archive is {code}.")

    def leaf(messages):
        match = re.search(r"The access code for the (\w+) archive is (\S+)\.", leaf_text(messages))
        return reply(True, match.group(2), [match.group(0)]) if match else reply(False)

    def turns(messages, turn):
        last = str(messages[-1].content)
        if "Reply with a JSON object" in last:
            return json.dumps({"answers": re.findall(r"^- (\S+)", last, re.M)})
        return chunk_calls("What is the access code of each archive?", 12)

    model = dataclasses.replace(resolve_model(planner(turns, leaf=leaf)), json_schema=True)
    question = "List every archive the text mentions with its access code."
    result = await make_rlm(model).ainvoke({"query": question, "context": "\n".join(lines)})
    assert result.answer.splitlines() == list(planted.values())
    assert result.grounded and len({c["call_id"] for c in result.citations}) == 3


async def test_an_answer_read_off_a_grep_line_is_grounded(haystack):
    def turns(messages, turn):
        return 'GREP("vault access code")' if turn == 0 else 'FINAL("7391-ALPHA")'

    result = await make_rlm(planner(turns)).ainvoke(
        {"query": "What is the vault access code?", "context": haystack}
    )
    assert result.answer == "7391-ALPHA" and result.grounded
    (citation,) = result.citations
    assert citation["quote"] == "The vault access code is 7391-ALPHA." and citation["line"] > 1


@pytest.mark.parametrize(
    ("final", "answer"),
    [
        # The 0.5B ran on past its answer into a line it had read: the tail is left out.
        (
            "The vault access code is 7391-ALPHA. provides a value using the 'yield' expression.",
            "The vault access code is 7391-ALPHA.",
        ),
        ("7391-ALPHA. For example:", "7391-ALPHA."),
        # Every sentence backed: nothing is left out.
        ("The vault access code is 7391-ALPHA. It is 7391-ALPHA.", None),
    ],
)
async def test_a_sentence_nothing_backs_is_left_out_of_a_backed_line(haystack, final, answer):
    def turns(messages, turn):
        return 'GREP("vault access code")' if turn == 0 else f"FINAL({json.dumps(final)})"

    result = await make_rlm(planner(turns)).ainvoke(
        {"query": "What is the vault access code?", "context": haystack}
    )
    assert result.answer == (answer or final) and result.grounded


def test_a_line_of_stop_words_is_no_item_of_a_list_answer():
    """Measured on the 0.5B (seed 34): "These," stood as the first line of a grounded list,
    backed by any finding that holds the word."""
    from rlm_graph.graph.findings import without_echoes

    question = "For each town whose people gather on feast days, what do they gather to do?"
    answer = "These,\nThe people of Selcombe gather to sample pickled walnuts."
    assert (
        without_echoes(answer, question)
        == "The people of Selcombe gather to sample pickled walnuts."
    )


async def test_a_line_of_only_unbacked_sentences_is_not_trimmed_into_grounding(haystack):
    final = "The vault access code is 7391-ALPHA.\nThe boiler code is 4417-LIME. It opens at noon."

    def turns(messages, turn):
        return 'GREP("vault access code")' if turn == 0 else f"FINAL({json.dumps(final)})"

    result = await make_rlm(planner(turns)).ainvoke(
        {"query": "What is the vault access code?", "context": haystack}
    )
    assert not result.grounded and result.answer == "not found"


DRIFTED_FACT = "The source character set is defined by the encoding declaration."
DRIFTED_TASK = "What defines the source character set?"


@pytest.mark.parametrize(
    ("question", "grounded"),
    [
        (DRIFTED_TASK, True),  # the child's task is the question: its passage grounds it
        ("For each town whose people gather on feast days, what do they gather to do?", False),
        ("What is the vault access code?", False),
    ],
)
async def test_a_child_verified_on_a_task_of_its_own_grounds_only_that_question(question, grounded):
    """A planner that drifts CALLs for another question than the user's (the 0.5B, asked about
    feast-day customs, asked its leaves what defines the source character set). The leaf's
    answer is verified for its task; the user's question is answered only by a passage about
    it."""
    lines = make_haystack(20_000, seed=3).split("\n")
    lines.insert(30, DRIFTED_FACT)

    def leaf(messages):
        if DRIFTED_FACT in leaf_text(messages):
            return reply(True, "the encoding declaration", [DRIFTED_FACT])
        return reply(False)

    shown: list[str] = []

    def turns(messages, turn):
        if turn == 0:
            return chunk_calls(DRIFTED_TASK, 12)
        shown.append(str(messages[-1].content))
        return 'FINAL("the encoding declaration")'

    result = await make_rlm(planner(turns, leaf=leaf)).ainvoke(
        {"query": question, "context": "\n".join(lines)}
    )
    assert any(r.kind == "leaf" and r.verified for r in result.records)  # verified for its task
    # The planner reads it as its question's standing, not its child's task's.
    mark = "the encoding declaration  [verified" if grounded else "not about the question]"
    assert mark in shown[0]
    assert result.grounded is grounded
    if grounded:
        assert [c["quote"] for c in result.citations] == [DRIFTED_FACT]
    else:
        assert result.answer == "not found" and not result.citations


async def test_a_grep_line_about_something_else_grounds_nothing():
    text = make_haystack(20_000, seed=3).replace(
        "The vault access code is 7391-ALPHA.", "The locker code is 5520-BETA."
    )

    def turns(messages, turn):
        return 'GREP("code")' if turn == 0 else 'FINAL("5520-BETA")'

    result = await make_rlm(planner(turns)).ainvoke(
        {"query": "What is the vault access code?", "context": text}
    )
    assert result.answer == "not found" and not result.grounded


PARTS = [
    ("Lighthouses", "Lighthouses guide ships along dangerous coasts with lamps and lenses."),
    ("Bread", "Bread is baked from flour, water and yeast, then left to rise."),
    ("Volcanoes", "Volcanoes erupt molten rock, ash and gases from deep below."),
]
PER_PART_QUESTION = (
    "The text holds 3 parts. For each part, say in one line what it is mainly about."
)


def part_reader(tasks: list[str]):
    """A leaf that says what its slice is about from the sentence it holds."""

    def leaf(messages):
        body = leaf_text(messages)
        tasks.append(str(messages[-1].content).rsplit("Task: ", 1)[-1])
        topic, sentence = next((t, b) for t, b in PARTS if b in body)
        return reply(True, f"{topic}: {sentence.split(' ', 1)[1]}", [sentence])

    return leaf


def no_planner(messages):
    raise AssertionError("the per-part step needs no planner or reducer turn")


@pytest.mark.parametrize("repeat", [10, 400], ids=["part-per-call", "long-parts-in-pieces"])
async def test_a_per_part_question_sends_each_part_its_own_task(repeat):
    """Each section gets a CALL (or, when too long for one, a CALL per piece) with the part's
    own task; the answer is one line per section, titled, in order, and grounded."""
    text = "".join(f"=== Part {i} ===\n{body * repeat}\n" for i, (_, body) in enumerate(PARTS, 1))
    tasks: list[str] = []
    leaf = part_reader(tasks)
    model = planner(no_planner, leaf=leaf).model_copy(
        update={"respond": lambda m: leaf(m) if is_leaf_prompt(m) else no_planner(m)}
    )
    result = await make_rlm(model, chunk_tokens=300).ainvoke(
        {"query": PER_PART_QUESTION, "context": text}
    )
    assert tasks and all(t.startswith("Say in one line what it is mainly about") for t in tasks)
    assert all("For each part" not in t for t in tasks)
    targets = [r.target for r in result.records if r.kind == "leaf"]
    if repeat == 10:
        assert targets == ["section:1", "section:2", "section:3"]
    else:
        assert len(targets) > 3 and all(t.startswith("chars:") for t in targets)
    lines = result.answer.splitlines()
    assert [line.split(":")[:2] for line in lines] == [
        [f"Part {i}", f" {topic}"] for i, (topic, _) in enumerate(PARTS, 1)
    ]
    assert result.grounded and result.found


async def test_a_part_nothing_verifies_is_marked_and_the_answer_not_grounded():
    text = "".join(f"=== Part {i} ===\n{body * 40}\n" for i, (_, body) in enumerate(PARTS, 1))
    tasks: list[str] = []
    reader = part_reader(tasks)

    def leaf(messages):
        if "Bread" in leaf_text(messages):
            return reply(True, "Ships and harbours", ["Ships sail into harbours at night."])
        return reader(messages)

    model = planner(no_planner, leaf=leaf)
    result = await make_rlm(model).ainvoke({"query": PER_PART_QUESTION, "context": text})
    lines = result.answer.splitlines()
    assert lines[1] == "Part 2: Ships and harbours (unverified)"
    assert lines[0].startswith("Part 1: Lighthouses") and not result.grounded


async def test_a_sentence_of_a_part_that_names_nothing_it_is_about_does_not_back_its_line():
    """Fresh seeds 79 and 80: asked what each part is about, a leaf answered with a sentence
    deep in its part ("The positional information can be missing.", in the part on Python's
    types): located, so verified, and the whole answer grounded while that line was wrong. A
    line now counts only when it names what sets its part apart (its first lines, or its
    most distinctive words against the other parts)."""
    bread = (
        "Bread is baked from flour, water and yeast, then left to rise.\n"
        "Bakers knead the dough and shape loaves before the oven warms.\n"
    ) * 20 + "Some notes were written in the margin later.\n"
    bodies = [PARTS[0][1] * 20, bread, PARTS[2][1] * 20]
    text = "".join(f"=== Part {i} ===\n{body}\n" for i, body in enumerate(bodies, 1))
    reader = part_reader([])
    aside = "Some notes were written in the margin later."

    def answering(off_topic: bool):
        def leaf(messages):
            if "Bakers knead" in leaf_text(messages):
                said = aside if off_topic else "Bakers knead the dough and shape loaves."
                return reply(True, said, [said])
            return reader(messages)

        return leaf

    aside_run = await make_rlm(planner(no_planner, leaf=answering(True))).ainvoke(
        {"query": PER_PART_QUESTION, "context": text}
    )
    lines = aside_run.answer.splitlines()
    assert lines[1] == f"Part 2: {aside} (unverified)" and not aside_run.grounded
    assert lines[0].startswith("Part 1: Lighthouses") and "(unverified)" not in lines[0]
    # The leaf located it: only the part's topic is missing.
    assert any(r.kind == "leaf" and r.answer == aside and r.verified for r in aside_run.records)
    on_topic = await make_rlm(planner(no_planner, leaf=answering(False))).ainvoke(
        {"query": PER_PART_QUESTION, "context": text}
    )
    assert on_topic.grounded and "(unverified)" not in on_topic.answer
    # What a part says of a thing is no question of what it is about: any sentence may answer.
    said_of = await make_rlm(planner(no_planner, leaf=answering(True))).ainvoke(
        {"query": "For each part, what does it say about the margin?", "context": text}
    )
    assert said_of.answer.splitlines()[1] == f"Part 2: {aside}"


async def first_part_quoted_whole(first: str):
    """A per-part run whose first part is ``first``, which its leaf answers and quotes whole."""
    text = f"=== Part 1 ===\n{first}\n" + "".join(
        f"=== Part {i} ===\n{body * 10}\n" for i, (_, body) in enumerate(PARTS[1:], 2)
    )
    reader = part_reader([])

    def leaf(messages):
        return reply(True, first, [first]) if first in leaf_text(messages) else reader(messages)

    return await make_rlm(planner(no_planner, leaf=leaf)).ainvoke(
        {"query": PER_PART_QUESTION, "context": text}
    )


async def test_a_part_s_line_is_its_paragraph_s_leading_sentences_and_still_grounded():
    """Fresh seed 64: asked for one line, a leaf answered with a whole 820-character
    paragraph it quoted; the line keeps its leading sentences, backed as the paragraph was."""
    paragraph = " ".join(
        f"Lighthouse keeper number {i} trimmed the wicks and polished the great lens at dusk."
        for i in range(1, 11)
    )
    assert len(paragraph) > MAX_PART_LINE_CHARS
    result = await first_part_quoted_whole(paragraph)
    first = result.answer.splitlines()[0]
    assert first.startswith("Part 1: Lighthouse keeper number 1 trimmed")
    assert len(first) <= MAX_PART_LINE_CHARS + len("Part 1: ")
    assert first.removeprefix("Part 1: ") in paragraph and first.endswith("at dusk.")
    assert result.grounded


async def test_a_part_s_line_that_never_ends_is_cut_at_a_word_and_still_grounded():
    """Fresh seed 82: the 0.5B's line for one part looped a phrase with no full stop for
    thousands of characters; a part's line is one line, cut at a word."""
    sentence = (
        "Lighthouse keepers trimmed the wicks, polished the lenses, wound the clockwork, "
        + ", ".join(f"logged passing ship number {i}" for i in range(1, 30))
        + " before dawn."
    )
    assert len(sentence) > 2 * MAX_PART_LINE_CHARS
    result = await first_part_quoted_whole(sentence)
    first = result.answer.splitlines()[0].removeprefix("Part 1: ")
    assert first.endswith(" ...") and len(first) <= MAX_PART_LINE_CHARS + len(" ...")
    assert sentence.startswith(first.removesuffix(" ...")) and result.grounded


async def test_the_judge_refuses_a_passage_about_another_thing(haystack):
    """Word overlap lets "the archive of granite" answer a question about the archive of
    cobalt when the question's key word is lowercase (after its noun, so no contrast of words
    before a shared noun either); the judge, reading the passage alone, does not."""
    text = haystack.replace(
        "The vault access code is 7391-ALPHA.",
        "The access code for the archive of granite is 7710-HERON.",
    )

    def leaf(messages):
        match = re.search(
            r"The access code for the archive of granite is (\S+)\.", leaf_text(messages)
        )
        return reply(True, match.group(1), [match.group(0)]) if match else reply(False)

    def cautious_judge(messages):
        passage = str(messages[-1].content)
        asked = "cobalt" in passage.rsplit("Question:", 1)[-1]
        return json.dumps(
            {
                "found": not asked or "cobalt" in passage.split("Question:")[0],
                "answer": "7710-HERON",
            }
        )

    def turns(messages, turn):
        return (
            chunk_calls("What is the access code for the archive of cobalt?", 11)
            if turn == 0
            else 'FINAL("7710-HERON")'
        )

    question = "What is the access code for the archive of cobalt?"
    model = planner(turns, leaf=leaf).model_copy(update={"judge": cautious_judge})
    with_judge = await make_rlm(model, judge=True).ainvoke({"query": question, "context": text})
    assert with_judge.answer == "not found" and not with_judge.grounded
    judged = [r for r in with_judge.records if r.kind == "leaf" and r.outcome == "found"]
    assert judged and all(r.verified is False for r in judged)
    assert judged[0].usage.model_calls == 2  # the leaf and the judge
    # The same run without the judge: word overlap alone lets the other archive through.
    model = planner(turns, leaf=leaf).model_copy(update={"judge": cautious_judge})
    without = await make_rlm(model, judge=False).ainvoke({"query": question, "context": text})
    assert without.grounded


def test_an_answer_that_says_back_the_leafs_instructions_is_not_an_answer():
    said_back = (
        "The task is about the part as a whole, summarizing, listing or counting what it holds."
    )
    question = "What is the best thing to do in San Francisco?"
    assert check(open_context(ESSAY), reply(True, said_back, []), question).outcome == "not_found"


def test_an_unquoted_answer_with_talk_of_its_own_is_found_in_the_slices_sentences():
    question = "What is the best thing to do in San Francisco?"
    answer = (
        "In San Francisco, eating a sandwich and sitting in Dolores Park on a sunny day is the "
        "best thing to do. Many visitors also enjoy the cable cars."
    )
    verdict = check(open_context(ESSAY), reply(True, answer, []), question)
    assert verdict.verified and verdict.answer == answer.split(". ")[0] + "."
    assert verdict.evidence[0].quote.startswith("The best thing to do in San Francisco is")


def test_a_second_fact_the_slice_says_elsewhere_is_never_trimmed_away():
    """Multi-hop: the second sentence is said by a passage about someone else; cutting it would
    leave a grounded answer that has lost the fact asked for."""
    text = "Corvin Abernathy reports to Bram Halloran.\nLunch is at noon.\nBram Halloran works in the Corbury office.\n"
    question = "In which office does Corvin Abernathy's manager work?"
    answer = "Corvin Abernathy reports to Bram Halloran. Bram Halloran works in the Corbury office."
    verdict = check(open_context(text), reply(True, answer, []), question)
    assert verdict.answer == answer and not verdict.verified


def test_words_that_ask_are_neither_added_nor_restated_by_an_answer():
    """Measured on the 0.5B (seed 29, multi-niah, codes): every leaf answered "The text
    mentions the canyon archive, which is 3712-HERON.", and none was said: "text" and
    "mentions" counted as restated words the passage lacks."""
    question = "Which archives does the text mention, and what is the access code for each archive?"
    passage = "The access code for the canyon archive is 3712-HERON."
    assert says(
        "The text mentions the canyon archive, which is 3712-HERON.", passage, question=question
    )
    assert not says(
        "The text mentions the canyon archive, which is 4539-CONDOR.", passage, question=question
    )
    # Still: a restated answer must hold half of what it restates.
    chain = "In which office does Maelis Thistlewood's manager work?"
    middle = "Maelis Thistlewood's manager works in the office of Zofia Dunstaple."
    assert not says(middle, "Maelis Thistlewood reports to Zofia Dunstaple.", question=chain)


def test_a_line_of_the_slice_an_answer_ran_on_into_is_trimmed_away():
    """The 0.5B ran on past its answer into a line of its slice that names nothing of it."""
    text = (
        "The ferry from Morholt carries 470 passengers on each crossing.\n"
        "Lunch is served at noon.\nThis is a shortcut for 'reversed(d.keys())'.\n"
    )
    question = "How many passengers does the ferry from Morholt carry on each crossing?"
    answer = "The ferry from Morholt carries 470 passengers on each crossing. This is a shortcut for 'reversed(d.keys())'."
    verdict = check(open_context(text), reply(True, answer, []), question)
    assert verdict.verified
    assert verdict.answer == "The ferry from Morholt carries 470 passengers on each crossing."


def quoting_leaf(messages):
    """A leaf that quotes the vault-code sentence of its slice, whichever code it names."""
    match = re.search(r"The vault access code is (\d{4}-ALPHA)\.", leaf_text(messages))
    return reply(True, match.group(1), [match.group(0)]) if match else reply(False)


async def test_a_conflict_is_reported_beside_the_answer_the_planner_picked(haystack):
    """Two parts of the text give different codes: the planner answers with one, and the
    result names the other with where it stands (in --json as ``conflicts``)."""
    at = len(haystack) * 3 // 4
    cut = haystack.index("\n", at) + 1
    text = haystack[:cut] + "The vault access code is 2208-ALPHA.\n" + haystack[cut:]

    def turns(messages, turn):
        if turn == 0:
            return chunk_calls("What is the vault access code?", 12)
        return final_from_results(messages)

    result = await make_rlm(planner(turns, leaf=quoting_leaf)).ainvoke(
        {"query": "What is the vault access code?", "context": text}
    )
    assert result.answer == "7391-ALPHA" and result.grounded
    assert [c["answer"] for c in result.conflicts] == ["2208-ALPHA"]
    assert result.conflicts[0]["where"].startswith("line")
    assert "2208-ALPHA" in result.conflicts[0]["quote"]
    assert result.to_json()["conflicts"] == result.conflicts


async def test_one_code_throughout_reports_no_conflict(haystack):
    def turns(messages, turn):
        return (
            chunk_calls("What is the vault access code?", 12)
            if turn == 0
            else (final_from_results(messages))
        )

    result = await make_rlm(planner(turns, leaf=quoting_leaf)).ainvoke(
        {"query": "What is the vault access code?", "context": haystack}
    )
    assert result.answer == "7391-ALPHA" and result.grounded and result.conflicts == []


async def test_a_call_repeated_on_its_target_in_new_words_is_answered_from_the_record(haystack):
    seen: list[str] = []

    def turns(messages, turn):
        seen.append(str(messages[-1].content))
        if turn == 0:
            return chunk_calls("What is the vault access code?", 12)
        if turn == 1:  # the same question in other words, and a new one, on the same chunks
            return (
                'CALL("Find the access code of the vault", "chunk:0")\n'
                'CALL("Who wrote the audit report?", "chunk:0")'
            )
        return final_from_results(messages)

    result = await make_rlm(planner(turns, leaf=quoting_leaf)).ainvoke(
        {"query": "What is the vault access code?", "context": haystack}
    )
    tasks_on_chunk0 = [r.task for r in result.records if r.target == "chunk:0"]
    assert tasks_on_chunk0 == ["What is the vault access code?", "Who wrote the audit report?"]
    assert "(repeated call, first answer)" in seen[2]


async def test_a_call_that_sets_a_child_s_answer_as_its_task_is_answered_from_the_record(
    haystack,
):
    """The 0.5B read every chunk, then sent a child's unverified answer ("Everyone who moves
    to Pelholt soon learns to listen to organ ...") as the task of CALLs over the chunks
    already read, twice: 36k tokens more, nothing new. Such a CALL on a part already read is
    answered from that part's record; on a part not read yet, and a new question, it runs."""
    question = "What is the vault access code?"
    claim = "everyone there soon learns to listen to organ recitals in the palm house"
    seen: list[str] = []

    def leaf(messages):
        if "vault access code" in leaf_text(messages):
            return quoting_leaf(messages)
        return reply(True, claim, [claim])  # found nowhere in the text: unverified

    def turns(messages, turn):
        seen.append(str(messages[-1].content))
        if turn == 0:
            return chunk_calls(question, 3)
        if turn == 1:
            return (
                f'CALL("{claim}", "chunk:0")\nCALL("{claim.capitalize()}.", "chunk:1")\n'
                f'CALL("{claim}", "chunk:5")\nCALL("Who wrote the audit report?", "chunk:1")'
            )
        return final_from_results(messages)

    result = await make_rlm(planner(turns, leaf=leaf)).ainvoke(
        {"query": question, "context": haystack}
    )
    tasks = [(r.target, r.task) for r in result.records if r.kind == "leaf"]
    assert ("chunk:0", claim) not in tasks and ("chunk:1", f"{claim.capitalize()}.") not in tasks
    assert ("chunk:5", claim) in tasks  # a part not read yet
    assert ("chunk:1", "Who wrote the audit report?") in tasks
    assert seen[2].count("(repeated call, first answer)") == 2


async def test_a_call_about_a_name_from_an_answer_runs_only_where_the_text_names_it(haystack):
    """The 0.5B got one leaf's guess ("Rhosyn Thistlewood") for a fact the text lacks and sent
    "Which craftsperson repaired Rhosyn Thistlewood?" to all 18 chunks again: 2.38x the text
    read. A task about a name some child answered, and the question does not name, runs only
    on parts that name it; a task on the question's own names runs everywhere."""
    question = "Which craftsperson repaired Yarholt's public timepiece?"
    sentence = "Orla Brennick mended the clock above the market hall in May."
    at = haystack.index("\n", len(haystack) * 3 // 5) + 1
    text = haystack[:at] + sentence + "\n" + haystack[at:]
    hop = "Which craftsperson repaired Orla Brennick?"
    seen: list[str] = []

    def leaf(messages):
        found = sentence in leaf_text(messages)
        return reply(True, "Orla Brennick", [sentence]) if found else reply(False)

    def turns(messages, turn):
        seen.append(str(messages[-1].content))
        if turn == 0:
            return chunk_calls(question, 10)
        if turn == 1:
            return chunk_calls(hop, 10) + '\nCALL("Who mended the Yarholt clock?", "chunk:0")'
        return 'FINAL("not found")'

    result = await make_rlm(planner(turns, leaf=leaf)).ainvoke({"query": question, "context": text})
    leaves = [r for r in result.records if r.kind == "leaf"]
    first = [r.target for r in leaves if r.task == question]
    again = [r.target for r in leaves if r.task == hop]
    (named,) = [r.target for r in leaves if r.task == question and "Orla" in (r.answer or "")]
    assert len(first) == 10 and again == [named]  # only the part that names her read again
    assert "chunk:0" in [r.target for r in leaves if r.task.startswith("Who mended")]
    assert prompts.NOT_NAMED_CALLS.format(count=9, names="orla brennick") in seen[2]


def test_a_name_a_task_takes_from_an_answer_is_told_from_the_question_s_own():
    question = "Where was the person who sold Fennick Sallow a boat born?"
    said = ["Nerys Cobbold", "The harbour opens in 1850."]
    assert borrowed_names("Where was Nerys Cobbold born?", question, said) == ["nerys", "cobbold"]
    assert borrowed_names("Who sold Fennick Sallow a boat?", question, said) == []
    assert borrowed_names("What does chunk 1850 say?", question, said) == []  # a figure
    assert never_named(["nerys", "cobbold"], "The boat was sold at Tarnford harbour.")
    assert not never_named(["nerys", "cobbold"], "Mrs Cobbold was born in Tarnford.")


def test_a_task_that_restates_an_answer_is_told_from_a_question():
    said = ["Everyone who moves to Pelholt soon learns to listen to organ recitals."]
    assert restates_an_answer("Everyone who moves to Pelholt soon learns to listen", said)
    assert restates_an_answer("everyone who moves to pelholt soon learns to listen to organ "
                              "recitals. Check this.", said)  # fmt: skip
    assert not restates_an_answer("What does everyone who moves to Pelholt learn?", said)
    assert not restates_an_answer("Summarize this part", ["Summarize"])  # too short to say


@pytest.mark.parametrize(
    ("task", "earlier", "same"),
    [
        ("Find the access code of the Orion archive", "What is the Orion archive's access code?", True),
        ("What is the access code for the Lyra archive?", "What is the access code for the Orion archive?", False),
        ("Where does Tom Berg work?", "Who does Maria Chen report to?", False),
        ("List the functions defined in this part", "What is this part about?", False),
        ("What is the secret code?", "What is the secret code mentioned in the text?", True),
    ],
)  # fmt: skip
def test_a_task_in_other_words_is_told_from_another_task(task, earlier, same):
    assert rewords(task, earlier) is same


def test_an_unquoted_summary_in_the_texts_own_words_is_backed_sentence_by_sentence():
    text = (
        "=== Part 2 ===\nStrings implement all of the common sequence operations, along with the "
        "additional methods described below. Strings also support two styles of formatting.\n"
    )
    task = "Say in one line what it is mainly about (for the part of the text you are given)"
    restated = "Strings implement the common sequence operations, with additional methods."
    verdict = check(open_context(text), reply(True, restated), task)
    assert verdict.verified and "sequence operations" in verdict.evidence[0].quote
    invented = "Strings implement common sequence operations. Bananas grow on tropical farms."
    assert not check(open_context(text), reply(True, invented), task).verified


async def test_a_list_line_that_says_back_the_question_is_left_out_of_the_answer(haystack):
    """The 0.5B, asked "for each town the text names the best thing to do in", listed "to do
    in" as an item: its stop words were "said" by the passage, and the answer was grounded."""
    question = "Which vault access codes does the text give, for each vault it names?"

    def turns(messages, turn):
        if turn == 0:
            return chunk_calls(question, 12)
        return 'FINAL("7391-ALPHA\\nfor each vault it names")'

    result = await make_rlm(planner(turns, leaf=quoting_leaf)).ainvoke(
        {"query": question, "context": haystack}
    )
    assert result.answer == "7391-ALPHA" and result.grounded


def test_a_part_line_whose_answer_has_a_semicolon_of_its_own_is_backed():
    """`Part 1: A; B` splits into the claims "Part 1: A" and "B": the first is backed by the
    finding "A; B" once its label is set aside (measured: a per-part answer on the 0.5B lost
    its grounding this way with every part verified)."""
    evidence = [{"quote": "It must be last; it matches any exception.", "verified": True}]
    findings = [
        {"call_id": "t1.3", "answer": "It must be last; it matches any exception.", "verified": True, "evidence": evidence},
    ]  # fmt: skip
    final = "Part 1: It must be last; it matches any exception."
    assert citations(final, findings, PER_PART_QUESTION)
    assert not citations("Part 1: It must be first; it matches any exception.", findings, "")


def test_an_answer_copying_a_note_of_ours_repeats_system_text():
    note = prompts.REPEATED_CALLS.format(count=18).removeprefix("note: ")
    assert repeats_system_text(note) and echoes(note, "How many records have label invoice?")
    assert repeats_system_text(f"The answer: {prompts.FORCE_REASON_STALLED} Sorry.")
    assert not repeats_system_text("The vault access code is 7391-ALPHA, as the note says.")
    # A piece of a sentence of ours is copied too (fresh seed 80, a per-part leaf's line): as
    # the leaf's answer it is no answer, though half its words are about the part.
    piece = (
        "The part holds the answer about the part as a whole, summarizing the lexical "
        "definitions and identifying reserved words."
    )
    assert repeats_system_text(piece) and echoes(piece, PER_PART_QUESTION)
    part = "Identifiers (also referred to as names) are described by the lexical definitions."
    verdict = check(open_context(part), reply(True, piece, [part]), PER_PART_QUESTION)
    assert verdict.outcome == "not_found"
    # Other people's prose is not taken for ours: no sentence of Python's help text is.
    import pydoc_data.topics

    text = "\n".join(pydoc_data.topics.topics.values())
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 6]
    assert len(sentences) > 2000 and not any(map(repeats_system_text, sentences))
    # Nor is any line of other people's code and docstrings.
    import argparse
    import difflib

    lines = [line for m in (argparse, difflib) for line in inspect.getsource(m).splitlines()]
    assert len(lines) > 4000 and not any(map(repeats_system_text, lines))


def test_an_answer_located_whole_across_a_sentence_boundary_is_trimmed_to_what_is_about():
    """Fresh seed 39 (0.5B): the leaf ran on past the needle into the next line of the slice,
    the whole of it stood there, and its passage (both sentences) said it: the answer was
    verified and grounded with "execution of the 'finally' clause." in it."""
    lines = make_haystack(6_000, seed=8).split("\n")
    needle = "The public baths of Brinmoor first opened on February 18, 1969."
    lines[20:20] = [needle, "execution of the finally clause."]
    question = "On what date did the public baths of Brinmoor first open?"
    ran_on = f"{needle} execution of the finally clause."
    verdict = check(open_context("\n".join(lines)), reply(True, ran_on, [ran_on]), question)
    assert verdict.verified and verdict.answer == needle
    assert [item.quote for item in verdict.evidence] == [needle]


@pytest.mark.parametrize("scrap", ["names)", "slice is"])
def test_an_answer_said_by_most_of_its_words_loses_the_scrap_it_ran_on_into(scrap):
    """Fresh seed 51 (0.5B): a scrap of the next line after the needle's full stop is too short
    to keep the whole answer from being said by the needle's sentence, and stood in a grounded
    line ("... on each crossing. names)"). The sentences the backing says are the answer."""
    lines = make_haystack(6_000, seed=8).split("\n")
    needle = "The ferry from Velwick carries 1,311 passengers on each crossing."
    lines[20:20] = [needle, f"{scrap} a sequence of the same type, looked up in the table."]
    question = "How many passengers does the ferry from Velwick carry on each crossing?"
    ran_on = f"{needle} {scrap}"
    verdict = check(open_context("\n".join(lines)), reply(True, ran_on, [ran_on]), question)
    assert verdict.verified and verdict.answer == needle
    assert [item.quote for item in verdict.evidence] == [needle]


def test_a_two_sentence_answer_its_passage_says_whole_is_kept_whole():
    lines = make_haystack(6_000, seed=8).split("\n")
    fact = "The ferry from Velwick carries 1,311 passengers. It sails at dawn from the quay."
    lines[20:20] = [fact]
    question = "How many passengers does the ferry from Velwick carry, and when does it sail?"
    verdict = check(open_context("\n".join(lines)), reply(True, fact, [fact]), question)
    assert verdict.verified and verdict.answer == fact


def test_a_part_read_in_pieces_joins_them_in_one_line_within_its_length():
    from rlm_graph.graph.messages import Finding
    from rlm_graph.graph.per_part import compose

    text = "".join(f"=== Part {i} ===\n{body * 40}\n" for i, (_, body) in enumerate(PARTS, 1))
    view = open_context(text)
    first = view.sections()[0]
    half = (first.start + first.end) // 2
    long_answer = " ".join(f"Piece sentence {i} says more about lamps." for i in range(20))
    findings = [
        Finding(
            action=f"CALL chars:{first.start}-{half}", answer="Lamps and lenses.", verified=True
        ),
        Finding(action=f"CALL chars:{half}-{first.end}", answer=long_answer, verified=True),
    ]
    line = compose(view, findings).splitlines()[0]
    assert line.startswith("Part 1: Lamps and lenses; Piece sentence 0 says more about lamps")
    assert ".;" not in line and len(line) <= MAX_PART_LINE_CHARS + len("Part 1: ")
