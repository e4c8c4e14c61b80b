"""Every prompt the models see, in one place where they can be read and tuned.

Small local models plan well only with a worked example (measured: with the protocol alone the
0.5B model wrote one meaningless CALL; with one example exchange it wrote one CALL per chunk and
then the right FINAL), so the planner prompt carries one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rlm_graph.budget import Budget

PLANNER_FIRST_TURN = """\
Question: {query}
{earlier}{description}
{searched}{chunk_list}Budget: {budget}"""

# The names a question gives (code identifiers), searched before the first turn
# (graph/name_search.py): the lines that name them, with their files and functions.
NAME_SEARCH = """\
Lines that name {name} (searched before your first turn):
{hits}
"""
# A name those lines give, searched next: the second fact of a chain (X reports to Y; Y ...).
LINKED_NAME_SEARCH = """\
Lines that name {name}, a name the lines above give:
{hits}
"""

# A follow-up question on a thread: what was asked and answered before (never the transcripts).
EARLIER_TURNS = """\
Earlier questions on this context, with their final answers:
{turns}
"""

# The chunk targets spelled out (small models copy a list's length, not a range's).
CHUNK_TARGETS = "Chunk targets: {targets}\n"
NAMED_CHUNK_TARGETS = "Chunk targets that hold these lines: {targets}\n"

PLANNER_OBSERVATIONS = """\
Results:
{observations}
Budget: {budget}
Write more actions, or FINAL with the answer if you know it."""

# The worked example is built from the same templates as the real turns, so the small model sees
# exactly the pattern it has to continue.
_EXAMPLE_QUESTION = "What year was the old bridge built?"
# The example's answer: a planner that copies it into a real FINAL is told so, never believed.
EXAMPLE_FINAL = "The old bridge was built in 1932."
_EXAMPLE_FIRST_TURN = PLANNER_FIRST_TURN.format(
    query=_EXAMPLE_QUESTION,
    earlier="",
    searched="",
    description="""\
Context: file minutes.txt
Size: 45,112 chars (bytes), about 11,278 tokens, 912 lines
Chunks: 6 chunks (chunk:0 to chunk:5), each about 2,000 tokens with 100 tokens overlap
Targets: use all, chunk:N, chunks:N-M, chars:A-B, lines:A-B, file:PATH or none
Preview (first 300 chars):
Town council minutes, 1998-2004. Item 1: ...""",
    chunk_list=CHUNK_TARGETS.format(targets=", ".join(f"chunk:{i}" for i in range(6))),
    budget="100 model calls, 8 turns left",
)
_EXAMPLE_CALLS = "\n".join(f'CALL("{_EXAMPLE_QUESTION}", "chunk:{i}")' for i in range(6))
# As real results read: verified findings first, then unverified answers (here an invented
# one, which the example's FINAL passes over), then "not found".
_EXAMPLE_RESULTS = PLANNER_OBSERVATIONS.format(
    observations="\n".join(
        [
            "[1] CALL chunk:2 -> 1932  [verified: line 417]",
            "[2] CALL chunk:4 -> 1950  [unverified: no passage of its text backs it]",
            *(f"[{n}] CALL chunk:{i} -> not found" for n, i in enumerate((0, 1, 3, 5), start=3)),
        ]
    ),
    budget="93 model calls, 7 turns left",
)

PLANNER_SYSTEM = f"""\
You answer a question about a long context that is too big to read at once. \
You cannot see the context; you act on it by writing actions, one per line:

CALL("question", "target")   a helper reads only that target and answers the question
PEEK("target")               show an excerpt of the target
GREP("regex")                list the lines that match, with line and chunk numbers
FINAL("answer")              your final answer, when you know it

Targets: all, chunk:N, chunks:N-M, lines:A-B, chars:A-B, file:PATH, none.
Call every chunk target once. Several CALLs in one reply run in parallel. A helper sees only \
its target, so ask it a complete question; for a question about every part (each section, \
essay or file), ask each CALL that question about its own part. A result marked [verified] was found in the text; \
one marked [unverified] may be invented: trust verified results. When a result answers the \
question, reply with FINAL. Write only actions, no other text.

