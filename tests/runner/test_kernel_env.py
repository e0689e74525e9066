import os

import dask

from jupyter_mlexp.runner.kernels import kernel_env


def test_kernels_do_not_inherit_dasks_malloc_setting(monkeypatch):
    import distributed  # noqa: F401 - the setting only comes with Dask

    value = str(dask.config.get("distributed.nanny.pre-spawn-environ")["MALLOC_TRIM_THRESHOLD_"])
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", value)
    assert "MALLOC_TRIM_THRESHOLD_" not in kernel_env()
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "12345")  # the user's own choice stays
    assert kernel_env()["MALLOC_TRIM_THRESHOLD_"] == "12345"
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == "12345"


def test_local_kernels_talk_over_private_unix_sockets_and_leave_nothing(tmp_path, monkeypatch):
    import asyncio
    import glob
    import json
    import tempfile

    from jupyter_mlexp.runner.kernels import Kernel

    monkeypatch.delenv("MLEXP_KERNEL_TRANSPORT", raising=False)
    # A private temporary folder (short: a Unix socket path is at most ~100 bytes): kernels that other
    # tests start at the same time (pytest -n 2) make their own mlexp-k* folders in the shared one.
    private = tempfile.mkdtemp(prefix="t")
    monkeypatch.setattr(tempfile, "tempdir", private)

    async def go():
        kernel = await Kernel.start("python3", str(tmp_path), kernel_env(), reuse=False)
        try:
            info = json.loads(open(kernel.km.connection_file).read())
            folder = kernel.socket_folder
            sockets = sorted(os.listdir(folder))
            mode = os.stat(folder).st_mode & 0o777
            value = await kernel.evaluate("6 * 7")
        finally:
            await kernel.shutdown()
        return info, folder, sockets, mode, value

    info, folder, sockets, mode, value = asyncio.run(go())
    assert info["transport"] == "ipc" and info["ip"].startswith(folder) and value == 42
    assert len(sockets) == 5 and mode == 0o700  # shell, iopub, stdin, control, heartbeat; only this user
    assert folder.startswith(private + os.sep)
    assert not os.path.exists(folder) and glob.glob(os.path.join(private, "mlexp-k*")) == []
    os.rmdir(private)
    assert not any("ipc" in name for name in os.listdir(tmp_path))  # nothing in the kernel's working folder


def test_a_run_prints_no_kernel_transport_warning(tmp_path):
    import subprocess
    import sys

    from tests.runner.runner_helpers import HYPOTHESIS, make_notebook

    nb = make_notebook(
        tmp_path / "nb.ipynb",
        "import jupyter_mlexp as mlexp\nmlexp.log_metric('acc', lr)",
        hypothesis=f"%%hypothesis\n{HYPOTHESIS}",
    )
    env = {**os.environ, "MLEXP_ROOT": str(tmp_path)}
    env.pop("MLEXP_KERNEL_TRANSPORT", None)
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_mlexp.frontdoors.cli", "run", str(nb)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "without encryption" not in proc.stderr + proc.stdout and "WARNING" not in proc.stderr


def test_the_socket_folders_of_a_killed_runner_are_swept_by_the_next_one(monkeypatch):
    import tempfile

    from jupyter_mlexp.runner.kernel_launch import socket_transport

    monkeypatch.delenv("MLEXP_KERNEL_TRANSPORT", raising=False)
    private = tempfile.mkdtemp(prefix="t")
    monkeypatch.setattr(tempfile, "tempdir", private)
    gone = os.path.join(private, "mlexp-k999999999-abc")  # above the kernel's pid_max: no such process
    living = os.path.join(private, f"mlexp-k{os.getppid()}-abc")  # pytest's parent is alive
    other = os.path.join(private, "mlexp-kernels-notes")  # not ours to judge
    for path in (gone, living, other):
        os.mkdir(path)
    transport, folder = socket_transport()
    assert transport["transport"] == "ipc" and os.path.basename(folder).startswith(f"mlexp-k{os.getpid()}-")
    assert not os.path.exists(gone) and os.path.isdir(living) and os.path.isdir(other)
    import shutil

    shutil.rmtree(private)
