"""``%mlexp panel``: the sidebar's journal, runs and ignored runs as ipywidgets, for any notebook front end.

For VS Code, Colab or the classic notebook, where the JupyterLab sidebar is not
available. Every action calls the core (:class:`~jupyter_mlexp.core.experiment.Experiment`);
an error the user caused is shown in the panel's status line, not raised.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable

import ipywidgets as widgets

from jupyter_mlexp.core import ignoring, journaling
from jupyter_mlexp.core.errors import MlexpError, NoHypothesisError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.journal import TAGS, page_entries
from jupyter_mlexp.core.stats.verdict import judge_experiment

JOURNAL_PAGE = 20
RUNS_SHOWN = 50  # newest runs per mode drawn in the table; the picker still offers every run


def panel(experiment: Experiment | str) -> widgets.Widget:
    """An interactive view of ``experiment`` (an :class:`Experiment` or its name)."""
    exp = experiment if isinstance(experiment, Experiment) else Experiment(experiment)
    return ExperimentPanel(exp.require())


def _esc(value) -> str:
    return html.escape("" if value is None else str(value))


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.4g}"


def _verdict_html(exp: Experiment) -> str:
    """The experiment's one verdict (core.verdict), the lines ``mlexp status`` prints, as HTML rows."""
    rows = "".join(
        f"<tr><th style='text-align:left;vertical-align:top'>{_esc(label)}</th><td>{_esc(text)}</td></tr>"
        for label, text in judge_experiment(exp).summary()
    )
    return f"<table class='mlexp-verdict'>{rows}</table>"