Example.

User:
{_EXAMPLE_FIRST_TURN}

Assistant:
{_EXAMPLE_CALLS}

User:
{_EXAMPLE_RESULTS}

Assistant:
FINAL("{EXAMPLE_FINAL}")

End of example.
"""

PLANNER_JSON_SUFFIX = """
Reply with a JSON object instead of text lines: \
{"actions": [{"op": "call", "task": "...", "target": "chunk:0"}, {"op": "final", "answer": "..."}]}
"""

PLANNER_TOOLS_SUFFIX = """
Use the tools call, peek, grep and final instead of text lines.
"""

# A small model tends to keep writing the example dialogue; cut its reply at these lines.
PLANNER_STOP_LINES = ("user:", "results:", "assistant:", "end of example")

# Said instead of the usual results when the planner must answer now: it is out of turns, or it
# is looping (its calls brought nothing new). Measured on the 0.5B model: listing what was found
# right here is what makes it answer instead of re-issuing its calls.
PLANNER_FORCE_FINAL = """\
{reason} Answer now: reply with FINAL and your answer in it, using what you have found.
Found so far:
{findings}"""

# The same last chance where the model's server decodes under a JSON schema: the reply can only
# be {"answers": [...]}. Measured on the 0.5B model: asked in words, it re-issued all its calls,
# or wrote the instruction back as its reply; asked for one "answer", it copied the first of
# three findings; shown findings led by their quotes and asked for a list, it listed all three.
PLANNER_FORCE_FINAL_JSON = """\
{reason} Answer the question now, from what was found.
Question: {query}
Found so far:
{findings}
Reply with a JSON object whose "answers" lists every finding above that answers the question \
(or your own answer, if none does)."""

FORCE_REASON_TURNS = "You have no turns left."
FORCE_REASON_STALLED = "Your calls brought no new results."
# After a FINAL that no verified finding backs, or that leaves verified findings out (the 0.5B
# model answers a "list every ..." question with the first finding it reads).
FORCE_REASON_REVIEW = "Check your answer against the verified findings below."

LEAF_SYSTEM = """\
You do one task on one part of a longer text, using only that part. Reply with one JSON \
object: "found" (true or false), "answer", and "quotes" (the sentences of the part that back \
the answer, copied word for word).
When the part holds the answer, reply {"found": true, "answer": "<the answer, short>", \
"quotes": ["<the sentence of the part that holds it>"]}. If the part does not hold the answer, \
reply {"found": false, "answer": "", "quotes": []}. \
A task about the part as a whole (say what it is about, summarize, list or count what it \
holds) is answered for this part, with found true. Never answer from memory or guess: only \
what the part says counts."""

# No worked example: a small model copies an example's answer into real replies (measured on
# the 0.5B model: 11 of 13 leaves answered the example's code), so the reply's shape comes from
# the JSON schema and the words above alone.

LEAF_USER = """\
Text:
{text}

Task: {task}"""

NO_CONTEXT_USER = "Task: {task}"

# The sentences the question's names found (graph/found_lines.py), read before any planning:
# not a part of the text but a few sentences from anywhere in it, and the answer may take two
# of them together (the one that names who, the one that says where about the name it gives).
FOUND_LINES_SYSTEM = """\
You answer a question from a few sentences found in a longer text: the sentences that name \
what the question names. Reply with one JSON object: "found" (true or false), "answer", and \
"quotes" (the sentences that back the answer, copied word for word). The answer may take two \
sentences together: one that names who or what the question is about, and one that says the \
answer about the name the first one gives. When the sentences do not answer the question, \
reply {"found": false, "answer": "", "quotes": []}. Never answer from memory or guess."""

FOUND_LINES_USER = """\
Sentences:
{text}

