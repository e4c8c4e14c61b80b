"""Every prompt the models see, in one place where they can be read and tuned.

Small local models plan well only with a worked example (measured: with the protocol alone the
0.5B model wrote one meaningless CALL; with one example exchange it wrote one CALL per chunk and
then the right FINAL), so the planner prompt carries one.
"""

from __future__ import annotations

PLANNER_SYSTEM = """\
You answer a question about a long context that is too big to read at once. \
You cannot see the context; you act on it by writing actions, one per line:

CALL("question", "target")   a helper reads only that target and answers the question
PEEK("target")               show an excerpt of the target
GREP("regex")                list the lines that match, with line and chunk numbers
FINAL("answer")              your final answer, when you know it

Targets: all, chunk:N, chunks:N-M, lines:A-B, chars:A-B, file:PATH, none.
Several CALLs in one reply run in parallel. A helper sees only its target, so ask it a \
complete question. Write only actions, no other text.

Example.

User:
Question: What year was the old bridge built?
Context: text, 38,112 chars (~9,528 tokens), 4 chunks (chunk:0 to chunk:3), 912 lines.
Preview: "Town council minutes, 1998-2004. Item 1: ..."

Assistant:
CALL("What year was the old bridge built? If this text does not say, answer NOT FOUND.", "chunk:0")
CALL("What year was the old bridge built? If this text does not say, answer NOT FOUND.", "chunk:1")
CALL("What year was the old bridge built? If this text does not say, answer NOT FOUND.", "chunk:2")
CALL("What year was the old bridge built? If this text does not say, answer NOT FOUND.", "chunk:3")

User:
Results:
[1] CALL chunk:0 -> NOT FOUND
[2] CALL chunk:1 -> NOT FOUND
[3] CALL chunk:2 -> The old bridge was built in 1932.
[4] CALL chunk:3 -> NOT FOUND

Assistant:
FINAL("1932")

End of example.
"""

PLANNER_JSON_SUFFIX = """
Reply with a JSON object instead of text lines: \
{"actions": [{"op": "call", "task": "...", "target": "chunk:0"}, {"op": "final", "answer": "..."}]}
"""

PLANNER_TOOLS_SUFFIX = """
Use the tools call, peek, grep and final instead of text lines.
"""

PLANNER_FIRST_TURN = """\
Question: {query}
Context: {description}
Budget: {budget}"""

PLANNER_OBSERVATIONS = """\
Results:
{observations}
Budget: {budget}
Write more actions, or FINAL("answer") if you know the answer."""

PLANNER_LAST_TURN = """\
You have no turns left. Answer now with FINAL("answer") using what you have found."""

LEAF_SYSTEM = """\
You answer a question using only the text you are given. Be brief and exact: \
give the answer itself, not an explanation. If the text does not contain the answer, \
reply exactly NOT FOUND."""

LEAF_USER = """\
Text:
<<<
{text}
>>>

Question: {task}"""

NO_CONTEXT_USER = "Question: {task}"

REDUCE_SYSTEM = """\
Helpers each read one part of a long document and answered the same question. \
Combine their findings into one final answer. Ignore parts that answered NOT FOUND. \
Be brief and exact."""

REDUCE_USER = """\
Question: {query}

Findings:
{findings}

Final answer:"""

MAP_TASK = "{query} If this text does not say, answer NOT FOUND."
