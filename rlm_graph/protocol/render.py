"""Write actions back in the text form, for transcripts and logs."""

from __future__ import annotations

from collections.abc import Iterable

from rlm_graph.protocol.actions import Action


def render_actions(actions: Iterable[Action]) -> str:
    """One action per line, in the same syntax ``parse_turn`` reads back."""
    return "\n".join(action.render() for action in actions)