Question: {question}"""

# A per-part task made from a question about every part ("For each essay, say ..."): what one
# leaf is asked about its own part.
PART_TASK = "{task} (for the part of the text you are given)"

# The judge: a second, short call that answers the question from one passage alone. A finding
# is verified only when this reading agrees with it (a passage about another quay, another
# town or another year is caught here, where word overlap would let it through).
JUDGE_SYSTEM = """\
Answer the question using only the passage. If the passage is not about what the question \
asks, or does not say the answer, reply {"found": false, "answer": ""}. Otherwise reply \
{"found": true, "answer": "..."} with the answer as the passage says it."""

JUDGE_USER = """\
Passage: {passage}

Question: {question}"""

# A thesaurus call for each key word of a list question no leaf found an item of
# (``graph/phrase_search``): the words only choose the sentences the reader then reads.
OTHER_WORDS_SYSTEM = """\
You are a thesaurus. Give other words or phrases with the same meaning, comma-separated, \
nothing else."""

KIND_SYSTEM = """\
Say what kind of thing a phrase names: a person, a place, a time (a date, a year, a day), a \
number, or another thing. Reply {"names": "person"}, {"names": "place"}, {"names": "time"}, \
{"names": "number"} or {"names": "thing"}."""

KIND_USER = """\
What does "{phrase}" name?"""

REDUCE_SYSTEM = """\
Helpers each read one part of a long document and answered the same question. \
Combine their findings into one final answer, in the shape the question asks for: one \
answer when it asks for one thing; every item, one a line, when it asks for all of them; one \
line per part, in the text's order, when it asks about each part (findings about one part \
become one line). Findings marked [verified] were checked against the text: rely on them; \
use [unverified] ones only if nothing is verified, and say so. Never join unrelated findings \
into one answer. Be brief and exact."""

REDUCE_USER = """\
Question: {query}

Findings:
{findings}

Final answer:"""

MAP_TASK = "{query}"

# REPL mode (``--mode repl``): the planner writes Python run in a sandbox. No worked example
# with an answer in it, and no placeholder a reply could use as it is: a small model copies an
# example's answer (or ``FINAL_VAR(name)``) into real replies. ``<answer>`` and ``<variable>``
# cannot pass for an answer or a name; copied, they get a correction (protocol/repl.py).
REPL_SYSTEM = """\
You answer a question about a context that is too long for you to read, but not for code. You \
work in a Python REPL: write code in ```repl blocks; you see only what the code prints.

In the REPL:
- `context` is a variable that already holds the whole context as a str (for a folder: a dict \
of file name -> text). Use it directly: never assign to it or read it from a file; the question \
shows only its beginning.
- `llm_query(prompt)` asks a sub-model and returns its reply as a str. It reads about \
{sub_tokens} tokens at most, so give it a slice of the context, not all of it.
- `llm_query_batched(prompts)` asks for a list of prompts at once (they run concurrently) and \
returns the list of replies.
- `rlm_query(task, text)` gives a task over a part of the context (`text`, a slice of \
`context`) to a helper that answers from that text alone, and returns its answer as a str.
- Variables persist between blocks. `import re`, `json`, `collections`, `math` work. Print \
what you need to see; long output is cut.
- Not available: files, network, class inheritance, `del`, generators (`yield`).

Look at the context with code before answering. When you know the answer, write it on a line \
of its own as FINAL(<answer>), with your answer in place of <answer>; or as \
FINAL_VAR(<variable>), with the name of a variable your code set in place of <variable>, to \
answer with that variable's value. Answer only after you have seen the output your code \
printed."""

REPL_FIRST_TURN = """\
Question: {query}
{earlier}{description}
Budget: {budget}
You have seen only the beginning of `context`. Write a ```repl block of Python that works out \
the answer from the whole `context` variable ({scope}), checking every condition the question \
sets, and prints it.{shape}"""

# A question that counts records, over records ``record_fields`` reads: the cell's shape, with
# the conditions left to the model. Without it the 0.5B, on the tuning seed, called ``.split``
# on the list of fields, tested fields by indexes the record does not have, or printed 1 or 0
# per line; ``<conditions>`` cannot run as it is, so a copy unfilled fails and is told why.
REPL_QUESTION_VALUES = """
The values the question names, as the fields hold them: {tests}."""
REPL_COUNT_SHAPE = """
A count over the records has this shape; write it with the question's conditions on the \
fields `f` in place of <conditions>:
```repl
count = 0
for line in context.splitlines():
    f = {fields}(line)
    if f and <conditions>:
        count += 1
print(count)
```"""

