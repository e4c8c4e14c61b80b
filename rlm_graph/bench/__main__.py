"""``python -m rlm_graph.bench ...``: the bench command on its own."""

import sys

from rlm_graph.bench.cli import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
