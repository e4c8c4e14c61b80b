"""The action protocol: text, JSON and tool-call forms all parse into the same ParsedTurn."""

from __future__ import annotations

import json
import random

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from rlm_graph.protocol import (
    ACTION_TOOLS,
    NO_ACTION_ERROR,
    Action,
    ActionsPayload,
    ParsedTurn,
    parse_turn,
    payload_to_turn,
    render_actions,
    strip_think,
)
from rlm_graph.protocol.text_form import CUT_OFF


def ops(turn: ParsedTurn) -> list[str]:
    return [action.op for action in turn.actions]


def only(turn: ParsedTurn) -> Action:
    assert turn.errors == [], turn.errors
    assert len(turn.actions) == 1, turn.actions
    return turn.actions[0]


# --- text form: each op ---------------------------------------------------------------


def test_text_call() -> None:
    action = only(parse_turn('CALL("Summarize the termination clauses", "chunk:5")'))
    assert action == Action(op="call", task="Summarize the termination clauses", target="chunk:5")


def test_text_peek() -> None:
    assert only(parse_turn('PEEK("lines:120-180")')) == Action(op="peek", target="lines:120-180")


def test_text_grep_with_and_without_target() -> None:
    assert only(parse_turn('GREP("termination|terminate")')) == Action(
        op="grep", pattern="termination|terminate"
    )
    assert only(parse_turn(r'GREP("\d+ days", "chunk:2")')) == Action(
        op="grep", pattern=r"\d+ days", target="chunk:2"
    )


def test_text_final() -> None:
    assert only(parse_turn('FINAL("42")')).answer == "42"


def test_several_actions_in_order_with_prose_comments_and_fence() -> None:
    text = """I will split the work.
```python
CALL("Summarize the termination clauses", "chunk:5")   # sub-RLM on a slice
PEEK("lines:120-180")
# FINAL("this line is a comment, not an action")
GREP("termination|terminate")            # optional 2nd arg: a target
```
Then I am done: FINAL("The contract can be terminated with 30 days notice.")
"""
    turn = parse_turn(text)
    assert turn.errors == []
    assert ops(turn) == ["call", "peek", "grep", "final"]
    assert turn.actions[3].answer == "The contract can be terminated with 30 days notice."


def test_trailing_comment_is_not_an_action() -> None:
    turn = parse_turn('PEEK("chunk:1")  # and later FINAL("nope")')
    assert ops(turn) == ["peek"]
    assert turn.errors == []


def test_multiline_and_triple_quoted_final() -> None:
    text = (
        'FINAL("""Line one (with parens)\nLine "two"\n# not a comment\nCALL("not", "an action")""")'
    )
    action = only(parse_turn(text))
    assert (
        action.answer
        == 'Line one (with parens)\nLine "two"\n# not a comment\nCALL("not", "an action")'
    )


def test_raw_newline_inside_plain_string_is_accepted() -> None:
    assert only(parse_turn('FINAL("first line\nsecond line")')).answer == "first line\nsecond line"


def test_escaped_quotes_and_single_quotes() -> None:
    assert only(parse_turn(r'FINAL("He said \"hi\" (twice)")')).answer == 'He said "hi" (twice)'
    assert only(parse_turn("CALL('Find the \\'fee\\'', 'chunk:2')")) == Action(
        op="call", task="Find the 'fee'", target="chunk:2"
    )
    assert only(parse_turn("""PEEK('lines:1-20')""")).target == "lines:1-20"


def test_keyword_arguments_and_synonyms() -> None:
    assert only(parse_turn('CALL(task="List the parties", target="chunk:3")')) == Action(
        op="call", task="List the parties", target="chunk:3"
    )
    assert only(parse_turn('CALL(target="chunk:1", query="Who signed?")')).task == "Who signed?"
    assert only(parse_turn('GREP(regex="fee", target="chunk:0")')).pattern == "fee"
    assert only(parse_turn('FINAL(answer="done")')).answer == "done"


def test_lowercase_names_are_accepted_but_not_prose() -> None:
    assert ops(parse_turn('final("ok")')) == ["final"]
    assert ops(parse_turn('Peek("chunk:2")')) == ["peek"]
    # lowercase with a space before "(" reads as prose, not an action
    assert parse_turn("Let me peek (briefly) at the data.").errors == [NO_ACTION_ERROR]
    # part of a longer word or a method call
    assert parse_turn('recall("x", "y") and self.final("z")').errors == [NO_ACTION_ERROR]


