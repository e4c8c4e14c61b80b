# Two commands do all the set-up on a fresh machine:
#   make demo   - installs everything into .venv, writes a sample long document and answers a
#                 question over it on the embedded local model (offline)
#   make test   - installs everything into .venv and runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_DOC ?= big_haystack.txt
DEMO_CHARS ?= 100000

.PHONY: setup system-deps demo test test-fast lint bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[local,dev]'
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

test: setup system-deps
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not integration"

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: setup
	$(PY) benchmarks/overhead.py
	$(PY) benchmarks/scale.py
	$(PY) benchmarks/vs_rlms.py
	$(PY) benchmarks/grep_speed.py
	$(PY) benchmarks/tree_scale.py
