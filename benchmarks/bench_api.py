"""REST API figures (issue 4): a page of journal entries and the runs list, over real HTTP.

One experiment with 10,000 journal entries and 1,000 runs. The server is a real
``jupyter server`` with the extension on a loopback port; each request goes
through tornado, auth, the worker thread, the core and JSON. The anchor is the
same answer computed in-process: reading and parsing ``JOURNAL.md`` (the core's
parser, then the newest page) and reading every run's ``run.json``.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import figure, median_time

N_ENTRIES = 10_000
N_RUNS = 1_000
PAGE = 50
REPO = Path(__file__).resolve().parents[1]
HYPOTHESIS = "Dropout 0.3 improves validation accuracy on the toy set\nsuccess: acc >= 0.9\nmetrics: acc, loss\n"


def make_record(root: Path) -> Path:
    """The experiment ``bench``: journal and run folders written in bulk, in the core's formats."""
    from jupyter_mlexp.core.experiment import Experiment
    from jupyter_mlexp.core.record.journal import HEADER, format_entry

    exp = Experiment("bench", root)
    exp.register(HYPOTHESIS)
    tags = ["WEIRD", "HUNCH", "TODO", "NOTE", "RESOLVED"]
    body = "".join(
        format_entry(
            f"observation {i}: loss at step {i * 7} looked {'odd' if i % 3 else 'fine'}\nsecond line {i}",
            [tags[i % len(tags)]],
            timestamp=f"2026-11-{1 + i // 1000:02d}T10:{(i // 60) % 60:02d}:{i % 60:02d}+00:00",
        )
        for i in range(N_ENTRIES)
    )
    exp.journal_md.write_text(HEADER + body, encoding="utf-8")
    for i in range(N_RUNS):
        mode = "full" if i % 4 == 0 else "quick"
        run_id = f"20261122-{i:06d}-{i:06x}"
        folder = exp.path / mode / run_id
        folder.mkdir(parents=True)
        manifest = {
            "run_id": run_id,
            "mode": mode,
            "status": "completed",
            "started": f"2026-11-22T10:00:{i % 60:02d}+00:00",
            "ended": None,
            "duration_s": 1.5,
            "pid": 1,
            "params": {"lr": 0.01 * (i % 7), "width": 64},
            "seed": i % 5,
            "stage": "implementation",
            "metrics_summary": {"acc": {"last": 0.5 + (i % 50) / 100, "min": 0.1, "max": 0.99, "n": 100, "step": 99}},
        }
        (folder / "run.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    for i in range(0, N_RUNS, 50):
        exp.ignore(f"20261122-{i:06d}-{i:06x}", f"bench: ignored run {i}")
    return exp.path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, root: Path):
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        env = {k: v for k, v in os.environ.items() if k != "MLEXP_ROOT"}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
        env["JUPYTER_CONFIG_DIR"] = str(root / ".jupyter-config")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_server",
                "--allow-root",
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={self.port}",
                "--port-retries=0",
                f"--ServerApp.token={self.token}",
                f"--ServerApp.root_dir={root}",
                '--ServerApp.jpserver_extensions={"jupyter_mlexp": True}',
                "--ServerApp.log_level=WARN",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=root,
        )
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.get("/mlexp/api/experiments")
                return
            except (OSError, http.client.HTTPException, RuntimeError) as err:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("jupyter server with jupyter_mlexp did not start") from err
                self.conn.close()
                time.sleep(0.2)

    def get(self, path: str) -> dict:
        self.conn.request("GET", path, headers={"Authorization": f"token {self.token}"})
        resp = self.conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {resp.status}")
        return json.loads(body)

    def stop(self) -> None:
        self.conn.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


BIG_MB = 50


def make_big_journal(root: Path) -> Path:
    """Experiment ``big``: a JOURNAL.md of about BIG_MB megabytes (entries of ~500 characters)."""
    from jupyter_mlexp.core.experiment import Experiment
    from jupyter_mlexp.core.record.journal import HEADER, format_entry

    exp = Experiment("big", root)
    exp.register(HYPOTHESIS)
    tags = ["WEIRD", "HUNCH", "TODO", "NOTE", "RESOLVED"]
    filler = "the validation loss plateaued after the warmup and the gradient norm stayed flat; " * 5
    parts, size, i = [HEADER], 0, 0
    while size < BIG_MB * 1_000_000:
        entry = format_entry(f"note {i}: {filler}", [tags[i % 5]], timestamp=f"2026-11-01T10:00:{i % 60:02d}+00:00")
        parts.append(entry)
        size += len(entry)
        i += 1
    exp.journal_md.write_text("".join(parts), encoding="utf-8")
    return exp.journal_md


