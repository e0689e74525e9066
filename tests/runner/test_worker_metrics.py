"""log_metric from multiprocessing workers and threads reaches metrics.jsonl exactly once."""

from __future__ import annotations

import json
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
import runner_helpers  # noqa: F401  (kernels and subprocesses import this checkout)

from jupyter_mlexp import Experiment
from jupyter_mlexp.runner.script import QUIET, run_script

pytestmark = pytest.mark.slow  # spawn and forkserver start 16 interpreters each

N_WORKERS, N_VALUES = 8, 1000

SCRIPT = textwrap.dedent(
    f"""
    import multiprocessing as mp
    import sys
    import threading

    import jupyter_mlexp as mlexp


    def work(i):
        for k in range({N_VALUES}):
            mlexp.log_metric(f"w{{i}}", float(k), step=k)
        return i


    def work_after_close(i):
        return work(i + {N_WORKERS})


    if __name__ == "__main__":
        method, how = sys.argv[1], sys.argv[2]
        mlexp.log_metric("parent", 1.0)  # in the parent's buffer when the workers are forked
        if how == "threads":
            threads = [threading.Thread(target=work, args=(i,)) for i in range({N_WORKERS})]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        else:
            ctx = mp.get_context(method)
            with ctx.Pool({N_WORKERS}) as pool:  # the pool is terminated at the block's end
                pool.map(work, range({N_WORKERS}), chunksize=1)
            pool = ctx.Pool({N_WORKERS})  # the workers exit after close() and join()
            pool.map(work_after_close, range({N_WORKERS}), chunksize=1)
            pool.close()
            pool.join()
        mlexp.log_metric("parent", 2.0)
    """
)


def _lines(run_path: Path) -> list[dict]:
    return [json.loads(line) for line in (run_path / "metrics.jsonl").read_text().splitlines()]


CASES = [("fork", "pools"), ("forkserver", "pools"), ("spawn", "pools"), ("fork", "threads")]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("method,how", CASES, ids=["fork", "forkserver", "spawn", "threads"])
def test_every_value_once(ws, method, how):
    """8 workers x 1,000 values in a `with Pool` block (terminated at its end), then 8 more in a pool
    closed and joined; or 8 threads."""
    (ws / "pool.py").write_text(SCRIPT)
    exp = Experiment("exp")
    (result,) = run_script([sys.executable, "pool.py", method, how], exp, echo=QUIET, cwd=ws)
    assert result.status == "completed", result.error
    lines = _lines(Path(result.path))
    counts = Counter(rec["name"] for rec in lines)
    assert counts["parent"] == 2, counts  # the parent's buffered line is not written again by a forked worker
    for i in range(N_WORKERS if how == "threads" else 2 * N_WORKERS):
        assert counts[f"w{i}"] == N_VALUES, (f"w{i}", counts)
        steps = sorted(rec["step"] for rec in lines if rec["name"] == f"w{i}")
        assert steps == list(range(N_VALUES))
    summary = json.loads((Path(result.path) / "run.json").read_text())["metrics_summary"]
    assert summary["w0"]["n"] == N_VALUES and summary["w0"]["max"] == N_VALUES - 1
    assert summary["parent"]["n"] == 2
