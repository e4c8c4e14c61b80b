"""Answers you can trust: leaves quote their text, the framework checks the quotes, an invented
answer cannot win by being first, and the final answer says what backs it."""

from __future__ import annotations

import json
import re

import pytest

from rlm_graph import prompts
from rlm_graph.context import open_context
from rlm_graph.evidence import check, locate, parse_reply, supports
from rlm_graph.graph.findings import citations, render_findings
from rlm_graph.samples import make_haystack
from rlm_graph.testing import is_leaf_prompt, is_reduce_prompt, leaf_text
from tests.unit.conftest import chunk_calls, make_rlm, planner

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
        open_context(TEXT), reply(True, "55-B", ["The storage room door code is 55-B."])
    )
    assert verdict.outcome == "found" and not verdict.verified
    assert all(not e.verified for e in verdict.evidence)


def test_quotes_joined_by_an_ellipsis_must_appear_in_order():
    view = open_context(TEXT)
    assert locate(view, "The vault access code ... said the auditor").verified
    assert not locate(view, "said the auditor ... The vault access code").verified
    assert not locate(view, "code").verified  # too short to prove anything


def test_not_found_is_an_outcome_not_a_string():
    view = open_context(TEXT)
    for text in (reply(False), "NOT FOUND", "  not found. ", reply(True, "NOT FOUND")):
        assert check(view, text).outcome == "not_found"


def test_replies_outside_the_format_still_count_as_unverified_answers():
    view = open_context(TEXT)
    plain = check(view, "The code is 55-B.")
    assert plain.outcome == "found" and not plain.verified and not plain.formatted
    exact = check(view, "7391-ALPHA")  # the answer itself, word for word in the text
    assert exact.verified and exact.evidence[0].line == 3
    fenced = 'Sure.\n```json\n{"found": true, "answer": "7391-ALPHA", "quotes": []}\n```'
    assert parse_reply(fenced)[0].answer == "7391-ALPHA" and check(view, fenced).verified


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
    assert supports("7391-alpha", "The code is 7391-ALPHA", [])
    assert not supports("no", "7391-ALPHA", [])


def inventing_and_quoting_leaves(messages):
    """One leaf invents an answer (copied from nowhere), another quotes the true one."""
    text = leaf_text(messages)
    match = re.search(r"The vault access code is (\d{4}-ALPHA)\.", text)
    if match:
        return reply(True, match.group(1), [match.group(0)])
    if "Note 1." in text:  # the first chunk: a confident invention
        return reply(True, "55-B", ["The storage room door code is 55-B."])
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
    assert leaves["chunk:0"].verified is False and leaves["chunk:0"].answer == "55-B"
    assert "55-B" not in shown[0]  # the reducer is not shown the invention at all


async def test_an_answer_nothing_backs_is_flagged_not_presented_as_found():
    def turns(messages, turn):
        if turn == 0:
            return chunk_calls("What is the vault access code?", 3)
        return 'FINAL("55-B")'  # a planner that trusts the invention

    model = planner(turns, leaf=inventing_and_quoting_leaves)
    result = await make_rlm(model).ainvoke(
        {"query": "What is the vault access code?", "context": make_haystack(20_000, seed=3)}
    )
    assert result.answer == "55-B" and not result.grounded and result.citations == []
    assert result.to_json()["grounded"] is False


async def test_planner_sees_each_childs_standing(haystack):
    seen = []

    def turns(messages, turn):
        seen.append(str(messages[-1].content))
        return chunk_calls("What is the vault access code?", 8) if turn == 0 else 'FINAL("x")'

    await make_rlm(planner(turns, leaf=inventing_and_quoting_leaves)).ainvoke(
        {"query": "q", "context": haystack}
    )
    results = seen[1]
    assert "CALL chunk:0 -> 55-B  [unverified: no passage of its text backs it]" in results
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


async def test_a_leaf_that_copies_the_prompts_example_has_found_nothing(haystack):
    from rlm_graph import prompts

    copied = prompts.LEAF_EXAMPLES[0][1]  # the worked example's own reply, word for word

    def turns(messages, turn):
        return chunk_calls("What is the vault access code?", 2) if turn == 0 else 'FINAL("x")'

    result = await make_rlm(planner(turns, leaf=lambda m: copied)).ainvoke(
        {"query": "q", "context": haystack}
    )
    leaves = [r for r in result.records if r.kind == "leaf"]
    assert [(r.outcome, r.answer) for r in leaves] == [("not_found", None)] * 2


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
        {"query": "q", "context": haystack}
    )
    assert "FINAL('55-B') is not backed by the text" in seen[2]
    assert "Verified findings: 7391-ALPHA" in seen[2]
    # The second look is a forced answer, with the verified findings in front of it.
    assert prompts.FORCE_REASON_REVIEW in seen[2] and "7391-ALPHA.  [verified" in seen[2]
    assert result.answer == "7391-ALPHA" and result.grounded  # marks stripped, answer backed