def _big_journal_figures(server: Server, journal: Path) -> list[dict]:
    """A page of the 50 MB journal over REST: newest page, a page deep in the history, a tag page."""
    from jupyter_mlexp.core.record.journal import page_entries, read_journal

    url = "/mlexp/api/experiments/big/journal?limit=50"
    t0 = time.perf_counter()
    total = server.get(url)["total"]
    cold = time.perf_counter() - t0  # the server process's first read builds the index
    first = median_time(lambda: server.get(url), repeat=15, warmup=1)
    deep = median_time(lambda: server.get(f"{url}&offset={total - 100}"), repeat=15, warmup=1)
    tagged = median_time(lambda: server.get(f"{url}&tag=TODO&offset={total // 10}"), repeat=15, warmup=1)
    searched = median_time(lambda: server.get(f"{url}&q=note%201"), repeat=3, warmup=0)

    def whole_parse_page():  # what a page cost before the index: parse everything, then slice
        return page_entries(read_journal(journal).entries, None, None, total - 100, 50).to_dict()

    anchor = median_time(whole_parse_page, repeat=3, warmup=0)
    extra = dict(mb=round(journal.stat().st_size / 1e6, 1), entries=total, anchor="whole-file parse + page")
    return [
        figure(
            "api_journal_page_50mb_first_ms",
            first * 1e3,
            "ms",
            anchor * 1e3,
            "< 50 ms",
            cold_first_request_ms=round(cold * 1e3, 1),
            **extra,
        ),
        figure(
            "api_journal_page_50mb_deep_ms",
            deep * 1e3,
            "ms",
            anchor * 1e3,
            "< 50 ms",
            tag_page_ms=round(tagged * 1e3, 2),
            text_search_ms=round(searched * 1e3, 1),
            **extra,
        ),
    ]


def run() -> list[dict]:
    from jupyter_mlexp.core.record.journal import read_journal

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        exp_dir = make_record(root)
        big = make_big_journal(root)
        server = Server(root)
        try:
            page = server.get(f"/mlexp/api/experiments/bench/journal?limit={PAGE}")
            assert page["total"] == N_ENTRIES and len(page["entries"]) == PAGE, page["total"]
            runs = server.get("/mlexp/api/experiments/bench/runs")
            assert len(runs["runs"]) == N_RUNS

            api_journal = median_time(
                lambda: server.get(f"/mlexp/api/experiments/bench/journal?limit={PAGE}"), repeat=15, warmup=2
            )
            api_filtered = median_time(
                lambda: server.get(f"/mlexp/api/experiments/bench/journal?tag=WEIRD&q=odd&limit={PAGE}"),
                repeat=15,
                warmup=1,
            )
            api_runs = median_time(lambda: server.get("/mlexp/api/experiments/bench/runs"), repeat=15, warmup=2)
            big_figures = _big_journal_figures(server, big)
        finally:
            server.stop()

        def read_journal_page():
            entries = read_journal(exp_dir / "JOURNAL.md").entries
            return [e.to_dict() for e in entries[-PAGE:][::-1]]

        def read_runs():
            out = []
            for mode in ("quick", "full"):
                for entry in os.scandir(exp_dir / mode):
                    with open(os.path.join(entry.path, "run.json"), encoding="utf-8") as fh:
                        out.append(json.load(fh))
            return out

        anchor_journal = median_time(read_journal_page, repeat=15, warmup=2)
        anchor_runs = median_time(read_runs, repeat=15, warmup=2)

    goal = "API <= 3x reading and parsing the files directly in Python (anchor)"
    return [
        figure(
            "api_journal_page_10k",
            api_journal * 1e3,
            "ms",
            anchor_journal * 1e3,
            goal,
            entries=N_ENTRIES,
            page=PAGE,
            filtered_ms=round(api_filtered * 1e3, 3),
        ),
        figure("api_runs_list_1k", api_runs * 1e3, "ms", anchor_runs * 1e3, goal, runs=N_RUNS),
        *big_figures,
    ]


if __name__ == "__main__":
    for f in run():
        print(json.dumps(f))