class ExperimentPanel(widgets.VBox):
    """Hypothesis, journal (filter, search, pages, add), runs (ignore / count again) and ignored runs."""

    def __init__(self, experiment: Experiment):
        self.experiment = experiment
        self.offset = 0
        self.status = widgets.HTML()
        self.hypothesis = widgets.HTML()
        self.refresh_button = widgets.Button(
            description="Refresh", icon="refresh", layout=widgets.Layout(width="100px")
        )
        self.refresh_button.on_click(lambda _: self.refresh())
        title = widgets.HTML(f"<h3>Experiment <code>{_esc(experiment.name)}</code></h3>")
        super().__init__(
            [
                widgets.HBox([title, self.refresh_button]),
                self.status,
                self.hypothesis,
                self._journal_box(),
                self._runs_box(),
                widgets.VBox([widgets.HTML("<h4>Ignored runs</h4>"), self.ignored_list]),
            ]
        )
        self.refresh()

    def _journal_box(self) -> widgets.VBox:
        """The journal's filter, search, pages and new-entry form, wired to their actions."""
        self.tag_filter = widgets.Dropdown(options=[("all tags", "")], value="", description="Tag")
        self.search = widgets.Text(placeholder="search the journal", description="Search", continuous_update=False)
        self.entries = widgets.HTML()
        self.newer = widgets.Button(description="Newer", layout=widgets.Layout(width="80px"))
        self.older = widgets.Button(description="Older", layout=widgets.Layout(width="80px"))
        self.page_label = widgets.Label()
        self.new_text = widgets.Textarea(placeholder="What did you notice?", layout=widgets.Layout(width="100%"))
        self.new_tag = widgets.Dropdown(options=[("no tag", "")] + [(t, t) for t in TAGS], value="", description="Tag")
        self.add_button = widgets.Button(description="Add entry", button_style="primary")

        self.tag_filter.observe(lambda _: self._journal_changed(), names="value")
        self.search.observe(lambda _: self._journal_changed(), names="value")
        self.newer.on_click(lambda _: self._page(-JOURNAL_PAGE))
        self.older.on_click(lambda _: self._page(JOURNAL_PAGE))
        self.add_button.on_click(
            lambda _: self.add_entry(self.new_text.value, [self.new_tag.value] if self.new_tag.value else [])
        )
        return widgets.VBox(
            [
                widgets.HTML("<h4>Journal</h4>"),
                self.new_text,
                widgets.HBox([self.new_tag, self.add_button]),
                widgets.HBox([self.tag_filter, self.search]),
                self.entries,
                widgets.HBox([self.newer, self.page_label, self.older]),
            ]
        )

    def _runs_box(self) -> widgets.VBox:
        """The runs table, the run picker with ignore / count again, and the ignored list."""
        self.runs_table = widgets.HTML()
        self.run_picker = widgets.Dropdown(options=[], description="Run")
        self.reason = widgets.Text(
            placeholder="why leave this run out of every statistic?",
            description="Reason",
            layout=widgets.Layout(width="60%"),
        )
        self.ignore_button = widgets.Button(description="Ignore run", button_style="warning")
        self.unignore_button = widgets.Button(description="Count again")
        self.ignored_list = widgets.HTML()
        self.ignore_button.on_click(lambda _: self.ignore(self.run_picker.value, self.reason.value))
        self.unignore_button.on_click(lambda _: self.unignore(self.run_picker.value))
        return widgets.VBox(
            [
                widgets.HTML("<h4>Runs</h4>"),
                self.runs_table,
                widgets.HBox([self.run_picker, self.reason]),
                widgets.HBox([self.ignore_button, self.unignore_button]),
            ]
        )

    # -- actions -------------------------------------------------------------------------------
    def add_entry(self, text: str, tags: Iterable[str] = ()) -> bool:
        if self._do(lambda: journaling.add_entry(self.experiment, text, tags), "journal entry added"):
            self.new_text.value = ""
            self.offset = 0
            self.refresh(keep_status=True)
            return True
        return False

    def ignore(self, run_id: str | None, reason: str) -> bool:
        if not run_id:
            return self._say("pick a run first", error=True)
        if self._do(
            lambda: ignoring.ignore(self.experiment, run_id, reason, replace=True),
            f"run {run_id} ignored (IGNORED_RUNS.md)",
        ):
            self.reason.value = ""
            self.refresh(keep_status=True)
            return True
        return False

    def unignore(self, run_id: str | None) -> bool:
        if not run_id:
            return self._say("pick a run first", error=True)
        if self._do(lambda: ignoring.unignore(self.experiment, run_id), f"run {run_id} counts again"):
            self.refresh(keep_status=True)
            return True
        return False

    def refresh(self, keep_status: bool = False) -> None:
        """Re-read the record from disk and redraw."""
        if not keep_status:
            self.status.value = ""
        self._do(self._draw_hypothesis)
        self._do(self._draw_journal)
        self._do(self._draw_runs)

    # -- drawing -------------------------------------------------------------------------------
    def _draw_hypothesis(self) -> None:
        try:
            h = self.experiment.hypothesis
        except NoHypothesisError as err:
            self.hypothesis.value = f"<p><em>{_esc(err)}</em></p>"
            return
        self.hypothesis.value = (
            f"<div style='border-left:3px solid var(--jp-brand-color1, #1976d2);padding-left:8px'>"
            f"<b>v{h.version}</b> · {_esc(h.stage)}<br><b>{_esc(h.statement)}</b><br>"
            f"success: <code>{_esc(h.success)}</code> · metrics: {_esc(', '.join(h.metrics))}"
            f"{_verdict_html(self.experiment)}</div>"
        )

    def _draw_journal(self) -> None:
        read = self.experiment.journal()
        page = page_entries(read.entries, self.tag_filter.value, self.search.value, self.offset, JOURNAL_PAGE)
        options = [("all tags", "")] + [(f"{t} ({n})", t) for t, n in sorted(page.tags.items())]
        if self.tag_filter.options != tuple(options):
            current = self.tag_filter.value
            with self.tag_filter.hold_trait_notifications():
                self.tag_filter.options = options
                self.tag_filter.value = current if current in dict((v, k) for k, v in options) else ""
        rows = []
        for e in page.entries:
            tags = " ".join(f"<b>[{_esc(t)}]</b>" for t in e.tags)
            rows.append(
                f"<li><small>{_esc(e.timestamp or 'undated')}</small> {tags}<br>"
                f"<span style='white-space:pre-wrap'>{_esc(e.text)}</span></li>"
            )
        self.entries.value = f"<ul>{''.join(rows)}</ul>" if rows else "<p><em>No journal entry matches.</em></p>"
        first = 0 if page.total == 0 else page.offset + 1
        self.page_label.value = f"{first}–{page.offset + len(page.entries)} of {page.total}"
        self.newer.disabled = page.offset == 0
        self.older.disabled = page.offset + len(page.entries) >= page.total

    def _draw_runs(self) -> None:
        try:
            primary = self.experiment.hypothesis.primary_metric
        except MlexpError:
            primary = None
        runs = self.experiment.runs()
        parts = []
        for mode in ("full", "quick"):
            mine = [r for r in runs if r.mode == mode][::-1]
            rows = "".join(
                f"<tr style='{'text-decoration:line-through;opacity:.6' if r.ignored else ''}'>"
                f"<td><code>{_esc(r.run_id)}</code></td><td>{_esc(r.status)}</td>"
                f"<td style='text-align:right'>{_fmt(r.primary(primary))}</td>"
                f"<td>{_esc(r.ignored_reason or '')}</td></tr>"
                for r in mine[:RUNS_SHOWN]
            )
            more = f"<p><small>newest {RUNS_SHOWN} of {len(mine)} shown</small></p>" if len(mine) > RUNS_SHOWN else ""
            parts.append(
                f"<b>{mode.capitalize()} runs ({len(mine)})</b>"
                f"<table><tr><th>run</th><th>status</th><th>{_esc(primary or 'primary')}</th><th>ignored because</th></tr>"
                f"{rows}</table>{more}"
            )
        self.runs_table.value = "".join(parts)
        current = self.run_picker.value
        ids = [r.run_id for r in reversed(runs)]
        self.run_picker.options = ids
        self.run_picker.value = current if current in ids else (ids[0] if ids else None)

        ignored, warnings = self.experiment.ignored()
        items = "".join(
            f"<li><code>{_esc(i.run_id)}</code>: {_esc(i.reason)}"
            f"{f' <small>({_esc(i.when)})</small>' if i.when else ''}</li>"
            for i in ignored
        )
        notes = "".join(f"<li><small>{_esc(w)}</small></li>" for w in warnings)
        self.ignored_list.value = (f"<ul>{items}</ul>" if items else "<p><em>No run is ignored.</em></p>") + (
            f"<ul>{notes}</ul>" if notes else ""
        )

    # -- helpers -------------------------------------------------------------------------------
    def _journal_changed(self) -> None:
        self.offset = 0
        self._do(self._draw_journal)

    def _page(self, delta: int) -> None:
        self.offset = max(0, self.offset + delta)
        self._do(self._draw_journal)

    def _do(self, action: Callable[[], object], done: str | None = None) -> bool:
        try:
            action()
        except MlexpError as err:
            return self._say(str(err), error=True)
        if done:
            self._say(done)
        return True

    def _say(self, message: str, error: bool = False) -> bool:
        colour = "var(--jp-error-color1, #d32f2f)" if error else "var(--jp-success-color1, #388e3c)"
        self.status.value = f"<span style='color:{colour}'>{_esc(message)}</span>"
        return not error