# How the first cell reaches all of ``context``: without it, the 1.5B model sliced the text at
# line numbers it guessed ("the relevant part starts around line 1000") in 6 of 6 first cells.
REPL_SCOPE_TEXT = (
    "loop over every line of `context.splitlines()`, or over consecutive slices of it for "
    "llm_query; do not slice it at guessed line numbers"
)
REPL_SCOPE_FILES = "loop over every file of `context.items()`; do not guess which files matter"

# The way to answer comes first and stands apart from code: the 1.5B model printed the right
# count, then wrote "# The answer is 1" inside a repl block six turns running.
REPL_OBSERVATIONS = """\
Output:
{observations}
Budget: {budget}
If this output answers the question, reply with one line outside any code block: \
FINAL(<answer>), or FINAL_VAR(<variable>) for a variable your code set. Otherwise write \
another ```repl block."""

# After a cell that failed, the one way on is fixing it: offered FINAL first, the 1.5B model
# replied with the traceback itself, then with the error about that reply, to its turn limit.
REPL_OBSERVATIONS_FAILED = """\
Output:
{observations}
Budget: {budget}
That code failed: the last line of the traceback says why. Write a corrected ```repl block."""

# One cell's output, and any other note (a reply without code, a refused batch), in REPL mode.
REPL_CELL_OUTPUT = "{action} printed:\n{text}"
REPL_NOTE = "{action}: {text}"

# Shown under a cell that tried to read a file: small models read "the context" from a file
# they imagine (measured on the 0.5B: the same `open('context.txt')` cell, six turns running).
REPL_NO_FILES_HINT = (
    "[There are no files here: the whole text is already in the variable `context`. Remove the "
    "open(...) lines and use `context` directly, for example `lines = context.splitlines()`.]"
)

# A cell sent again unchanged after it ran: the 0.5B sent the cell that printed the right
# count back six turns running, shown its output and the FINAL line to write each time.
FORCE_REASON_SAME_CELL = "You sent the same code again, so there is nothing more to compute."

# The turn that must answer, in REPL mode: a fresh conversation with the question and the
# latest work quoted, not the transcript, whose own replies the 0.5B copied code from to its
# turn limit (the paper's reference implementation also asks for the answer apart).
REPL_ANSWER_SYSTEM = """\
You give the final answer to a question from work already done on a long text: Python code \
that was run over the text, and what the code printed. You write no code."""
REPL_ANSWER_NOW = """\
Question: {query}

The latest work (code, then what it printed):
{work}

{reason} Reply with one line: FINAL(...) holding the answer that the printed output gives."""
REPL_WORK_CODE = "Code:\n{text}"
REPL_WORK_OUTPUT = "Printed:\n{text}"

REPL_FORCE_FINAL = """\
{reason} Answer now: reply with one line outside any code block, FINAL(<answer>), or \
FINAL_VAR(<variable>) for a variable your code set. No more code."""


def budget_left(budget: Budget, iteration: int) -> str:
    """What the planner is told it has left: calls, turns, and tokens and seconds if capped."""
    parts = [f"{budget.calls_left} model calls", f"{budget.max_iterations - iteration} turns"]
    if budget.tokens_left is not None:
        parts.append(f"{budget.tokens_left:,} tokens")
    if budget.seconds_left is not None:
        parts.append(f"{budget.seconds_left:.0f} s")
    return ", ".join(parts) + " left"


