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
