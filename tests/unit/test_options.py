"""Run options in one place: ``RLMOptions`` checks what ``RLM(...)`` is given, with the one-line
messages users have always seen; ``ask`` and ``fork`` take their run-option flags from one
table and turn them into the same keywords; a stored run's settings give back its options."""

from __future__ import annotations

import argparse
import inspect
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from rlm_graph import RLM
from rlm_graph.budget import Limits
from rlm_graph.cli import _run_options, build_parser, main
from rlm_graph.configuration import CONFIG_KEYS
from rlm_graph.errors import RLMError, ThreadError
from rlm_graph.options import RLMOptions
from rlm_graph.testing import ScriptedChatModel

# What a stored run does not keep: its models are stored as specs (and rebuilt from them, with
# their base URL and timeout), secrets are never stored, and durability is the caller's.
NOT_STORED = {"model", "sub_model", "base_url", "api_key", "timeout", "durability"}
# Options the CLI has no flag for: the key comes from the environment, the overlap from the
# chunk size, and a command always writes its checkpoints the default way.
NO_FLAG = {"api_key", "overlap_tokens", "durability"}


def fake() -> ScriptedChatModel:
    return ScriptedChatModel(respond=lambda messages: 'FINAL("x")')


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"planner": "tree"}, "unknown planner 'tree': use 'model' or 'map-reduce'"),
        ({"action_format": "xml"}, "unknown action format 'xml': use text, json or tools"),
        ({"mode": "code"}, "unknown mode 'code': use 'calls', 'repl' or 'auto'"),
        (
            {"mode": "repl", "planner": "map-reduce"},
            "mode 'repl' is planned by the model: use planner='model' with it",
        ),
        ({"durability": "never"}, "unknown durability 'never': use sync, async or exit"),
        ({"concurrency": 0}, "concurrency must be at least 1"),
        ({"direct_below": -1}, "direct_below must be 0 (always recurse) or a number of tokens"),
        (
            {"approve_over": -5},
            "approve_over must be a number of tokens (0: approve every fan-out)",
        ),
        # Two broken at once: the first in the order RLM has always checked them.
        (
            {"concurrency": 0, "planner": "tree"},
            "unknown planner 'tree': use 'model' or 'map-reduce'",
        ),
        (
            {"approve_over": -1, "durability": "x"},
            "unknown durability 'x': use sync, async or exit",
        ),
    ],
)
def test_each_rule_gives_its_one_line_message(given, message):
    for build in (RLMOptions, lambda **kw: RLM(model="x", **kw)):
        with pytest.raises(RLMError) as raised:
            build(**given)
        assert str(raised.value) == message


def test_the_edges_of_the_rules_are_allowed():
    options = RLMOptions(concurrency=1, direct_below=0, approve_over=0, mode="repl")
    assert (options.concurrency, options.direct_below, options.approve_over) == (1, 0, 0)


def test_a_bad_limit_is_still_pydantics_error_on_its_keyword():
    # As before: Limits and Chunking check their own fields, and the CLI prints the field.
    with pytest.raises(ValidationError) as raised:
        RLM(model="x", max_depth=40)
    assert raised.value.errors()[0]["loc"] == ("max_depth",)
    assert "above 16" in raised.value.errors()[0]["msg"]
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        RLM(model="x", max_calls=0)
    with pytest.raises(ValidationError, match="must be smaller than chunk_tokens"):
        RLM(model="x", chunk_tokens=10, overlap_tokens=10)


def test_rlm_keywords_are_the_options_plus_where_and_who_listens():
    parameters = dict(inspect.signature(RLM.__init__).parameters)
    del parameters["self"]
    others = {"checkpointer", "on_event"}
    assert [name for name in parameters if name not in others] == list(RLMOptions.model_fields)
    assert set(parameters) - set(RLMOptions.model_fields) == others
    for name, field in RLMOptions.model_fields.items():
        assert parameters[name].default == field.default, name
    assert RLM(model="x").options == RLMOptions(model="x")


def test_objects_pass_through_the_options_untouched():
    model = fake()
    rlm = RLM(model=model, chunk_tokens=700)
    assert rlm.options.model is model and rlm.root_model.chat is model
    assert rlm.chunking.chunk_tokens == 700 and rlm.chunking.overlap_tokens == 35
    assert RLMOptions(**rlm.options.keywords()) == rlm.options


def test_a_server_config_key_is_an_option():
    # A LangGraph server's RLMConfig keys become RLM keywords (configuration.runtime_context).
    assert set(RLMOptions.model_fields) >= CONFIG_KEYS


# Every stored option away from its default: these together, and each of EITHER on its own
# (REPL mode is planned by the model, so it and the map-reduce planner never go together).
NON_DEFAULT: dict[str, Any] = {
    "max_depth": 2,
    "max_calls": 40,
    "max_tokens": 5000,
    "max_seconds": 30.0,
    "max_iterations": 3,
    "concurrency": 5,
    "action_format": "json",
    "chunk_tokens": 700,
    "overlap_tokens": 30,
    "sub_window_tokens": 1500,
    "direct_below": 12_000,
    "approve_over": 9000,
    "judge": False,
    "judge_model": "local:1.5b",
}
EITHER = [{"planner": "map-reduce", "mode": "calls"}, {"mode": "repl"}]