def test_parens_inside_strings_do_not_confuse_the_scan() -> None:
    turn = parse_turn('CALL("Count the ) and ( signs", "chunk:1")\nFINAL(")")')
    assert turn.errors == []
    assert turn.actions[0].task == "Count the ) and ( signs"
    assert turn.actions[1].answer == ")"


# --- text form: lenient FINAL -----------------------------------------------------------


def test_unquoted_final_is_taken_raw() -> None:
    assert only(parse_turn("FINAL(The answer is 42)")).answer == "The answer is 42"
    assert only(parse_turn("FINAL(The firm's revenue (2023) was $5M)")).answer == (
        "The firm's revenue (2023) was $5M"
    )


def test_non_string_literal_final() -> None:
    assert only(parse_turn("FINAL(42)")).answer == "42"
    assert only(parse_turn("FINAL(3.5)")).answer == "3.5"


def test_final_with_unescaped_inner_quotes_keeps_them() -> None:
    assert only(parse_turn('FINAL("The clause says "30 days" clearly")')).answer == (
        'The clause says "30 days" clearly'
    )


def test_unclosed_final_takes_the_rest_without_error() -> None:
    turn = parse_turn('PEEK("chunk:0")\nFINAL("The contract ends after 30 days (notice\nand then')
    assert turn.errors == []
    assert ops(turn) == ["peek", "final"]
    assert turn.actions[1].answer == "The contract ends after 30 days (notice\nand then"


def test_unclosed_triple_quoted_final_in_a_fence() -> None:
    action = only(parse_turn('```\nFINAL("""Part one\npart two\n```'))
    assert action.answer == "Part one\npart two"


# --- text form: errors -----------------------------------------------------------------


def test_call_with_only_a_task_explains_the_form() -> None:
    turn = parse_turn('CALL("Summarize everything")')
    assert turn.actions == []
    assert len(turn.errors) == 1
    assert 'CALL("Summarize everything")' in turn.errors[0]
    assert 'CALL("task", "chunk:3")' in turn.errors[0]


def test_call_with_three_args_is_an_error() -> None:
    assert "exactly a task and a target" in parse_turn('CALL("a", "chunk:1", "x")').errors[0]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("PEEK()", "PEEK needs a target"),
        ('GREP("")', "pattern is empty"),
        ("GREP()", "GREP needs a regex pattern"),
        ('CALL("", "chunk:1")', "task is empty"),
        ("FINAL()", "FINAL needs an answer"),
        ('PEEK(["chunk:1"])', "must be a string"),
        ("PEEK(chunk_one)", "quoted strings"),
    ],
)
def test_missing_or_empty_arguments(text: str, needle: str) -> None:
    turn = parse_turn(text)
    assert turn.actions == []
    assert len(turn.errors) == 1
    assert needle in turn.errors[0]
    assert text in turn.errors[0]  # the offending snippet is quoted


def test_unterminated_string_in_call_is_reported_and_later_lines_still_parse() -> None:
    turn = parse_turn('CALL("abc\nPEEK("chunk:2")')
    assert ops(turn) == ["peek"]
    assert turn.errors == [
        'could not parse CALL("abc: unterminated string; write CALL("task", "chunk:3")'
    ]


def test_unbalanced_paren_is_reported() -> None:
    turn = parse_turn('GREP("fee", "chunk:1"\nPEEK("chunk:2")')
    assert ops(turn) == ["peek"]
    assert 'missing ")"' in turn.errors[0]


def test_a_last_action_cut_off_at_the_output_limit_is_named_not_echoed() -> None:
    # A reply that hit the output limit ends mid-action; echoing the fragment back taught the
    # 0.5B model to write it again, line after line.
    turn = parse_turn('CALL("q", "chunk:0")\nCALL("What is the access code for')
    assert [a.target for a in turn.actions] == ["chunk:0"]
    assert turn.errors == [CUT_OFF]
    assert "access code" not in turn.errors[0]


@pytest.mark.parametrize("answer", ["answer", "...", "Your answer", " the answer. ", "<answer>"])
def test_a_final_that_copies_the_placeholder_says_nothing(answer: str) -> None:
    (final,) = parse_turn(f'FINAL("{answer}")').actions
    assert final.placeholder


@pytest.mark.parametrize("answer", ["1932", "the answer is 42", "no", "東京"])
def test_a_final_with_content_is_no_placeholder(answer: str) -> None:
    (final,) = parse_turn(f'FINAL("{answer}")').actions
    assert not final.placeholder