# -- What the planner reads back about its actions -------------------------------------------
# The observations ``call`` and ``merge`` put in the transcript, a line per action:
# ``[3] CALL chunk:2 -> 1932  [verified: line 417]``; a run of alike ones is one line.
OBSERVATION = "[{number}] {action} ->{separator}{text}"
OBSERVATION_RUN = "[{first}-{last}] {label} ->{separator}{text}"
RUN_OF_ACTIONS = "{first} ... {last} ({count} actions)"
RUN_OF_ONE_ACTION = "{action} ({count} times)"
OBSERVATION_CUT = " [... {chars:,} chars cut]"
NO_RESULTS = "(no results)"
# What an observation about the whole reply, or its FINAL, is labelled with.
YOUR_REPLY = "(your reply)"
YOUR_FINAL = "(your FINAL)"

# A child's result (``findings.child_text``). The marks are stripped again from an answer that
# copies them (``MARKS``): change them together.
# The answer of a call whose question the text does not answer (nothing located backs one).
NOT_FOUND = "not found"
CHILD_FAILED = "failed: {error}"
CHILD_EMPTY = "(empty answer)"
CHILD_INCOMPLETE = "(incomplete, budget ran out) {answer}"
CHILD_VERIFIED = "{answer}  [verified: {where}]{quote}"
CHILD_UNVERIFIED = "{answer}  [unverified: no passage of its text backs it]"
CHILD_OFF_QUESTION = "{answer}  [unverified: its passage is not about the question]"
SHOWN_QUOTE = ' "{quote}"'
MARKS = re.compile(r"\s*\[(?:un)?verified(?::[^\]]*)?\]", re.IGNORECASE)

# The findings block (``findings.render_findings``: the reducer and a forced turn read it). An
# answer copied from a line brings its target and passage along: ``TARGET_TAG`` strips them.
FINDING_VERIFIED = "- {answer}  [verified: {where}] ({target}){quote}"
FINDING_UNVERIFIED = "- {answer}  [unverified] ({target})"
FINDINGS_LEFT_OUT = "({count} other answer(s) that no passage of the text backs are left out)"
FINDINGS_DIFFER = "Verified findings differ: {answers}"
FINDINGS_NONE_VERIFIED = "None of these is verified: no passage of the text backs them."
NO_FINDINGS = "(nothing yet)"
TARGET_TAG = re.compile(r"\s*\((?:chunks?|lines|chars|file):[^)]*\)(?:\s+[\"'].*)?\s*$", re.S)

# A call's best answer without another model call (``outcome.partial_answer``): its parent's
# planner reads it as the child's answer.
PARTIAL = "[partial: {reason}] {answer}"
PARTIAL_LEFT_OUT = " ({count} unverified answer(s) left out)"

# ``call``: a reply's actions checked before anything runs.
FINAL_WITH_WORK = (
    "FINAL was ignored because this turn also asked for results; "
    "read them first, then answer with FINAL."
)
CALL_NEEDS_TASK = 'CALL needs a task: CALL("question", "chunk:0")'
CALL_PLACEHOLDER_TASK = (
    'not run: the task is a placeholder; ask the question itself: CALL("{query}", "{target}")'
)
TARGET_TOO_LARGE = (
    "target {target} is too large for a helper (~{tokens:,} tokens; a helper "
    "reads at most ~{window:,}). Use smaller targets such as "
    "chunk:N (this context has {chunks} chunks)."
)
REPEATED_CALL = "(repeated call, first answer) {answer}"
REPEATED_CALLS = (
    "note: {count} CALLs repeat earlier calls (same question, same target); their results are above"
)
NOT_NAMED_CALL = "not run: this part never names {names}, so it says nothing about it"
NOT_NAMED_CALLS = (
    "note: {count} CALLs not run: their parts never name {names}, so they say nothing about it"
)
DUPLICATE_CALLS = "note: {count} CALLs of this reply repeat others in it; each ran once"
NOT_RUN_NO_CALLS = "error: not run, the model-call budget is used up"
NOT_RUN_NO_CALLS_MORE = (
    "error: this and {more:,} more CALLs not run, the model-call budget is used up"
)
NOT_RUN_NO_TOKENS = (
    "error: not run, it needs ~{cost:,} tokens and {left:,} are left in the token budget"
)
NOT_RUN_DENIED = "not run: a person denied these {count} calls (~{tokens:,} tokens to read)"
# A FINAL sent back once (``call``'s second look) before it is accepted.
FINAL_NOT_BACKED = (
    "error: FINAL({answer!r}) is not backed by the text. Verified findings: {options}. "
    "Answer again with FINAL, using them."
)
FINAL_LEAVES_OUT = (
    "note: FINAL({answer!r}) leaves out verified findings: {missing}. If the question "
    "asks for all of them, name them all; if it asks for one, choose and answer again."
)
FINAL_PLACEHOLDER = (
    "error: that FINAL has no answer in it (it repeats the instructions' placeholder or "
    "example); write the answer to this question, found in the results"
)

