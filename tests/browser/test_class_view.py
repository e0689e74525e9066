"""The class view in a real browser: a class built through the product, collected, opened read-only.

Also the student's side: the course's locked fields in the sidebar's hypothesis card.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from jupyter_mlexp.classroom.class_report import write_class_report
from jupyter_mlexp.classroom.collect import collect
from jupyter_mlexp.core.experiment import Experiment
from tests.classroom.students import CASES, Clock, build_student, register, seeds

pytestmark = pytest.mark.browser

COURSE = "course: ml101\nmetric: val_acc\nseeds: 3\nbaseline: lr=0.1\nbudget: 60\n"
# the flag each case must carry in the view (the class report's audit decides them)
FLAG_OF = {
    "loosened": "changed after runs",
    "ignored": "ignored run changes verdict",
    "quickonly": "no full runs",
    "reordered": "record altered",
    "recomputed": "record altered",
    "reused": "reused exploration seeds",
    "offcourse": "contradicts course",
}


def make_class(tmp: Path, root: Path) -> None:
    """One student per case in a shared course folder outside the server root, collected (and reported)
    into ``root/ml101-class``; and, at the root, a student's own experiment under the course file."""
    mp = pytest.MonkeyPatch()
    try:
        Clock(mp)
        mp.delenv("MLEXP_COURSE", raising=False)
        mp.delenv("MLEXP_ROOT", raising=False)
        for case in CASES:
            build_student(tmp / "build" / case, case)
            shutil.copytree(tmp / "build" / case / "experiments", tmp / "shared" / case / "experiments")
        out = root / "ml101-class"
        out.mkdir()
        (out / "course.yaml").write_text(COURSE)
        collect([str(tmp / "shared")], out)
        write_class_report(out, html=False)
        # the student's side: course.yaml at the workspace root, a hypothesis that keeps it
        (root / "course.yaml").write_text(COURSE)
        exp = Experiment("warmup", root=root)
        register(exp, 0.9)
        seeds(exp, [0.95, 0.96, 0.97])
    finally:
        mp.undo()


def open_class_view(page: Page, lab) -> None:
    page.goto(f"{lab.url}lab?token={lab.token}")
    expect(page.locator('.jp-SideBar li[data-id="jp-mlexp-sidebar"]')).to_be_visible(timeout=60_000)
    expect(page.locator(".jp-Launcher").first).to_be_visible(timeout=60_000)  # the layout is restored
    # the command palette, as an instructor would: one class workspace under the root opens at once
    page.locator(".lm-MenuBar-itemLabel", has_text="View").click()
    page.locator(".lm-Menu-itemLabel", has_text="Activate Command Palette").click()
    palette = page.locator(".jp-ModalCommandPalette .lm-CommandPalette-input")
    expect(palette).to_be_visible()
    palette.fill("Open Class View")
    page.locator(".lm-CommandPalette-item", has_text="Open Class View").first.click()


def test_the_class_view_shows_each_student_with_flags_and_verdict(page: Page, start_lab, tmp_path, artifacts):
    root = tmp_path / "root"
    root.mkdir()
    make_class(tmp_path, root)
    lab = start_lab(root)
    shots = artifacts / "class-view"
    shots.mkdir(exist_ok=True)
    print(f"class view screenshots: {shots}")

    open_class_view(page, lab)
    view = page.locator(".jp-mlexp-class-view")
    expect(view.locator(".jp-mlexp-class-title")).to_have_text("Class: ml101-class", timeout=60_000)
    rows = view.locator("tr.jp-mlexp-class-row")
    expect(rows).to_have_count(len(CASES))
    expect(view.locator(".jp-mlexp-class-course")).to_have_text(
        "Course ml101: metric val_acc, baseline lr=0.1, seeds 3, budget 60 s"
    )

    def row(student: str):
        return view.locator(f'tr.jp-mlexp-class-row[data-student="{student}"]')

    expect(row("proper").locator(".jp-mlexp-class-flags")).to_have_text("none")
    expect(row("proper").locator(".jp-mlexp-verdict")).to_have_text("supported")
    expect(row("proper").locator(".jp-mlexp-class-n")).to_have_text(re.compile(r"n=3$"))
    for student, flag in FLAG_OF.items():
        expect(row(student).locator(".jp-mlexp-class-flag", has_text=flag)).to_be_visible()
    expect(row("reordered")).to_contain_text("unverified")
    expect(row("ignored").locator(".jp-mlexp-verdict")).to_have_text("inconclusive")
    expect(row("quickonly").locator(".jp-mlexp-class-runs")).to_contain_text("0 full · 4 quick · 1 failed")

    # the grounds of a flag, one click away; a flag filter; the page title stays read-only (no inputs)
    row("loosened").click()
    details = view.locator(".jp-mlexp-class-details")
    expect(details).to_contain_text("Changed after runs")
    expect(details).to_contain_text("0.99 was too ambitious")
    expect(view.locator("input, textarea")).to_have_count(0)
    page.screenshot(path=str(shots / "class-view-light.png"))

    view.locator("button.jp-mlexp-class-filter", has_text="record altered").click()
    expect(rows).to_have_count(2)
    view.locator("button.jp-mlexp-class-filter", has_text="record altered").click()
    expect(rows).to_have_count(len(CASES))

    # sorted by the number of flags, most first
    view.locator("th button", has_text="Audit flags").click()
    view.locator("th button", has_text="Audit flags").click()
    expect(rows.first.locator(".jp-mlexp-class-flag")).to_have_count(2)

    # the report the instructor wrote opens from the view
    view.locator("button", has_text="Open class_table.csv").click()
    expect(
        page.locator(".jp-MainAreaWidget .lm-TabBar-tab, .lm-TabBar-tab", has_text="class_table.csv").first
    ).to_be_visible()
    page.locator(".lm-TabBar-tab", has_text="Class: ml101-class").click()

    # the same view in the dark theme, switched from the menu as a user would
    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
    page.locator(".lm-Menu-itemLabel", has_text="Theme").first.hover()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^JupyterLab Dark$")).click()
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=20_000)
    expect(rows).to_have_count(len(CASES))
    page.wait_for_timeout(500)  # let the theme's CSS settle before the picture
    page.screenshot(path=str(shots / "class-view-dark.png"))

    # the student's side: the course's locked fields in the sidebar's hypothesis card
    page.locator('.jp-SideBar li[data-id="jp-mlexp-sidebar"]').click()
    sidebar = page.locator("#jp-mlexp-sidebar")
    course = sidebar.locator(".jp-mlexp-hypothesis .jp-mlexp-course")
    expect(course).to_have_text("Course ml101: metric val_acc, baseline lr=0.1, seeds 3, budget 60 s", timeout=30_000)
    page.wait_for_timeout(300)
    sidebar.screenshot(path=str(shots / "sidebar-course-dark.png"))
