"""The runs table in a real browser: sort, filter, group, open a run, compare, curves that grow, ignore two at once."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from test_sidebar import REPO, kernel_side, open_sidebar  # tests/browser is on sys.path (rootdir-relative)

pytestmark = pytest.mark.browser

HYPOTHESIS = """Momentum 0.9 lowers validation loss on digits
success: val_loss <= 0.3
metrics: val_loss, acc
"""

LIVE_RUN = """
import sys, time
from jupyter_mlexp.core.experiment import Experiment
exp = Experiment("digits-momentum")
run = exp.start_run("full", run_id="f-live", params={"momentum": 0.9, "lr": 0.1}, seed=9)
step = 0
while step < 400:
    run.log_metric("val_loss", 1.0 / (step + 1), step=step)
    run.close_metrics()
    step += 1
    time.sleep(0.25)
exp.finish_run(run, "completed")
"""


def make_record(root: Path) -> None:
    kernel_side(
        root,
        f"""
        import json
        import nbformat
        exp = Experiment("digits-momentum")
        exp.register({HYPOTHESIS!r})
        exp.add_journal("momentum 0.5 looks flat after epoch 2", tags=["WEIRD"])
        runs = [
            ("f-m5-s0", 0.5, 0, 0.42), ("f-m5-s1", 0.5, 1, 0.40),
            ("f-m9-s0", 0.9, 0, 0.25), ("f-m9-s1", 0.9, 1, 0.28), ("f-m9-s2", 0.9, 2, 0.27),
        ]
        for rid, m, seed, final in runs:
            run = exp.start_run("full", run_id=rid, params={{"momentum": m, "lr": 0.1}}, seed=seed)
            for step in range(20):
                run.log_metric("val_loss", final + (1.0 - final) * 0.8 ** step, step=step)
            run.log_metric("acc", 1 - final / 2, step=19)
            # as a real run's output.ipynb: written by nbformat (4.5, cell ids), kernelspec and language_info
            nb = nbformat.v4.new_notebook(metadata={{
                "kernelspec": {{"name": "python3", "display_name": "Python 3", "language": "python"}},
                "language_info": {{"name": "python"}}}})
            nb.cells.append(nbformat.v4.new_markdown_cell("# output of " + rid))
            nbformat.write(nb, str(run.path / "output.ipynb"))
            exp.finish_run(run, "completed")
        run = exp.start_run("quick", run_id="q-bad", params={{"momentum": 0.9, "lr": 1.0}}, seed=0)
        run.log_metric("val_loss", 9.0, step=0)
        try:
            raise FloatingPointError("loss is NaN at step 3 <script>alert(1)</script>")
        except FloatingPointError as err:
            exp.finish_run(run, "failed", error=err)
        """,
    )


def open_runs_table(page: Page, lab):
    open_sidebar(page, lab)
    page.locator("#jp-mlexp-sidebar button", has_text="Open runs table").click()
    panel = page.locator("#jp-mlexp-runs")
    expect(panel).to_be_visible()
    expect(panel.locator(".jp-mlexp-grid-run")).to_have_count(6, timeout=20_000)
    return panel


def run_ids(panel) -> list[str]:
    return panel.locator(".jp-mlexp-grid-run").evaluate_all("rows => rows.map(r => r.dataset.runId)")


def test_runs_table_sort_filter_open_compare_curves_ignore(page: Page, start_lab, tmp_path, artifacts):
    root = tmp_path / "root"
    root.mkdir()
    make_record(root)
    lab = start_lab(root)
    t0 = time.monotonic()
    panel = open_runs_table(page, lab)
    print(f"runs table on screen {time.monotonic() - t0:.2f} s after navigation started")
    expect(panel.locator(".jp-mlexp-grid-head")).to_contain_text("momentum")
    expect(panel.locator(".jp-mlexp-grid-head")).to_contain_text("val_loss")

    # Sort by the primary metric: ascending puts the best (lowest loss) first.
    header = panel.locator('.jp-mlexp-grid-head button[title="Sort by val_loss"]')
    header.click()  # metrics sort descending first
    expect(panel.locator('[aria-sort="descending"]')).to_have_count(1)
    assert run_ids(panel)[0] == "q-bad"
    header.click()
    expect(panel.locator('[aria-sort="ascending"]')).to_have_count(1)
    assert run_ids(panel)[:3] == ["f-m9-s0", "f-m9-s2", "f-m9-s1"]

    # Filter by a parameter.
    panel.locator('input[aria-label="Filter runs"]').fill("momentum=0.5")
    expect(panel.locator(".jp-mlexp-grid-run")).to_have_count(2)
    assert sorted(run_ids(panel)) == ["f-m5-s0", "f-m5-s1"]
    panel.locator('input[aria-label="Filter runs"]').fill("")
    expect(panel.locator(".jp-mlexp-grid-run")).to_have_count(6)

    # Group by configuration: mean ± spread over seeds.
    panel.locator("label", has_text="Group by configuration").locator("input").check()
    group = panel.locator('.jp-mlexp-grid-group[data-config="lr=0.1, momentum=0.9"]')
    expect(group).to_contain_text("3 runs")
    expect(group).to_contain_text(re.compile(r"0\.2\d+ ± 0\.01\d+"))
    # the mean ± spread is shown whole, not cut: its cell is as wide as its text
    cell = group.locator('[role="gridcell"]', has_text="±").first
    assert cell.evaluate("el => el.scrollWidth <= el.clientWidth"), cell.inner_text()
    # a configuration row is reachable by keyboard: Enter ticks its runs to compare
    group.focus()
    page.keyboard.press("Enter")
    expect(panel.locator(".jp-mlexp-selection")).to_contain_text("3 runs selected")
    panel.locator("button", has_text="Clear selection").click()
    panel.locator("label", has_text="Group by configuration").locator("input").uncheck()

    # A failed run shows its error at once, as text; its output opens in a notebook tab.
    panel.locator('.jp-mlexp-grid-run[data-run-id="q-bad"]').click()
    detail = panel.locator(".jp-mlexp-run-detail")
    expect(detail.locator(".jp-mlexp-run-error")).to_contain_text(
        "FloatingPointError: loss is NaN at step 3 <script>alert(1)</script>"
    )
    panel.locator('.jp-mlexp-grid-run[data-run-id="f-m9-s0"]').focus()
    page.keyboard.press("Enter")
    expect(detail).to_contain_text("f-m9-s0")
    page.keyboard.press("ArrowDown")  # arrow keys walk the rows
    expect(panel.locator('.jp-mlexp-grid-run[data-run-id="f-m9-s2"]')).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(panel.locator('.jp-mlexp-grid-run[data-run-id="f-m9-s0"]')).to_be_focused()
    # one roving tab stop: Tab leaves the grid instead of walking its rows
    assert panel.locator('.jp-mlexp-grid [tabindex="0"]').count() == 1
    page.keyboard.press("Tab")
    assert not page.evaluate("document.activeElement.closest('.jp-mlexp-grid')")
    chart = panel.locator(".jp-mlexp-curves .jp-mlexp-chart")
    expect(chart).to_have_attribute("data-curves", "1")
    expect(chart.locator("canvas").first).to_be_visible()
    detail.locator("button", has_text="Open output.ipynb").click()
    tab = page.locator(".lm-TabBar-tab", has_text="output.ipynb")
    expect(tab).to_be_visible(timeout=20_000)
    expect(page.locator(".jp-NotebookPanel .jp-MarkdownOutput").first).to_contain_text("output of f-m9-s0")
    time.sleep(0.5)
    expect(tab).not_to_have_class(re.compile("jp-mod-dirty"))  # looking changes nothing: no unsaved-changes dot
    time.sleep(1.0)  # a kernel, had one been asked for, has its session by now
    status, body = lab.get("api/sessions")
    assert status == 200, body
    assert not [s for s in json.loads(body) if s["path"].endswith("output.ipynb")], body  # looking starts no kernel
    page.locator(".lm-TabBar-tab", has_text="Runs:").click()

    # Compare two runs: parameter differences marked, curves overlaid.
    panel.locator('input[aria-label="Select run f-m5-s0"]').check()
    panel.locator('input[aria-label="Select run f-m9-s0"]').check()
    compare = panel.locator(".jp-mlexp-compare")
    expect(compare.locator(".jp-mlexp-differs")).to_contain_text("momentum")
    expect(chart).to_have_attribute("data-curves", "2")
    # the chart spans the panel, and the cursor reads out step and each curve's value
    chart_width = chart.locator(".uplot").evaluate("el => el.getBoundingClientRect().width")
    assert chart_width > 0.8 * panel.evaluate("el => el.getBoundingClientRect().width"), chart_width
    over = chart.locator(".u-over")
    box = over.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    expect(chart.locator(".jp-mlexp-chart-readout")).to_contain_text(re.compile(r"step \d+ · f-m5-s0: 0\.\d+"))
    page.screenshot(path=str(artifacts / "runs-table.png"))

    # A curve grows while its run is going.
    env = {"MLEXP_ROOT": str(root), "PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    live = subprocess.Popen([sys.executable, "-c", textwrap.dedent(LIVE_RUN)], env=env, cwd=root)
    try:
        row = panel.locator('.jp-mlexp-grid-run[data-run-id="f-live"]')
        expect(row).to_be_visible(timeout=20_000)
        # its metric column shows the latest value logged, marked live, not "–"
        expect(row.locator(".jp-mlexp-live").first).to_be_visible(timeout=20_000)
        panel.locator("button", has_text="Clear selection").click()
        row.click()
        legend = panel.locator(".jp-mlexp-legend-item", has_text="f-live")
        expect(legend).to_be_visible(timeout=20_000)
        first = int(re.search(r"\((\d+) points\)", legend.inner_text()).group(1))
        expect(legend).not_to_have_text(re.compile(rf"\({first} points\)"), timeout=20_000)
        later = int(re.search(r"\((\d+) points\)", legend.inner_text()).group(1))
        assert later > first
    finally:
        live.kill()
        live.wait()

    # Ignore two runs at once, with one reason: IGNORED_RUNS.md gets both.
    panel.locator('input[aria-label="Select run f-m5-s0"]').check()
    panel.locator('input[aria-label="Select run f-m5-s1"]').check()
    panel.locator("button", has_text="Ignore selected").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Ignore 2 runs")
    dialog.locator("input").fill("momentum 0.5 used the wrong schedule")
    dialog.locator("button.jp-mod-accept").click()
    expect(panel.locator('.jp-mlexp-grid-run[data-run-id="f-m5-s0"]')).to_have_class(re.compile("jp-mlexp-run-ignored"))
    expect(panel.locator('.jp-mlexp-grid-run[data-run-id="f-m5-s1"]')).to_contain_text("ignored")
    # The sidebar shows them at once too.
    sidebar_ignored = page.locator("#jp-mlexp-sidebar .jp-mlexp-ignored")
    expect(sidebar_ignored.locator('[data-run-id="f-m5-s1"]')).to_contain_text("momentum 0.5 used the wrong schedule")
    ignored_md = (root / "experiments" / "digits-momentum" / "IGNORED_RUNS.md").read_text()
    assert "- `f-m5-s0`: momentum 0.5 used the wrong schedule" in ignored_md
    assert "- `f-m5-s1`: momentum 0.5 used the wrong schedule" in ignored_md
    page.screenshot(path=str(artifacts / "runs-table-ignored.png"))


LOOP = r"""
from jupyter_mlexp.loop.loop_state import Attempt, LoopFiles, LoopState, Settings
exp = Experiment("digits-momentum")
files = LoopFiles(exp.path, "tune")
files.path.mkdir(parents=True)
attempts = [
    Attempt(0, "baseline", "c0", "", status="keep", values=[0.30, 0.32], seeds=[0, 1]),
    Attempt(1, "warmup 5 epochs", "c1", "c0", status="keep", reason="better by 0.04 (p = 0.01)", values=[0.27, 0.27]),
    Attempt(2, "momentum 0.99", "c2", "c1", status="discard", reason="no better (p = 0.41)", values=[0.28, 0.29]),
]
files.save(LoopState(Settings("tune", exp.name, "val_loss", False, [0, 1]), attempts))
(files.path / "attempts").mkdir()
files.patch(1).write_text("--- a/train.py\n+++ b/train.py\n@@ -1 +1 @@\n-warmup = 0\n+warmup = 5\n")
"""


def test_runs_table_dark_loops_and_report_button(page: Page, start_lab, tmp_path, artifacts):
    root = tmp_path / "root"
    root.mkdir()
    make_record(root)
    kernel_side(root, LOOP)
    lab = start_lab(root, theme="JupyterLab Dark")
    panel = open_runs_table(page, lab)
    # The loop: attempts in order with their decision and the running best; a diff on click.
    loop = panel.locator('.jp-mlexp-loop[data-loop="tune"]')
    expect(loop.locator("tbody tr")).to_have_count(3)
    expect(loop.locator('tr[data-attempt="2"]')).to_contain_text("no better (p = 0.41)")
    loop.locator('tr[data-attempt="1"] button').click()
    expect(panel.locator(".jp-mlexp-diff-add")).to_contain_text("+warmup = 5")
    panel.locator("label", has_text="Group by configuration").locator("input").check()
    panel.locator('input[aria-label="Select configuration full lr=0.1, momentum=0.9"]').check()
    chart = panel.locator(".jp-mlexp-curves .jp-mlexp-chart")
    expect(chart).to_have_attribute("data-bands", "1")  # the ± spread band
    # Two configurations compared: mean ± spread each, the differing parameter marked, two bands.
    panel.locator('input[aria-label="Select configuration full lr=0.1, momentum=0.5"]').check()
    compare = panel.locator(".jp-mlexp-compare")
    expect(compare.locator("thead th")).to_have_count(3)
    expect(compare.locator(".jp-mlexp-differs")).to_contain_text("momentum")
    expect(compare).to_contain_text("±")
    expect(chart).to_have_attribute("data-bands", "2")
    over = chart.locator(".u-over")
    box = over.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
    expect(chart.locator(".jp-mlexp-chart-readout")).to_contain_text("±")
    page.screenshot(path=str(artifacts / "runs-table-dark.png"))

    # The sidebar's compact loop: counts, the best so far with its commit, the latest attempts, a diff by keyboard.
    sidebar = page.locator("#jp-mlexp-sidebar")
    loops = sidebar.locator(".jp-mlexp-sidebar-loops")
    expect(loops.locator('[data-loop="tune"] .jp-mlexp-loop-counts')).to_have_text("2 keep · 1 discard · 0 crash")
    expect(loops.locator(".jp-mlexp-loop-best")).to_contain_text("(attempt 1 at c1)")
    expect(loops.locator('[data-attempt="2"]')).to_contain_text("no better (p = 0.41)")
    loops.locator('[data-attempt="1"] button').focus()
    page.keyboard.press("Enter")
    expect(loops.locator(".jp-mlexp-diff-add")).to_contain_text("+warmup = 5")
    loops.scroll_into_view_if_needed()
    sidebar.screenshot(path=str(artifacts / "sidebar-loops-dark.png"))
    sidebar.locator("button", has_text="Build report").click()
    expect(page.locator(".lm-TabBar-tab", has_text="report.ipynb")).to_be_visible(timeout=60_000)
    assert (root / "experiments" / "digits-momentum" / "report.ipynb").is_file()
    # The report as Lab shows it, with the verdict's headline at its top, in the dark theme and the light one.
    report = page.locator(".jp-NotebookPanel:visible")
    main = page.locator("#jp-main-dock-panel")  # the panel's own picture leaves out the theme's background
    expect(report.locator(".jp-RenderedMarkdown").first).to_be_visible(timeout=60_000)
    page.wait_for_timeout(1000)  # the rest of the cells and the theme's CSS settle before the picture
    main.screenshot(path=str(artifacts / "report-dark.png"))
    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
    page.locator(".lm-Menu-itemLabel", has_text="Theme").first.hover()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^JupyterLab Light$")).click()
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "true", timeout=20_000)
    page.wait_for_timeout(1000)
    main.screenshot(path=str(artifacts / "report-light.png"))


LONG_RUN = """
import json, math
exp = Experiment("long-curve")
exp.register({hypothesis!r})
run = exp.start_run("full", run_id="f-long", params={{"lr": 0.1}}, seed=0)
# written straight to metrics.jsonl (as the core writes it): 200,000 lines, a decay with a spike every 20,000 steps
with open(run.path / "metrics.jsonl", "w") as fh:
    for step in range({lines}):
        value = 0.2 + 0.8 / (1 + step / 2000) + (0.3 if step % 20000 == 0 else 0.02 * math.sin(step / 50))
        fh.write(json.dumps({{"name": "val_loss", "value": value, "step": step, "time": 1765000000.0 + step}}) + "\\n")
