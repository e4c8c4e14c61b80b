"""call: run what needs no model (PEEK, GREP, target validation, budgets, repeats) and turn
each runnable CALL into a job for the recurse node."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from rlm_graph import prompts
from rlm_graph.budget import Budget
from rlm_graph.configuration import RLMRuntime, runtime_context
from rlm_graph.context import ContextView
from rlm_graph.errors import TargetError
from rlm_graph.evidence import echoes, holds_word, named_terms, normalized, rewords, words_of
from rlm_graph.graph.accounting import running_record
from rlm_graph.graph.findings import backs, citations, claims, strip_marks
from rlm_graph.graph.messages import Job, Observation, ObservationKind, SeenSpan, dumps
from rlm_graph.graph.outcome import finish, is_finished
from rlm_graph.graph.state import CallState, RLMState
from rlm_graph.protocol import Action
from rlm_graph.questions import asks_for_many, part_task
from rlm_graph.state import ContextRef

# Bytes either side of a GREP hit that count as seen: its line and the sentences around it.
GREP_REACH = 300
# Beyond this many refused CALLs, one line speaks for the rest (the transcript stays bounded).
MAX_REFUSALS_LISTED = 5
# Beyond this many CALLs that repeat earlier turns' calls, one line speaks for them all
# (measured on the 0.5B model: a re-issued fan-out of 18 repeats, each listed, drowned the
# findings and the model copied the pattern back).
MAX_REPEATS_LISTED = 3


def cache_key(task: str, ref: ContextRef) -> str:
    """Identical CALLs: same task over the same bytes (however the target was spelled)."""
    return f"{' '.join(task.split())}\x1f{ref.store_id[:16]}:{ref.start}-{ref.end}"


def _asked_before(key: str, keys: Iterable[str], *, any_task: bool = False) -> str | None:
    """The earlier key that asks the same of the same bytes as ``key``, in the same or other
    words (with ``any_task``: whatever it asked)."""
    task, _, where = key.partition("\x1f")
    for earlier in keys:
        earlier_task, _, earlier_where = earlier.partition("\x1f")
        if earlier_where == where and (
            any_task or earlier_task == task or rewords(task, earlier_task)
        ):
            return earlier
    return None


# A task that holds this many characters of a child's answer (or is held in one) restates it.
MIN_RESTATED_CHARS = 20


def restates_an_answer(task: str, answers: Iterable[str]) -> bool:
    """Whether a CALL's task is an answer a child already gave, set as a task ("Everyone who
    moves to Pelholt soon learns to listen to organ ..."): the planner asks its children to
    confirm a claim, and a part already read for the question has said what it holds (the
    0.5B sent two such waves over 9 chunks each after every chunk had been read, 36k tokens
    more, and nothing new came back)."""
    asked = normalized(task)
    return len(asked) >= MIN_RESTATED_CHARS and any(
        len(said := normalized(answer)) >= MIN_RESTATED_CHARS
        and (said[:60] in asked or asked in said)
        for answer in answers
    )


def borrowed_names(task: str, question: str, answers: Iterable[str]) -> list[str]:
    """The names a CALL's task takes from children's answers, not from the question ("Which
    craftsperson repaired Rhosyn Thistlewood?" after a leaf answered "Rhosyn Thistlewood"):
    the next hop of a chain, or the planner asking about an answer it got."""
    names = [n for n in named_terms(task) if any(c.isalpha() for c in n)]  # "chunk 5": a target
    if not names:  # most tasks: nothing to look up in the answers
        return []
    asked = set(words_of(question))
    said = {word for answer in answers for word in words_of(answer)}
    return [name for name in names if not holds_word(asked, name) and holds_word(said, name)]


def never_named(names: list[str], text: str) -> bool:
    """Whether ``text`` names none of ``names`` (not one word of them, up to its ending): a
    slice that never mentions a person, place or thing cannot say anything about it."""
    held = set(words_of(text))
    return not any(holds_word(held, name) for name in names)


def _listed(observations: list[Observation], summary: str) -> list[Observation]:
    """The observations, or past ``MAX_REPEATS_LISTED`` one line (``summary``) for them all."""
    if len(observations) <= MAX_REPEATS_LISTED:
        return observations
    return [observations[0].model_copy(update={"action": prompts.YOUR_REPLY, "text": summary})]


def _observation(
    index: int, action: Action, text: str, kind: ObservationKind = "error"
) -> Observation:
    """``kind``: "info" (new information), "repeat" (answered from cache) or "error"."""
    # CALLs are labelled by target only, as in the planner prompt's worked example.
    label = f"CALL {action.target or 'all'}" if action.op == "call" else action.render()
    return Observation(index=index, action=label, text=text, kind=kind)


def _about_reply(text: str, kind: ObservationKind = "error", index: int = -1) -> Observation:
    """An observation about the reply as a whole (a parse error, duplicates)."""
    return Observation(index=index, action=prompts.YOUR_REPLY, text=text, kind=kind)


def _looked_up(index: int, action: Action, text: str) -> Observation:
    return _observation(index, action, text, "error" if text.startswith("error:") else "info")


def _validate_call(
    action: Action,
    view: ContextView,
    runtime: RLMRuntime,
    child_depth: int,
    max_depth: int,
    query: str = "",
) -> tuple[ContextRef | None, bool, str | None]:
    """The child's slice and whether it is a leaf, or an error for the model."""
    if not action.task or not action.task.strip():
        return None, False, prompts.CALL_NEEDS_TASK
    if action.placeholder_task:
        # Measured on the 0.5B: told the right form with "task" in it, it sent 15 CALLs whose
        # task was "task", and read nothing useful. Its own question is what it can copy.
        question = query.replace('"', "'")  # what the model copies must parse as a CALL
        return (
            None,
            False,
            prompts.CALL_PLACEHOLDER_TASK.format(query=question, target=action.target),
        )
    try:
        ref = view.resolve(action.target or "all", runtime.chunking_for_view())
    except TargetError as exc:
        return None, False, str(exc)
    fits = runtime.fits_leaf(ref.size)
    if child_depth >= max_depth and not fits:
        tokens = runtime.slice_tokens(ref.size)
        chunking = runtime.chunking_for_view()
        error = prompts.TARGET_TOO_LARGE.format(
            target=action.target,
            tokens=tokens,
            window=runtime.leaf_window_tokens,
            chunks=view.chunk_count(chunking),
        )
        return None, False, error
    return ref, child_depth >= max_depth or fits, None


@dataclass
class _Candidate:
    index: int
    action: Action
    ref: ContextRef
    leaf: bool
    key: str


@dataclass
class _Step:
    """What one reply's actions come to: observations for the model, and CALLs to run."""

    rt: RLMRuntime
    view: ContextView
    state: CallState
    budget: Budget
    observations: list[Observation] = field(default_factory=list)
    candidates: list[_Candidate] = field(default_factory=list)
    observed: list[SeenSpan] = field(default_factory=list)

    def _saw(self, action: Action, start: int, end: int) -> None:
        """Record a span the planner was shown (relative to the view), as located text."""
        first, last = self.view.start + max(0, start), self.view.start + min(self.view.size, end)
        if last > first:
            self.observed.append(SeenSpan(action=action.render(), start=first, end=last))

    def examine(self, actions: list[Action], first_index: int = 0) -> None:
        """Run PEEK and GREP, check CALL targets, spot repeats; keep the CALLs to launch."""
        rt, view, chunking = self.rt, self.view, self.rt.chunking_for_view()
        cache = self.state.call_cache
        answers = [finding.answer for finding in self.state.findings]
        said = [*answers, *cache.values()]
        depth = self.state.depth
        has_work = any(action.op != "final" for action in actions)
        seen_this_turn: dict[str, int] = {}
        duplicates = 0
        repeats: list[Observation] = []
        unnamed: list[Observation] = []
        for index, action in enumerate(actions, start=first_index):
            if action.op == "final":
                if has_work:
                    self.observations.append(_observation(index, action, prompts.FINAL_WITH_WORK))
                continue
            if action.op == "peek":
                try:
                    text = view.peek(action.target or "all", chunking, max_chars=rt.peek_chars)
                    start, end = view.span_of(view.parse(action.target or "all"), chunking)
                    self._saw(action, start, min(end, start + rt.peek_chars))
                except TargetError as exc:
                    text = f"error: {exc}"
                self.observations.append(_looked_up(index, action, text))
                continue
            if action.op == "grep":
                try:
                    found = view.grep(
                        action.pattern or "",
                        chunking,
                        target=action.target or "all",
                        max_hits=rt.grep_hits,
                    )
                    text = found.render()
                    for hit in found.hits:  # the line of each hit, and a sentence either side
                        self._saw(action, hit.offset - GREP_REACH, hit.offset + GREP_REACH)
                except TargetError as exc:
                    text = f"error: {exc}"
                self.observations.append(_looked_up(index, action, text))
                continue
            ref, leaf, error = _validate_call(
                action, view, rt, depth + 1, self.budget.max_depth, self.state.query
            )
            if error or ref is None:
                self.observations.append(_observation(index, action, f"error: {error}"))
                continue
            key = cache_key(action.task or "", ref)
            answered = _asked_before(key, cache)
            if answered is None and restates_an_answer(action.task or "", answers):
                answered = _asked_before(key, cache, any_task=True)
            if answered is not None:
                text = prompts.REPEATED_CALL.format(answer=cache[answered])
                repeats.append(_observation(index, action, text, "repeat"))
            elif _asked_before(key, seen_this_turn) is not None:
                duplicates += 1  # run once; a reply that cycles through its calls is one
            elif (
                names := borrowed_names(action.task or "", self.state.query, said)
            ) and never_named(names, ContextView(view.store, ref).text()):
                # Measured on the 0.5B (absent seed 74): one leaf's guess put in the question's
                # place was sent to all 18 chunks again, 2.38x the text read; 17 never name it.
                missing = " ".join(names)
                text = prompts.NOT_NAMED_CALL.format(names=missing)
                unnamed.append(_observation(index, action, text, "repeat"))
            else:
                seen_this_turn[key] = index
                self.candidates.append(_Candidate(index, action, ref, leaf, key))
        summary = prompts.REPEATED_CALLS.format(count=len(repeats))
        self.observations.extend(_listed(repeats, summary))
        if unnamed:
            summary = prompts.NOT_NAMED_CALLS.format(count=len(unnamed), names=missing)
            self.observations.extend(_listed(unnamed, summary))
        if duplicates:
            text = prompts.DUPLICATE_CALLS.format(count=duplicates)
            self.observations.append(_about_reply(text, "repeat", first_index + len(actions)))

    def launch(self) -> list[Job]:
        """Jobs for the CALLs the budget allows, in call order; the others are refused."""
        rt, budget, state = self.rt, self.budget, self.state
        candidates, self.candidates = self.candidates, []
        share = budget.share(len(candidates)) if candidates else None
        runnable = min(len(candidates), max(0, budget.calls_left - 1))
        calls_made = state.calls_made
        # With a token budget, only launch children whose reading we can afford (estimated
        # from the slice size), in call order: a budget is a promise, not a hint.
        tokens_left = budget.tokens_left
        refused = 0
        jobs: list[Job] = []
        for position, candidate in enumerate(candidates):
            index, action = candidate.index, candidate.action
            if share is None or position >= runnable:
                refused += 1
                if refused <= MAX_REFUSALS_LISTED:
                    text = prompts.NOT_RUN_NO_CALLS
                    self.observations.append(_observation(index, action, text))
                elif refused == MAX_REFUSALS_LISTED + 1:
                    rest = len(candidates) - position
                    text = prompts.NOT_RUN_NO_CALLS_MORE.format(more=rest - 1)
                    self.observations.append(_observation(index, action, text))
                continue
            cost = rt.reading_cost(candidate.ref.size)
            if tokens_left is not None:
                if cost > tokens_left:
                    text = prompts.NOT_RUN_NO_TOKENS.format(cost=cost, left=max(0, tokens_left))
                    self.observations.append(_observation(index, action, text))
                    continue
                tokens_left -= cost
            calls_made += 1
            jobs.append(
                Job(
                    index=index,
                    call_id=f"{state.call_id}.{calls_made}",
                    parent_id=state.call_id,
                    turn=state.turn,
                    depth=state.depth + 1,
                    # A question about every part gives each part its own task.
                    task=part_task(action.task or ""),
                    target=action.target or "all",
                    context=candidate.ref,
                    budget=share,
                    leaf=candidate.leaf,
                    cache_key=candidate.key,
                    action=f"CALL {action.target or 'all'}",
                    tokens=cost,
                )
            )
        return jobs


def call(state: RLMState, runtime: Runtime[RLMRuntime]) -> dict[str, Any]:
    if is_finished(state):  # plan ended the call; merge closes it
        return {"observations": [], "jobs": []}
    rt = runtime_context(runtime)
    reads = CallState(state)
    turn = reads.actions
    final = next((action for action in turn.actions if action.op == "final"), None)
    if final is not None and all(action.op == "final" for action in turn.actions):
        # The marks a finding was copied with are ours, not the answer's: judged without them.
        answer = strip_marks(final.answer or "")
        if final.placeholder or echoes(answer, reads.query):
            observation = _about_final(prompts.FINAL_PLACEHOLDER)
            return {"observations": [observation.dump()], "jobs": []}
        bounce = _second_look(reads, answer)
        if bounce is None:
            return {**finish("done", answer), "observations": [], "jobs": []}
        return {
            "observations": [bounce.dump()],
            "jobs": [],
            "final_checked": True,
            # Answered in the forced form (the question and the verified findings in front of
            # it, JSON where the server can): a small model rewrites its FINAL there, where
            # asked in words it re-issued its calls.
            "force_reason": prompts.FORCE_REASON_REVIEW,
        }

    step = _Step(rt=rt, view=rt.registry.view(reads.context), state=reads, budget=reads.budget)
    step.observations.extend(_about_reply(f"error: {error}") for error in turn.errors)
    step.examine(turn.actions)
    jobs = step.launch()
    if jobs and rt.approve_over is not None:
        jobs = _approved(step, jobs, len(turn.actions))
    return {
        "observations": dumps(step.observations),
        **({"observed": dumps(step.observed)} if step.observed else {}),
        "jobs": dumps(jobs),
        "calls_made": reads.calls_made + len(jobs),
        # Written now, completed when the child returns: a stored run shows what is running.
        "records": [running_record(job, rt.model_for(job.depth).name) for job in jobs],
    }


def _about_final(text: str) -> Observation:
    return Observation(index=-1, action=prompts.YOUR_FINAL, text=text, kind="error")


def _approved(step: _Step, jobs: list[Job], next_index: int) -> list[Job]:
    """The approval gate: a fan-out estimated to read more than ``approve_over`` tokens waits
    for a person. ``interrupt`` pauses the run (the node runs again on resume, and ``interrupt``
    then returns the answer): True / "approve" runs the calls, False / "deny" runs none, and a
    list of ``{"task", "target"}`` runs those instead."""
    estimate = sum(job.tokens for job in jobs)
    if estimate <= (step.rt.approve_over or 0):
        return jobs
    decision = interrupt(
        {
            "kind": "approve_calls",
            "call_id": step.state.call_id,
            "depth": step.state.depth,
            "estimated_tokens": estimate,
            "threshold": step.rt.approve_over,
            "calls": [
                {"task": job.task, "target": job.target, "tokens": job.tokens} for job in jobs
            ],
        }
    )
    if decision is True or decision == "approve":
        return jobs
    if isinstance(decision, list):
        actions = [
            Action(op="call", task=str(item.get("task", "")), target=str(item.get("target", "")))
            for item in decision
            if isinstance(item, dict)
        ]
        step.examine(actions, first_index=next_index)
        return step.launch()  # what a person chose is not asked about again
    text = prompts.NOT_RUN_DENIED.format(count=len(jobs), tokens=estimate)
    step.observations.append(
        Observation(index=next_index, action="(approval)", text=text, kind="error")
    )
    return []


def _second_look(state: CallState, answer: str) -> Observation | None:
    """Once per call, while verified findings exist, a FINAL goes back to the planner when
    none of them backs it (small models copy the first answer they see, invented or not) or
    when it leaves some of them out (a question about every X answered with one)."""
    findings = state.findings
    verified = [f for f in findings if f.verified]
    if state.final_checked or not verified:
        return None
    question = state.query
    options = "; ".join(dict.fromkeys(f"{f.answer} ({f.where})" for f in verified))
    if not citations(answer, findings, question):
        return _about_final(prompts.FINAL_NOT_BACKED.format(answer=answer, options=options))
    if not asks_for_many(question):  # one answer asked for, one given: choosing is right
        return None
    parts = claims(answer) or [answer]
    left_out = {normalized(f.answer): f for f in verified if not any(backs(f, c) for c in parts)}
    if not left_out:
        return None
    missing = "; ".join(f"{f.answer} ({f.where})" for f in left_out.values())
    return _about_final(prompts.FINAL_LEAVES_OUT.format(answer=answer, missing=missing))