def test_error_snippets_are_short() -> None:
    turn = parse_turn('CALL("' + "x" * 5000 + '")')
    assert len(turn.errors) == 1
    assert len(turn.errors[0]) < 250


def test_good_actions_survive_bad_ones() -> None:
    turn = parse_turn('CALL("only task")\nPEEK("chunk:1")\nGREP("")\nFINAL("ok")')
    assert ops(turn) == ["peek", "final"]
    assert len(turn.errors) == 2


# --- JSON form -------------------------------------------------------------------------


def test_json_actions_each_op_with_synonyms() -> None:
    payload = {
        "actions": [
            {"op": "call", "query": "List the parties", "target": "chunk:3"},
            {"op": "PEEK", "target": "lines:1-5"},
            {"op": "Grep", "regex": "fee", "target": "chunk:0"},
            {"op": "final", "text": "done"},
        ]
    }
    turn = parse_turn(json.dumps(payload))
    assert turn.errors == []
    assert turn.actions == [
        Action(op="call", task="List the parties", target="chunk:3"),
        Action(op="peek", target="lines:1-5"),
        Action(op="grep", pattern="fee", target="chunk:0"),
        Action(op="final", answer="done"),
    ]


def test_json_unknown_op_keeps_other_actions() -> None:
    text = json.dumps(
        {"actions": [{"op": "jump", "target": "x"}, {"op": "final", "content": "ok"}]}
    )
    turn = parse_turn(text)
    assert ops(turn) == ["final"]
    assert len(turn.errors) == 1
    assert 'unknown op "jump"' in turn.errors[0]


def test_json_fenced_with_prose() -> None:
    text = 'Here is my plan:\n```json\n{"actions": [{"op": "peek", "target": "chunk:0"}]}\n```\n'
    assert only(parse_turn(text)) == Action(op="peek", target="chunk:0")


def test_json_bare_action_object() -> None:
    assert only(parse_turn('{"op": "final", "answer": "yes"}')).answer == "yes"


def test_json_embedded_in_prose_without_fence() -> None:
    assert only(parse_turn('Sure. {"op": "final", "answer": "x"} Hope that helps.')).answer == "x"


def test_json_missing_field_is_an_error_in_json_terms() -> None:
    turn = parse_turn('{"actions": [{"op": "call", "task": "t"}]}')
    assert turn.actions == []
    assert '{"op": "call", "task": "...", "target": "chunk:3"}' in turn.errors[0]


def test_unrelated_json_falls_back_to_text() -> None:
    assert parse_turn('{"name": "x"}').errors == [NO_ACTION_ERROR]


# --- structured output and tools --------------------------------------------------------


def test_payload_schema_is_small_and_flat() -> None:
    schema = ActionsPayload.model_json_schema()
    dumped = json.dumps(schema)
    assert "$defs" not in dumped and "$ref" not in dumped
    assert len(dumped) < 2000
    item = schema["properties"]["actions"]["items"]
    assert item["properties"]["op"]["enum"] == ["call", "peek", "grep", "final"]
    assert item["required"] == ["op"]


def test_payload_to_turn_from_model_and_dict() -> None:
    payload = ActionsPayload.model_validate(
        {"actions": [{"op": "grep", "pattern": "fee"}, {"op": "final", "answer": "x"}]}
    )
    assert ops(payload_to_turn(payload)) == ["grep", "final"]
    assert ops(payload_to_turn({"op": "peek", "target": "chunk:1"})) == ["peek"]
    assert payload_to_turn({"actions": []}).errors == [NO_ACTION_ERROR]


def test_payload_with_strict_mode_empty_strings() -> None:
    # OpenAI strict mode makes every field required, so unused ones come back as "".
    turn = payload_to_turn(
        {"actions": [{"op": "peek", "task": "", "target": "chunk:1", "pattern": "", "answer": ""}]}
    )
    assert turn.actions == [Action(op="peek", target="chunk:1")]


def test_action_tools_are_openai_function_tools() -> None:
    assert [tool["function"]["name"] for tool in ACTION_TOOLS] == ["call", "peek", "grep", "final"]
    for tool in ACTION_TOOLS:
        assert tool["type"] == "function"
        assert tool["function"]["parameters"]["type"] == "object"
    call = ACTION_TOOLS[0]["function"]["parameters"]
    assert call["required"] == ["task", "target"]


def test_action_tools_bind_through_langchain() -> None:
    from langchain_core.utils.function_calling import convert_to_openai_tool

    for tool in ACTION_TOOLS:
        assert convert_to_openai_tool(tool) == tool


