"""Every prompt the models see, in one place where they can be read and tuned.

Small local models plan well only with a worked example (measured: with the protocol alone the
0.5B model wrote one meaningless CALL; with one example exchange it wrote one CALL per chunk and
then the right FINAL), so the planner prompt carries one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rlm_graph.budget import Budget

PLANNER_FIRST_TURN = """\
Question: {query}
{earlier}{description}
{chunk_list}Budget: {budget}"""

# A follow-up question on a thread: what was asked and answered before (never the transcripts).
EARLIER_TURNS = """\
Earlier questions on this context, with their final answers:
{turns}
"""

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
    description="""\
Context: file minutes.txt
Size: 45,112 chars (bytes), about 11,278 tokens, 912 lines
Chunks: 6 chunks (chunk:0 to chunk:5), each about 2,000 tokens with 100 tokens overlap
Targets: use all, chunk:N, chunks:N-M, chars:A-B, lines:A-B, file:PATH or none
Preview (first 300 chars):
Town council minutes, 1998-2004. Item 1: ...""",
    chunk_list="Chunk targets: chunk:0, chunk:1, chunk:2, chunk:3, chunk:4, chunk:5\n",
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
You answer a question about a context that is too long to read at once. You work in a Python \
REPL: write code in ```repl blocks; you see only what the code prints.

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
the answer from the whole `context` variable and prints it."""

REPL_OBSERVATIONS = """\
Output:
{observations}
Budget: {budget}
Write another ```repl block, or, if you know the answer, FINAL(<answer>) or \
FINAL_VAR(<variable>)."""

REPL_FORCE_FINAL = """\
{reason} Answer now with FINAL(<answer>), or FINAL_VAR(<variable>) for a variable your code \
set; no more code."""


def budget_left(budget: Budget, iteration: int) -> str:
    """What the planner is told it has left: calls, turns, and tokens and seconds if capped."""
    parts = [f"{budget.calls_left} model calls", f"{budget.max_iterations - iteration} turns"]
    if budget.tokens_left is not None:
        parts.append(f"{budget.tokens_left:,} tokens")
    if budget.seconds_left is not None:
        parts.append(f"{budget.seconds_left:.0f} s")
    return ", ".join(parts) + " left"