# -- Protocol errors: what a malformed planner reply is told (``rlm_graph.protocol``) ---------
# The protocol's replies to a reply it cannot read.
NO_ACTION = (
    'no action found: reply with one or more of CALL("task", "target"), '
    'PEEK("target"), GREP("regex"), FINAL("answer")'
)
TOO_MANY_ACTIONS = (
    "only the first {limit} actions were read; to cover more, CALL ranges "
    'such as CALL("question", "chunks:0-9") instead of one chunk each'
)

# The correct form of each op in each output form (text, JSON, tool calls), quoted in every
# error so the model can copy it (``protocol.build.USAGE``).
ACTION_USAGE = {
    "text": {
        "call": 'CALL("task", "chunk:3")',
        "peek": 'PEEK("lines:120-180")',
        "grep": 'GREP("regex")',
        "final": 'FINAL("answer")',
    },
    "json": {
        "call": '{"op": "call", "task": "...", "target": "chunk:3"}',
        "peek": '{"op": "peek", "target": "lines:120-180"}',
        "grep": '{"op": "grep", "pattern": "regex"}',
        "final": '{"op": "final", "answer": "..."}',
    },
    "tool": {
        "call": 'call(task="...", target="chunk:3")',
        "peek": 'peek(target="lines:120-180")',
        "grep": 'grep(pattern="regex")',
        "final": 'final(answer="...")',
    },
}

# An action read but wrong in its fields (``protocol.build``, every form): ``{quote}`` is the
# action as the model wrote it, ``{reason}`` one of the lines below, ``{usage}`` its right form.
INVALID_ACTION = "invalid {quote}: {reason}; write {usage}"
FIELD_NOT_TEXT = "{name} must be a string"
CALL_NEEDS_TASK_AND_TARGET = "CALL needs a task and a target"
EMPTY_TASK = "the task is empty"
EMPTY_TARGET = "the target is empty"
PEEK_NEEDS_TARGET = "PEEK needs a target"
GREP_NEEDS_PATTERN = "GREP needs a regex pattern"
EMPTY_PATTERN = "the pattern is empty"
FINAL_NEEDS_ANSWER = "FINAL needs an answer"
EMPTY_ANSWER = "the answer is empty"

# An action that cannot be read at all (text and tool forms), with the reasons below.
UNPARSED_ACTION = "could not parse {quote}: {reason}; write {usage}"
# The text form (``protocol.text_form``).
ARGS_NOT_VALID = "not valid arguments"
ARGS_UNPACK = "unpacking (*) is not allowed"
ARGS_UNPACK_KEYWORDS = "unpacking (**) is not allowed"
ARGS_NOT_QUOTED = "arguments must be quoted strings"
CALL_TAKES_TWO = "CALL takes exactly a task and a target"
GREP_TAKES_PATTERN = "GREP takes a regex and optionally a target"
TAKES_ONE_ARGUMENT = "{op} takes one argument"
GIVEN_TWICE = "{name} given twice"
UNTERMINATED_STRING = "unterminated string"
MISSING_PAREN = 'missing ")"'
REPLY_CUT_OFF = (
    "the reply's last action was cut off unfinished and was ignored; write fewer actions"
)
READING_STOPPED = (
    "stopped reading: the reply is too long or has too many brackets; "
    "reply with a few short actions"
)
# The JSON form (``protocol.json_form``).
ACTION_NOT_OBJECT = (
    'could not parse {quote}: each action must be an object like {{"op": "final", "answer": "..."}}'
)
BAD_OP = 'invalid {quote}: {shown}; "op" must be one of "call", "peek", "grep", "final"'
NO_OP = "no op"
UNKNOWN_OP = "unknown op {op}"
# The tool-call form (``protocol.tool_form``).
UNKNOWN_TOOL = "unknown tool {name!r} in {shown}: use the tools call, peek, grep or final"
TOOL_ARGS_NOT_OBJECT = "arguments must be a JSON object"
TOOL_ARGS_NOT_JSON = "arguments are not valid JSON"
ANY_TOOL_USAGE = "call, peek, grep or final with JSON arguments"
# A reply that could not be read at all (``protocol.parse``).
UNREADABLE_REPLY = "could not read the reply ({error})"