exp.finish_run(run, "completed")
"""


def test_runs_table_samples_a_long_curve(page: Page, start_lab, tmp_path, artifacts):
    """A run of 200,000 metric lines: its curve is the server's sample of the whole file, and says so."""
    root = tmp_path / "root"
    root.mkdir()
    lines = 200_000
    kernel_side(root, LONG_RUN.format(hypothesis=HYPOTHESIS, lines=lines))
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/metrics" in r.url else None)
    lab = start_lab(root)
    open_sidebar(page, lab)
    page.locator("#jp-mlexp-sidebar button", has_text="Open runs table").click()
    panel = page.locator("#jp-mlexp-runs")
    panel.locator('.jp-mlexp-grid-run[data-run-id="f-long"]').click(timeout=30_000)
    legend = panel.locator(".jp-mlexp-legend-item", has_text="f-long")
    expect(legend).to_contain_text(re.compile(rf"sampled: \d+ of {lines} points"), timeout=30_000)
    drawn = int(re.search(r"sampled: (\d+) of", legend.inner_text()).group(1))
    assert 1000 < drawn <= 4000, drawn
    assert any("points=4000" in url for url in asked), asked  # the server sampled the whole file
    panel.locator(".jp-mlexp-curves").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "runs-table-sampled-curve.png"))