def test_tool_calls_each_op_in_order() -> None:
    message = AIMessage(
        content="",
        tool_calls=[
            {"name": "CALL", "args": {"task": "t", "target": "chunk:1"}, "id": "1"},
            {"name": "rlm_peek", "args": {"target": "chunk:2"}, "id": "2"},
            {"name": "grep", "args": {"regex": "fee"}, "id": "3"},
            {"name": "Final", "args": {"answer": "done"}, "id": "4"},
        ],
    )
    turn = parse_turn(message)
    assert turn.errors == []
    assert turn.actions == [
        Action(op="call", task="t", target="chunk:1"),
        Action(op="peek", target="chunk:2"),
        Action(op="grep", pattern="fee"),
        Action(op="final", answer="done"),
    ]


def test_tool_calls_win_over_text_content() -> None:
    message = AIMessage(
        content='FINAL("from text")',
        tool_calls=[{"name": "final", "args": {"answer": "from tool"}, "id": "1"}],
    )
    assert only(parse_turn(message)).answer == "from tool"


def test_tool_calls_with_bad_args_unknown_names_and_invalid_json() -> None:
    message = AIMessage(
        content="",
        tool_calls=[
            {"name": "call", "args": {"task": "t"}, "id": "1"},
            {"name": "search_web", "args": {"q": "x"}, "id": "2"},
            {"name": "peek", "args": {"target": "chunk:0"}, "id": "3"},
        ],
        invalid_tool_calls=[
            {"name": "final", "args": '{"answer": "unterminated', "id": "4", "error": None}
        ],
    )
    turn = parse_turn(message)
    assert ops(turn) == ["peek"]
    assert len(turn.errors) == 3
    assert 'call(task="...", target="chunk:3")' in turn.errors[0]
    assert "search_web" in turn.errors[1]
    assert "not valid JSON" in turn.errors[2]
    assert 'final(answer="...")' in turn.errors[2]


def test_hermes_tool_call_text() -> None:
    text = '<tool_call>\n{"name": "final", "arguments": {"answer": "42"}}\n</tool_call>'
    assert only(parse_turn(text)).answer == "42"


# --- messages, content blocks, think ---------------------------------------------------


def test_list_of_content_blocks() -> None:
    message = AIMessage(
        content=[
            {"type": "reasoning", "reasoning": 'FINAL("hidden")'},
            {"type": "text", "text": 'PEEK("chunk:0")'},
            'FINAL("shown")',
        ]
    )
    turn = parse_turn(message)
    assert turn.errors == []
    assert ops(turn) == ["peek", "final"]
    assert turn.actions[1].answer == "shown"


def test_any_message_type_and_plain_strings() -> None:
    assert ops(parse_turn(HumanMessage('PEEK("chunk:0")'))) == ["peek"]
    assert ops(parse_turn(AIMessage(content='GREP("x")'))) == ["grep"]


def test_think_blocks_are_stripped() -> None:
    text = '<think>Maybe FINAL("wrong")? CALL("x")</think>\nFINAL("right")'
    assert only(parse_turn(text)).answer == "right"
    # Qwen3 templates open <think> in the prompt: only the closing tag is in the reply.
    assert only(parse_turn('FINAL("wrong")</think>FINAL("right")')).answer == "right"
    # Ran out of tokens while thinking: nothing after <think> counts.
    assert parse_turn('<think>FINAL("half').errors == [NO_ACTION_ERROR]
    assert strip_think("a<THINKING>b</thinking>c") == "ac"


# --- rendering -------------------------------------------------------------------------


def test_render_round_trips() -> None:
    actions = [
        Action(op="call", task='Find "fees" (all)', target="chunk:3"),
        Action(op="peek", target="lines:1-5"),
        Action(op="grep", pattern=r"\d+ days", target="chunk:1"),
        Action(op="grep", pattern="fee"),
        Action(op="final", answer="It's\nmulti-line 'quoted' \"text\""),
    ]
    rendered = render_actions(actions)
    assert rendered.count("\n") == len(actions) - 1
    turn = parse_turn(rendered)
    assert turn.errors == []
    assert turn.actions == actions