# -- REPL errors: what a REPL reply it cannot act on is told (``protocol/repl.py``) ----------
REPL_NO_CODE = (
    "your reply has no ```repl block and no FINAL line: write Python in a ```repl block, or "
    "put your answer in FINAL(...) on a line of its own"
)
# A reply that is only a value (``42``, ``Paris``): how to give it as the answer.
REPL_BARE_VALUE = (
    "your reply has no FINAL line. If {value} is your answer, reply with exactly: FINAL({value})"
)
REPL_FINAL_WITH_CODE = (
    "FINAL(...) was ignored because this reply also ran code: read its output first, then "
    "answer (FINAL_VAR(...) with a variable's name answers with a value the code set)"
)
REPL_FINAL_IS_ERROR = (
    "that FINAL holds an error message, not an answer: fix the code that failed, or answer "
    "the question"
)
REPL_FINAL_IS_PLACEHOLDER = (
    "FINAL({argument}) copies the instructions' placeholder: put your actual answer between "
    "the brackets"
)
REPL_FINAL_VAR_NOT_A_NAME = (
    "FINAL_VAR({argument}) is not a variable name: put the name of a variable your code set "
    "between the brackets, or your answer itself in FINAL(...)"
)
REPL_TOO_MANY_CELLS = "only the first {limit} of {count} ```repl blocks were run"