def make_many_runs(root: Path, n: int) -> None:
    """``n`` finished runs written straight to disk (as the core would), to time the page, not the writer."""
    kernel_side(
        root,
        f"""
        import json
        exp = Experiment("many-runs")
        exp.register({HYPOTHESIS!r})
        run = exp.start_run("full", run_id="template", params={{"momentum": 0.9, "lr": 0.1}}, seed=0)
        run.log_metric("val_loss", 0.5)
        exp.finish_run(run, "completed")
        manifest = json.loads((run.path / "run.json").read_text())
        for i in range({n}):
            folder = exp.path / "full" / f"r-{{i:05d}}"
            folder.mkdir()
            loss = 0.2 + ((i * 7919) % {n}) / {n}
            summary = {{"val_loss": {{"last": loss, "min": loss, "max": loss, "n": 1, "step": 0}}}}
            (folder / "run.json").write_text(json.dumps({{**manifest, "run_id": f"r-{{i:05d}}", "seed": i % 5,
                "params": {{"momentum": [0.5, 0.9][i % 2], "lr": 0.1}}, "metrics_summary": summary}}))
        """,
    )


def test_runs_table_with_ten_thousand_runs(page: Page, start_lab, tmp_path, artifacts):
    root = tmp_path / "root"
    root.mkdir()
    make_many_runs(root, 10_000)
    lab = start_lab(root)
    open_sidebar(page, lab)
    expect(page.locator("#jp-mlexp-sidebar .jp-mlexp-runs-full")).to_contain_text("10001", timeout=60_000)
    # Timed in the page (Playwright's own polling is coarser than the goal): click to the first rows drawn.
    opened = page.evaluate(
        """async () => {
            const button = Array.from(document.querySelectorAll('#jp-mlexp-sidebar button'))
                .find(b => b.textContent.includes('Open runs table'));
            const t0 = performance.now();
            button.click();
            while (!document.querySelector('#jp-mlexp-runs .jp-mlexp-grid-run')) {
                await new Promise(r => requestAnimationFrame(r));
            }
            return (performance.now() - t0) / 1000;
        }"""
    )
    panel = page.locator("#jp-mlexp-runs")
    drawn = panel.locator(".jp-mlexp-grid-run").count()
    assert drawn < 60  # virtualised: only the rows in view (and a few more) are in the page
    expect(panel.locator(".jp-mlexp-runs-view .jp-mlexp-title")).to_contain_text("10001 of 10001 shown")

    header = panel.locator('.jp-mlexp-grid-head button[title="Sort by val_loss"]')
    # Sorting, timed in the page (click to the sorted rows drawn), median of a few tries either way.
    sort_js = """async ([selector, first]) => {
        const t0 = performance.now();
        document.querySelector(selector).click();
        while (document.querySelector('.jp-mlexp-grid-run')?.dataset.runId !== first) {
            await new Promise(r => requestAnimationFrame(r));
        }
        return (performance.now() - t0) / 1000;
    }"""
    sel = '#jp-mlexp-runs .jp-mlexp-grid-head button[title="Sort by val_loss"]'
    tries = []
    for _ in range(3):
        header.click()  # descending first
        expect(panel.locator('[aria-sort="descending"]')).to_have_count(1)
        tries.append(page.evaluate(sort_js, [sel, "r-00000"]))  # ascending: the lowest loss first
    sorted_in = sorted(tries)[1]
    # The anchor, same run: the table's own request (server cache warm) and JSON parse, in the page.
    anchor = page.evaluate(
        """async (url) => {
            const t0 = performance.now();
            const r = await fetch(url, {headers: {Authorization: 'token ' + TOKEN}});
            await r.json();
            return (performance.now() - t0) / 1000;
        }""".replace("TOKEN", repr(lab.token)),
        lab.url + "mlexp/api/experiments/many-runs/table",
    )
    # Scrolling far down draws other rows, still only a few; the focused row's focus is parked, not lost,
    # and it comes back when the row is drawn again (issue 12: keyboard users keep their place).
    panel.locator('.jp-mlexp-grid-run[data-run-id="r-00000"]').focus()
    scroller = panel.locator(".jp-mlexp-windowed")
    scroller.evaluate("el => { el.scrollTop = el.scrollHeight / 2; }")
    expect(panel.locator('.jp-mlexp-grid-run[data-run-id="r-00000"]')).to_have_count(0)
    assert panel.locator(".jp-mlexp-grid-run").count() < 60
    assert scroller.evaluate("el => el.contains(document.activeElement)")
    scroller.evaluate("el => { el.scrollTop = 0; }")
    expect(panel.locator('.jp-mlexp-grid-run[data-run-id="r-00000"]')).to_be_focused()
    figures = f"open_s={opened:.3f}\nsort_s={sorted_in:.3f}\nsort_tries_s={tries}\nanchor_fetch_parse_s={anchor:.3f}\n"
    print("10,000 runs:", figures.replace("\n", " "))
    (artifacts / "runs-table-10000.txt").write_text(figures)
    # the goals: the first page under 1 s after the click, a sort under 200 ms (median of three)
    assert opened < 1.0, figures
    assert sorted_in < 0.2, figures
