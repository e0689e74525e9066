"""No script typed into the record runs in the report: every text from it is shown as text.

Payloads go where a person (or an attacker with write access to a shared record) can type:
the hypothesis statement, ``expected`` and baseline note, journal entries, an ignore reason, a
run's error message, a lesson, a re-registration reason and a parameter value. The report
notebook's Markdown, rendered as nbconvert renders it, and the exported ``report.html`` must
hold no live script, event handler or ``javascript:`` link, and still show each payload as text.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

import nbformat
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from report_factory import seeds, write_run

from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record import lessons
from jupyter_mlexp.core.record.hypothesis import Hypothesis
from jupyter_mlexp.report.build import build_report

PAYLOADS = [
    "<script>alert('PWNED0')</script>",
    "<img src=x onerror=alert('PWNED1')>",
    "[click](javascript:alert('PWNED2'))",
    "<a href=\"javascript:alert('PWNED3')\">x</a>",
    "<svg onload=alert('PWNED4')>",
    "<iframe src=\"javascript:alert('PWNED5')\"></iframe>",
    "![x](javascript:alert('PWNED6'))",
    "<javascript:alert('PWNED7')>",
    "<details open ontoggle=alert('PWNED8')>",
    "`x` <b onmouseover=alert('PWNED9')>hover</b>",
    "[ref][r]\n\n[r]: javascript:alert('PWNED10')",
    "x` <img src=x onerror=alert('PWNED11')> `y",
]
DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "svg", "math", "base", "form", "details", "meta", "link"}


class _Audit(HTMLParser):
    """Live HTML a browser would act on: script-bearing tags, on* handlers, javascript: URLs."""

    def __init__(self, template_scripts: bool = False):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.template_scripts = template_scripts
        self._in_script = False
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in DANGEROUS_TAGS and not (self.template_scripts and tag in ("script", "meta", "link")):
            self.found.append(f"<{tag}>")
        self._in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action", "formaction", "xlink:href") and value:
                if "".join(value.split()).lower().startswith(("javascript:", "vbscript:", "data:text")):
                    self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and "PWNED" in data:
            self.found.append(f"script holding {data[:60]!r}")
        elif not self._in_script:
            self.text.append(data)


def audit(markup: str, template_scripts: bool = False) -> _Audit:
    parser = _Audit(template_scripts)
    parser.feed(markup)
    parser.close()
    return parser


def _poisoned(root) -> Experiment:
    joined = " ".join(p.replace("\n", " ") for p in PAYLOADS)
    exp = Experiment("poison", root=root)
    hyp = Hypothesis(
        statement="Warm-up helps " + PAYLOADS[0],
        success="val_acc >= 0.9",
        metrics=["val_acc", "loss"],
        stage="full",
        expected=PAYLOADS[1],
        baseline="the note " + PAYLOADS[2],
    )
    exp.register(hyp)
    exp.register(Hypothesis(**{**hyp.content(), "expected": PAYLOADS[3]}), reason="why " + PAYLOADS[4])
    for i, p in enumerate(PAYLOADS):
        exp.add_journal(p, tags=["WEIRD" if i % 2 else "HUNCH"], event=False)
    exp.add_journal("done " + PAYLOADS[5], tags=["COMPLETED"], event=False)
    seeds(exp, "a", [0.91, 0.92, 0.93], params={"model": PAYLOADS[1]})
    seeds(exp, "b", [0.81, 0.82, 0.83], params={"model": "plain"})
    write_run(exp, "bad-1", status="failed", params={"model": "plain"}, error={"name": "ValueError", "message": joined})
    exp.ignore("b-s0", "flaky " + PAYLOADS[6])
    lessons.add_lesson("lesson " + PAYLOADS[7], experiment=exp)
    return exp


def _render(cell) -> str:
    """A Markdown cell as nbconvert renders it (raw HTML passed through, attachments inlined)."""
    renderer = IPythonRenderer(escape=False, attachments=cell.get("attachments", {}))
    return MarkdownWithMath(renderer=renderer).render(cell.source)


def test_report_notebook_and_html_show_record_text_as_text(workspace):
    exp = _poisoned(workspace)
    path = build_report(exp, html=True)
    nb = nbformat.read(path, as_version=4)
    shown = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        rendered = audit(_render(cell))
        assert not rendered.found, (rendered.found, cell.source[:400])
        shown.append(html.unescape("".join(rendered.text)))
    page = audit(path.with_suffix(".html").read_text(encoding="utf-8"), template_scripts=True)
    assert not page.found, page.found
    # shown as written, not dropped: every payload's marker is visible text in the notebook
    visible = " ".join(shown)
    for i in (0, 1, 2, 3, 4, 5, 6, 7):
        assert f"PWNED{i}" in visible, f"payload {i} is not shown"
    assert "alert('PWNED0')" in visible and "<script>" in visible


def test_html_export_forbids_scripts(workspace):
    exp = _poisoned(workspace)
    page = build_report(exp, html=True).with_suffix(".html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page and "script-src 'none'" in page


def test_figure_and_tables_survive_the_sanitiser(workspace):
    exp = _poisoned(workspace)
    page = build_report(exp, html=True).with_suffix(".html").read_text(encoding="utf-8")
    assert "<table" in page and "<h2" in page
    assert 'src="data:image/' in page  # figures embedded from the notebook's attachments


def test_html_export_sanitises_markdown_that_was_not_escaped(tmp_path):
    """A cell a person added by hand (or a text that slipped past) is cleaned in report.html."""
    from nbformat import v4

    from jupyter_mlexp.report.html import write_html

    nb = v4.new_notebook(
        cells=[v4.new_markdown_cell("## Title\n\n" + "\n\n".join(PAYLOADS) + "\n\n| a |\n|---|\n| b |")]
    )
    page = write_html(nb, tmp_path / "x.html").read_text(encoding="utf-8")
    found = audit(page, template_scripts=True).found
    assert not found, found
    assert "<table" in page and "<h2" in page and "PWNED0" in page