async def test_an_unbacked_final_is_accepted_the_second_time_and_flagged(haystack):
    def turns(messages, turn):
        return chunk_calls("q", 8) if turn == 0 else 'FINAL("55-B")'

    result = await make_rlm(planner(turns, leaf=inventing_and_quoting_leaves)).ainvoke(
        {"query": "q", "context": haystack}
    )
    assert result.answer == "55-B" and not result.grounded
    assert result.usage.model_calls == 8 + 3  # plan, leaves, the bounced FINAL, the accepted one


def test_a_real_sentence_quoted_beside_an_invented_answer_does_not_verify():
    """The quote is in the text, but it says nothing of the answer: a small model's invention
    wrapped in a true sentence stays unverified."""
    view = open_context(TEXT)
    invented = check(view, reply(True, "55-B", ["Lunch is at noon."]))
    assert invented.outcome == "found" and not invented.verified
    # The right answer with an unrelated quote: verified by the answer itself, located at the
    # answer, never at the unrelated sentence.
    right = check(view, reply(True, "7391-ALPHA", ["Lunch is at noon."]))
    assert right.verified and [e.line for e in right.evidence] == [3]


@pytest.mark.parametrize(
    ("answer", "quote", "backed"),
    [
        ("7391-ALPHA", "The vault access code is 7391-ALPHA.", True),
        ("The code is 7391-ALPHA", "the vault access code is 7391-alpha", True),
        ("55-B", "The vault access code is 7391-ALPHA.", False),
        ("terminated with 30 days notice", "may terminate upon thirty (30) days notice", True),
        ("terminated with 60 days notice", "may terminate upon thirty (30) days notice", False),
        ("Paris", "The meeting moved to Monday.", False),
        ("yes", "The meeting moved to Monday.", True),
    ],
)
def test_a_quote_backs_an_answer_only_when_it_holds_its_facts(answer, quote, backed):
    from rlm_graph.evidence import backs

    assert backs(answer, quote) is backed


def test_a_right_code_in_the_models_own_words_verifies_by_the_code():
    """ "The NAME archive is 7391-ALPHA" with a misquoted sentence: the code itself stands in
    the slice, so the answer is verified by the sentence around it; an invented code stands
    nowhere."""
    view = open_context(TEXT)
    misquoted = ["The access code for the NAME archive is 7391-ALPHA."]
    right = check(view, reply(True, "NAME archive is 7391-ALPHA", misquoted))
    sentence = "The vault access code is 7391-ALPHA, said the auditor."
    assert right.verified and right.answer == "NAME archive is 7391-ALPHA"
    assert [(e.quote, e.line, e.line_end) for e in right.evidence] == [(sentence, 2, 3)]
    invented = check(view, reply(True, "NAME archive is 7391-BETA", misquoted))
    assert not invented.verified
    assert not check(view, reply(True, "the 1932 bridge", [])).verified  # too short to prove


def test_an_answer_half_invented_is_restated_in_the_texts_own_words():
    """One code of the answer is in the slice and one is not (or a name like ``archive1`` the
    model made up): the finding is the sentence that holds the real code, and the invention
    is gone from it."""
    view = open_context(TEXT)
    mixed = check(view, reply(True, "archive1: 7391-ALPHA, archive2: 8812-BETA", []))
    assert mixed.verified
    assert mixed.answer == "The vault access code is 7391-ALPHA, said the auditor."
    assert "8812-BETA" not in mixed.answer and "archive1" not in mixed.answer
    assert not check(view, reply(True, "archive1: 8812-BETA", [])).verified


def test_in_a_listing_the_passage_around_a_code_is_its_line():
    """Text with no sentence ends near the code (source, logs): the passage is the code's own
    line, not the listing above it."""
    listing = "".join(f"object.__op{i}__(self, other)\n" for i in range(30))
    text = listing + "The access code for the birch archive is 7561-STOAT.\n" + listing
    found = check(open_context(text), reply(True, "archive1 is 7561-STOAT", []))
    assert found.verified
    assert found.answer == "The access code for the birch archive is 7561-STOAT."
    assert [e.line for e in found.evidence] == [31]


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


def several_codes_leaves(messages):
    """Each chunk holding one of the planted codes finds it, with its sentence."""
    text = leaf_text(messages)
    match = re.search(r"The access code for the (\w+) archive is (\d{4}-[A-Z]+)\.", text)
    if match:
        return reply(True, f"NAME archive is {match.group(2)}", [])  # own words, no quote
    return reply(False)


