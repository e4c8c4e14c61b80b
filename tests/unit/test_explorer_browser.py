"""The HTML explorer in real headless Chromium (Debian's, driven by Playwright): it renders the
tree, expands and collapses, searches, shows a call, draws the timeline, stays usable at 10,000
calls; a screenshot is kept in test-artifacts/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from rlm_graph.samples import make_haystack
from rlm_graph.state import CallRecord, Usage
from rlm_graph.tree import build_tree, load, write_tree
from tests.unit.conftest import make_rlm
from tests.unit.test_durable import fan_out_planner

CHROMIUM = os.environ.get("RLM_GRAPH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Chromium as root in a closed network: no sandbox, and nothing that phones home.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def explorer_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explorer")
    db = str(folder / "runs.sqlite")
    text = make_haystack(100_000, seed=3, position=0.8)
    rlm = make_rlm(fan_out_planner(2), db, max_depth=2, max_calls=300)
    rlm.invoke(  # sync: Playwright's sync API may already run an event loop in this thread
        {"query": "What is the vault access code?", "context": text},
        {"configurable": {"thread_id": "x"}},
    )
    tree = load("x", db)
    return write_tree(tree, "html", folder / "tree.html"), tree


def test_the_explorer_renders_expands_searches_and_shows_calls(browser, explorer_file):
    path, tree = explorer_file
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    page.wait_for_selector("#tree li.node")
    total = tree.number_of_nodes()
    assert page.locator("#tree li.node").count() == total  # a small tree opens whole
    assert page.locator("#node-count").inner_text().startswith(f"{total} of {total}")

    toggle = page.locator('li.node[data-id="t1"] > .row > button.toggle')
    toggle.click()  # collapse the root: only the thread and the root remain
    assert page.locator("#tree li.node").count() == 2
    toggle = page.locator('li.node[data-id="t1"] > .row > button.toggle')
    toggle.click()
    children = list(tree.successors("t1"))
    assert page.locator("#tree li.node").count() >= 2 + len(children)

    page.fill("#search", "7391-ALPHA")
    matching = [n for n, d in tree.nodes(data=True) if "7391-ALPHA" in (d.get("answer") or "")]
    assert page.locator("#match-count").inner_text() == f"{len(matching)} matching"
    assert page.locator("li.node.match").count() == len(matching)

    leaf = next(n for n in matching if tree.nodes[n]["kind"] == "leaf")
    page.locator(f'li.node[data-id="{leaf}"] > .row').click()
    assert page.locator("#detail-answer").inner_text() == "7391-ALPHA"
    assert "verified" in page.locator("#detail").inner_text()
    assert page.locator("li.node.critical").count() >= 2  # the root and the call it waited for

    page.select_option("#colour-by", "latency")
    page.click("#view-toggle")
    bars = page.locator("#gantt g.bar").count()
    assert bars == total - 1  # every call but the thread node
    ARTIFACTS.mkdir(exist_ok=True)
    page.click("#view-toggle")
    page.screenshot(path=str(ARTIFACTS / "explorer.png"), full_page=False)
    assert not errors


def test_ten_thousand_calls_open_collapsed_and_stay_usable(browser, tmp_path):
    records = [CallRecord(id="t1", kind="root", task="q", status="done", started_at=0, ended_at=60)]
    for i in range(1, 101):  # 100 planning children of 99 leaves each: over 10,000 calls
        records.append(
            CallRecord(
                id=f"t1.{i}",
                parent_id="t1",
                depth=1,
                kind="node",
                task=f"part {i}",
                status="done",
                started_at=i,
                ended_at=i + 30,
            )
        )
        records += [
            CallRecord(
                id=f"t1.{i}.{j}", parent_id=f"t1.{i}", depth=2, kind="leaf", task="find",
                target=f"chunk:{j}", status="done", answer="not here", started_at=i + j * 0.1,
                ended_at=i + j * 0.1 + 1, usage=Usage(input_tokens=900, output_tokens=10, model_calls=1),
            )
            for j in range(1, 100)
        ]  # fmt: skip
    tree = build_tree(records)
    path = write_tree(tree, "html", tmp_path / "big.html")
    page = browser.new_page()
    page.goto(path.as_uri())
    page.wait_for_selector("#tree li.node")
    assert tree.number_of_nodes() == 10_001  # the root, 100 planning children, 9,900 leaves
    shown = page.locator("#tree li.node").count()
    assert shown <= 101  # the root and its children; the rest stays folded
    page.locator('li.node[data-id="t1.42"] > .row > button.toggle').click()
    assert page.locator("#tree li.node").count() == shown + 99
    page.fill("#search", "t1.77.5")
    assert page.locator("li.node.match").count() >= 1