# -- REPL cells: what the model and its code are told (``graph/repl_cell.py``) ---------------
# Observations: a cell's label, and an error about the reply (and its final line).
REPL_CELL_LABEL = "cell {cell}"
REPL_NOT_RUN_LABEL = "your cell"
REPL_FINAL_LABEL = "FINAL({name})"
REPL_FINAL_VAR_LABEL = "FINAL_VAR({name})"
REPL_ERROR = "error: {error}"
REPL_ERROR_WITH_HINT = "error: {error}. {hint}"
REPL_FINAL_ECHOES = "that FINAL only repeats the question; answer it"
# A FINAL value when none of the call's code has run without an error: nothing computed it.
REPL_FINAL_UNCOMPUTED = (
    "FINAL({answer}) was not taken: none of your code has run without an error yet, so "
    "nothing computed that answer. First run code that works it out and prints it"
)
# A number given as FINAL to a question that asks for one, which no output of the code shows.
# A counting cell whose code leaves out a value the question names (its number is not taken).
REPL_NOT_TAKEN_LABEL = "your cell's count"
REPL_CONDITIONS_UNTESTED = (
    "not taken: your code does not test {values}, which the question names, so the number it "
    "printed does not count what the question asks. Write the cell again with every condition "
    "of the question in its `if`, the values as the fields hold them: {tests}"
)
# The turn after a count that was not taken: the opening prompt again with the cell and why,
# not the conversation, whose own reply the 0.5B sent back word for word (tuning seed 21).
REPL_FIX_COUNT = """\


Your code was:
```repl
{code}
```
{note}"""
REPL_FINAL_NOT_SHOWN = (
    "FINAL({answer}) was not taken: no output of your code shows {answer}. Answer with a "
    "number your code printed, or write a ```repl block that computes the number itself "
    "(a counter, or len(...)) and prints it"
)
# A cell whose code is the same as one that already failed: not run again.
REPL_SAME_FAILED_CODE = (
    "not run: this is the same code as a cell that already failed with {error}. Running it "
    "again fails the same way: change the line that failed"
)
# A cell that is the same code as the latest one that ran: not run again, its output shown.
REPL_SAME_OK_CODE = (
    "not run: this is the same code as your last cell, which printed:\n{printed}\n"
    "Running it again prints the same. If that answers the question, {how}; otherwise change "
    "the code"
)
REPL_ANSWER_ANY = "reply with one line FINAL(...) holding the answer"
REPL_ANSWER_VALUE = "reply with just this line: FINAL({value})"
# A cell that assigns to ``context`` is not run: the 0.5B pasted the preview it was shown in as
# ``context = """..."""``, and the 1.5B cut it down (``context = context.split('\n')[1000:1200]``).
REPL_CONTEXT_ASSIGNED = (
    "not run: your code assigns to `context`, which already holds the whole text. Remove that "
    "assignment and read `context` as it is, for example `lines = context.splitlines()`"
)
# A cell that pastes text into ``context = """...`` until the reply is cut off: no code came
# after the paste (protocol/context_loads.py).
REPL_CONTEXT_PASTE_CUT = (
    'not run: your cell pastes text into `context = """...` and was cut off before that string '
    "ended, so none of your code came after it. `context` already holds the whole text: write "
    "only the code that reads it, with no text pasted and no assignment to `context`"
)
# A cell that loads ``context`` from a file or a literal: those lines are taken off, the rest
# runs (protocol/context_loads.py says why).
REPL_CONTEXT_LOAD_SKIPPED = (
    "note: `context` already holds the whole text (there are no files to open), so these lines "
    "of your cell were not run: {lines}. The rest ran on `context` as it is"
)
REPL_NO_SUCH_VARIABLE = "no variable {name!r} is set"
# FINAL_VAR of a list (or set, dict) for a question that asks for a number.
REPL_FINAL_NO_NUMBER = (
    "{name!r} holds {value!r}, which is no number, and the question asks for one. Reply with "
    "one line FINAL(<the number>)"
)
REPL_FINAL_UNTAKEN = (
    "{name!r} holds {value}, the count of a cell that was not taken: its code leaves out a "
    "value of the question. Write the cell again with every condition of the question"
)
REPL_FINAL_COLLECTION = (
    "{name!r} is a {kind} of {items:,} items, and the question asks for a number. Reply with "
    "one line FINAL(<the number>)"
)
# Which variables the code set, after a FINAL_VAR (or FINAL(name)) that names none of them.
REPL_NO_VARIABLES = (
    "Your code has set no variables: compute the answer in a ```repl block first, "
    "or put the answer itself in FINAL(...)"
)
REPL_VARIABLES_SET = (
    "Variables your code set (latest first): {names}. Put the one holding "
    "the answer in FINAL_VAR(...)"
)
# What a sub-call (llm_query, rlm_query) answers the code with when it is refused or fails:
# raised in the sandbox as a RuntimeError the code can read.
SUBCALL_TOO_DEEP = "not run: no sub-calls at this depth (max_depth={max_depth})"
SUBCALL_NOT_RUN = "not run"
SUBCALL_NEEDS_PROMPT = "llm_query needs a prompt"
SUBCALL_NEEDS_TASK = "rlm_query needs a task"
SUBCALL_TOO_LONG = (
    "not run: {what} is ~{tokens:,} tokens and a sub-call reads at most ~{window:,}; "
    "pass a shorter slice"
)
SUBCALL_PROMPT = "the prompt"
SUBCALL_TEXT = "the text"
SUBCALL_NO_CALLS = (
    "not run: {asked} sub-call(s) asked and {left} left in the model-call budget; ask for fewer"
)
SUBCALL_NO_TOKENS = "not run: they need ~{cost:,} tokens and {left:,} are left in the token budget"
SUBCALLS_REFUSED = "sub-calls refused too often: stop asking"
SUBCALL_LOST = "{function}: the sub-call was lost"
SUBCALL_FAILED = "{function} failed: {error}"
SUBCALL_UNKNOWN_ERROR = "unknown error"