# --- garbage never raises --------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   \n\n ",
        "(" * 1_000_000,
        ")" * 1000 + "(" * 1000,
        '"' * 100_000,
        "CALL(" * 50_000,
        "CALL(\n" * 40_000,
        'FINAL("' * 50_000,
        "<tool_call>" * 50_000,
        "{" * 100_000,
        "[" * 100_000,
        "```\n{" * 10_000,
        "CALL(" + "(" * 5000 + ")" * 5000 + ")",
        "PEEK('a')" * 10_000,
        "\x00CALL(\x00)",
        None,
        12345,
    ],
)
def test_garbage_returns_errors_never_raises(garbage: object) -> None:
    turn = parse_turn(garbage)  # type: ignore[arg-type]
    assert isinstance(turn, ParsedTurn)
    assert turn.actions or turn.errors
    assert len(turn.errors) <= 11
    assert all(len(error) < 400 for error in turn.errors)


def test_empty_reply_gets_exactly_the_helpful_error() -> None:
    assert parse_turn("").errors == [NO_ACTION_ERROR]
    assert parse_turn("I am not sure what to do.").errors == [NO_ACTION_ERROR]
    assert 'CALL("task", "target")' in NO_ACTION_ERROR and 'FINAL("answer")' in NO_ACTION_ERROR


def test_random_bytes_and_random_protocol_fragments() -> None:
    rng = random.Random(1234)
    fragments = [
        "CALL(", "PEEK(", "GREP(", "FINAL(", "final(", '"', "'", '"""', "(", ")", "\\",
        "\n", "#", "```", "json", "{", "}", '"op"', ":", ",", "chunk:1", "<think>",
        "</think>", "<tool_call>", "</tool_call>", " ", "x", "=", "task",
    ]  # fmt: skip
    for _ in range(400):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(400))).decode("latin-1")
        assert parse_turn(raw).actions or parse_turn(raw).errors
        mixed = "".join(rng.choice(fragments) for _ in range(rng.randrange(60)))
        turn = parse_turn(mixed)
        assert turn.actions or turn.errors
        for action in turn.actions:  # whatever was accepted satisfies the contract
            if action.op == "call":
                assert action.task and action.target
            elif action.op == "peek":
                assert action.target
            elif action.op == "grep":
                assert action.pattern
            else:
                assert action.answer


def test_json_inside_a_final_answer_is_not_taken_for_actions() -> None:
    text = 'FINAL("""Use this:\n```json\n{"op": "final", "answer": "x"}\n```\n""")'
    assert only(parse_turn(text)).answer.startswith("Use this:")


def test_fenced_json_wins_over_text_that_only_has_errors() -> None:
    text = 'I could CALL( but instead:\n```json\n{"op": "peek", "target": "chunk:0"}\n```'
    assert only(parse_turn(text)) == Action(op="peek", target="chunk:0")


def test_every_form_reads_at_most_a_turn_of_actions_and_says_how_to_fan_out_wider():
    from rlm_graph.protocol.actions import MAX_ACTIONS_PER_TURN, TOO_MANY_ACTIONS

    count = MAX_ACTIONS_PER_TURN + 50
    text = "\n".join(f'CALL("q", "chunk:{i}")' for i in range(count))
    payload = json.dumps(
        {"actions": [{"op": "call", "task": "q", "target": f"chunk:{i}"} for i in range(count)]}
    )
    tools = AIMessage(
        content="",
        tool_calls=[
            {"name": "call", "args": {"task": "q", "target": f"chunk:{i}"}, "id": f"c{i}"}
            for i in range(count)
        ],
    )
    for reply in (text, payload, tools):
        turn = parse_turn(reply)
        assert len(turn.actions) == MAX_ACTIONS_PER_TURN
        assert TOO_MANY_ACTIONS in turn.errors and "chunks:0-9" in TOO_MANY_ACTIONS
    exactly = "\n".join(f'CALL("q", "chunk:{i}")' for i in range(MAX_ACTIONS_PER_TURN))
    assert parse_turn(exactly).errors == []


@pytest.mark.parametrize(
    "task", ["task", "chunk:15", "Chunks: 3-4", "lines:10-20", "all", "file:a.py"]
)
def test_a_call_whose_task_is_a_placeholder_or_a_target_asks_nothing(task: str) -> None:
    (call,) = parse_turn(f'CALL("{task}", "chunk:15")').actions
    assert call.placeholder_task


@pytest.mark.parametrize(
    "task", ["What is in chunk 15?", "Summarize chunk:3", "allotments", "Who wrote lines 1-2?"]
)
def test_a_call_with_a_question_is_no_placeholder(task: str) -> None:
    (call,) = parse_turn(f'CALL("{task}", "chunk:15")').actions
    assert not call.placeholder_task