def test_the_round_trip_below_sets_every_stored_option():
    # A new option that a run stores must be added here, and so checked below.
    cases = [{**NON_DEFAULT, **either} for either in EITHER]
    assert set().union(*cases) == set(RLMOptions.model_fields) - NOT_STORED
    for case in cases:
        for name, value in case.items():
            assert value != RLMOptions.model_fields[name].default, name


@pytest.mark.parametrize("either", EITHER)
def test_a_stored_run_gives_back_the_options_it_ran_with(either):
    model = fake()
    rlm = RLM(model=model, **NON_DEFAULT, **either)
    back = RLM.from_settings(rlm.runtime().settings(), model=model)
    stored = set(RLMOptions.model_fields) - NOT_STORED
    assert {name: getattr(back.options, name) for name in stored} == {
        name: getattr(rlm.options, name) for name in stored
    }
    assert back.limits == rlm.limits and back.chunking == rlm.chunking


@pytest.mark.parametrize(
    ("query", "mode"), [("How many records have label refund?", "repl"), ("Who wrote it?", "calls")]
)
def test_a_run_in_auto_mode_stores_the_mode_it_ran_in(query, mode):
    # A resume or a fork runs as the run did, whatever auto would pick for its next question.
    model = fake()
    settings = RLM(model=model).runtime(query=query).settings()
    assert settings.mode == mode
    assert RLM.from_settings(settings, model=model).mode == mode


# -- the CLI --------------------------------------------------------------------------------


def _subparser(name: str) -> argparse.ArgumentParser:
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices[name]


def _value(action: argparse.Action) -> list[str]:
    """A value for the flag that is none of its defaults."""
    if action.nargs == 0:
        return []
    if action.choices:
        return [list(action.choices)[-1]]
    if action.type is float:
        return ["2.5"]
    if action.type is None:
        return ["some-value"]
    return ["3"]


def _run_flags(command: str, positional: str) -> dict[str, tuple[str, argparse.Action]]:
    """Each flag of ``command`` that sets a run option, with the option: found by giving it a
    value and seeing which RLM keyword changes."""
    parser = _subparser(command)
    baseline = _run_options(parser.parse_args([positional]))
    found = {}
    for action in parser._actions:
        for flag in action.option_strings:
            if isinstance(action, argparse._HelpAction):
                continue
            changed = _run_options(parser.parse_args([positional, flag, *_value(action)]))
            keys = {
                k for k in baseline.keys() | changed.keys() if baseline.get(k) != changed.get(k)
            }
            if keys:
                assert len(keys) == 1, (flag, keys)
                found[flag] = (keys.pop(), action)
    return found


def test_ask_and_fork_share_their_run_option_flags():
    ask, fork = _run_flags("ask", "q"), _run_flags("fork", "t")
    assert fork and set(fork) <= set(ask)
    for flag, (option, action) in fork.items():
        ask_option, ask_action = ask[flag]
        assert option == ask_option
        for attribute in ("dest", "type", "choices", "metavar", "nargs"):
            assert getattr(action, attribute) == getattr(ask_action, attribute), (flag, attribute)
        assert action.default is None  # unset: the stored run's value
    # A fork may change its models and limits (RLM.afork); the base URL rebuilds the models.
    assert {option for option, _ in fork.values()} == {
        "model",
        "sub_model",
        "base_url",
        "concurrency",
        *Limits.model_fields,
    }
    # A new run may set every option but these.
    assert {option for option, _ in ask.values()} == set(RLMOptions.model_fields) - NO_FLAG


def test_cli_choices_are_the_options_choices():
    for _, (option, action) in _run_flags("ask", "q").items():
        if action.choices:
            annotation = RLMOptions.model_fields[option].annotation
            assert set(action.choices) == set(get_args(annotation)), option


def test_ask_defaults_are_the_rlm_defaults():
    args = _subparser("ask").parse_args(["q"])
    assert RLMOptions(**_run_options(args)) == RLMOptions()
    given = _subparser("ask").parse_args(
        ["q", "--sub-window", "300", "--no-judge", "--max-depth", "2"]
    )
    options = RLM(**_run_options(given)).options
    assert (options.sub_window_tokens, options.judge, options.max_depth) == (300, False, 2)


def test_fork_passes_only_the_flags_given(monkeypatch, tmp_path):
    seen: dict[str, Any] = {}

    async def afork(self, thread_id, **kwargs):
        seen.update(thread_id=thread_id, base_url=self._model_args["base_url"], **kwargs)
        raise ThreadError("recorded")

    monkeypatch.setattr(RLM, "afork", afork)
    db = str(tmp_path / "c.sqlite")
    argv = ["fork", "t1", "--max-calls", "7", "--model", "m", "--base-url", "http://h/v1"]
    assert main([*argv, "--db", db, "--quiet"]) == 2
    assert seen == {
        "thread_id": "t1",
        "base_url": "http://h/v1",
        "at": None,
        "new_thread_id": None,
        "model": "m",
        "max_calls": 7,
    }