async def test_a_final_that_leaves_verified_findings_out_is_looked_at_again():
    """Asked for every archive, a small model answers with the first finding it reads; shown
    the findings it left out, it names them all."""
    lines = make_haystack(20_000, seed=3).split("\n")
    planted = {"pebble": "1259-STOAT", "falcon": "3440-BISON", "granite": "4561-KESTREL"}
    for at, (key, code) in zip((10, 60, 110), planted.items(), strict=True):
        lines.insert(at, f"The access code for the {key} archive is {code}.")
    seen = []

    def turns(messages, turn):
        seen.append("\n".join(str(m.content) for m in messages[-2:]))
        if turn == 0:
            return chunk_calls("List every archive with its access code", 12)
        if turn == 1:
            return 'FINAL("pebble: 1259-STOAT")'
        codes = re.findall(r"^- .*?(\d{4}-[A-Z]+)", seen[-1], re.M)
        return f'FINAL("{", ".join(codes)}")'

    result = await make_rlm(planner(turns, leaf=several_codes_leaves)).ainvoke(
        {"query": "List every archive with its access code", "context": "\n".join(lines)}
    )
    assert "leaves out verified findings: NAME archive is 3440-BISON" in seen[2]
    assert all(code in result.answer for code in planted.values()), result.answer
    # Cited by the sentences of the text that hold the codes, not by the bare codes.
    sentences = {
        f"The access code for the {key} archive is {code}." for key, code in planted.items()
    }
    assert result.grounded and {c["quote"] for c in result.citations} == sentences


async def test_a_final_that_names_every_verified_finding_is_taken_at_once(haystack):
    def turns(messages, turn):
        return chunk_calls("q", 8) if turn == 0 else 'FINAL("The code is 7391-ALPHA.")'

    model = planner(turns, leaf=inventing_and_quoting_leaves)
    result = await make_rlm(model).ainvoke({"query": "q", "context": haystack})
    assert result.answer == "The code is 7391-ALPHA." and result.grounded
    assert result.usage.model_calls == 8 + 2  # no second look


async def test_the_planner_reads_the_quote_of_a_verified_answer_that_says_less():
    """A leaf answers "granite archive" and quotes the sentence with the code: the planner is
    shown the quote, and a FINAL with the code is grounded by that finding."""
    lines = make_haystack(20_000, seed=3).split("\n")
    lines.insert(60, "The access code for the granite archive is 4561-KESTREL.")
    sentence = "The access code for the granite archive is 4561-KESTREL."

    def leaf(messages):
        if sentence in leaf_text(messages):
            return reply(True, "granite archive", [sentence])
        return reply(False)

    seen = []

    def turns(messages, turn):
        seen.append(str(messages[-1].content))
        if turn == 0:
            return chunk_calls("Which archives, with their codes?", 12)
        code = re.search(r'\[verified: line \d+\] "The access code .* is (\S+)\."', seen[-1])
        return f'FINAL("granite: {code.group(1)}")'

    result = await make_rlm(planner(turns, leaf=leaf)).ainvoke(
        {"query": "Which archives, with their codes?", "context": "\n".join(lines)}
    )
    assert result.answer == "granite: 4561-KESTREL" and result.grounded
    assert result.citations[0]["quote"] == sentence


def test_findings_that_differ_are_named_by_the_facts_their_quotes_hold():
    quote = {"quote": "The access code for the granite archive is 4561-KESTREL.", "verified": True, "line": 9, "line_end": 9}  # fmt: skip
    findings = [
        {"action": "CALL chunk:1", "call_id": "t1.1", "answer": "granite archive", "verified": True, "where": "line 9", "evidence": [quote]},
        {"action": "CALL chunk:4", "call_id": "t1.4", "answer": "3440-BISON", "verified": True, "where": "line 70", "evidence": []},
    ]  # fmt: skip
    shown = render_findings(findings)
    assert (
        "Verified findings differ: The access code for the granite archive is 4561-KESTREL. "
        "(chunk:1) | 3440-BISON (chunk:4)"
    ) in shown


async def test_a_forced_answer_lists_every_finding_it_rests_on():
    """Asked for a list, the last forced turn names all three findings; each is read without
    the marks and targets it was copied with."""
    import dataclasses

    from rlm_graph.models import resolve_model

    lines = make_haystack(20_000, seed=3).split("\n")
    planted = {"pebble": "1259-STOAT", "falcon": "3440-BISON", "granite": "4561-KESTREL"}
    for at, (key, code) in zip((10, 60, 110), planted.items(), strict=True):
        lines.insert(at, f"The access code for the {key} archive is {code}.")

    def leaf(messages):
        match = re.search(r"The access code for the (\w+) archive is \S+\.", leaf_text(messages))
        return reply(True, f"{match.group(1)} archive", [match.group(0)]) if match else reply(False)

    seen = []

    def turns(messages, turn):
        seen.append(str(messages[-1].content))
        if "Reply with a JSON object" in seen[-1]:
            return json.dumps({"answers": re.findall(r"^- (.*)$", seen[-1], re.M)})
        return chunk_calls("Which archives, with their codes?", 12)  # again: it stalls

    chat = planner(turns, leaf=leaf)
    model = dataclasses.replace(resolve_model(chat), json_schema=True)
    result = await make_rlm(model).ainvoke(
        {"query": "Which archives, with their codes?", "context": "\n".join(lines)}
    )
    # Led by their quotes, every line the same shape.
    assert "- The access code for the pebble archive is 1259-STOAT.  [verified: line" in seen[-1]
    assert result.answer == "; ".join(
        f"The access code for the {key} archive is {code}." for key, code in planted.items()
    )
    assert result.grounded and len({c["call_id"] for c in result.citations}) == 3
