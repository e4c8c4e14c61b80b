"""The README's pictures of a stored run: its tree as PNG and a screenshot of the explorer.

    .venv/bin/rlm-graph ask "What is the vault access code?" --context big_haystack.txt \\
        --thread readme --db /tmp/readme.sqlite
    .venv/bin/python scripts/readme_pictures.py readme --db /tmp/readme.sqlite

The screenshot is taken in Debian's headless Chromium through Playwright, with the first leaf
whose answer is verified selected (else the root), so the detail pane shows a real call.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rlm_graph.tree import load, write_tree  # noqa: E402

FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("thread")
    parser.add_argument("--db", default="default")
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for the pictures")
    args = parser.parse_args()
    out = Path(args.out)
    tree = load(args.thread, args.db)
    print(write_tree(tree, "png", out / "tree.png"))

    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("RLM_GRAPH_CHROMIUM") or shutil.which("chromium")
    verified = [
        n for n, d in tree.nodes(data=True) if d.get("kind") == "leaf" and d.get("verified")
    ]
    selected = verified[0] if verified else "t1"
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        html = write_tree(tree, "html", Path(folder) / "tree.html")
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 860})
        page.goto(html.as_uri())
        page.wait_for_selector("#tree li.node")
        page.locator(f'li.node[data-id="{selected}"] > .row').click()
        page.screenshot(path=str(out / "explorer.png"))
        browser.close()
    print(out / "explorer.png")


if __name__ == "__main__":
    main()
