"""A reused kernel boots without ipykernel's debugger (debugpy), and the notebook can still import it."""

import asyncio
import importlib.util

import pytest

from jupyter_mlexp.runner.kernels import Kernel, kernel_env


@pytest.mark.skipif(importlib.util.find_spec("debugpy") is None, reason="debugpy is not installed")
def test_kernel_boots_without_debugpy_and_the_notebook_can_import_it(tmp_path):
    async def go():
        plain = await Kernel.start("python3", str(tmp_path), kernel_env(), reuse=False)  # ipykernel_launcher as is
        try:
            plain_path = await plain.evaluate("__import__('sys').path")
        finally:
            await plain.shutdown()
        kernel = await Kernel.start("python3", str(tmp_path), kernel_env(), reuse=True)
        try:
            booted_with = await kernel.evaluate("'debugpy' in __import__('sys').modules")
            imported = await kernel.evaluate("__import__('debugpy').__name__")
            path = await kernel.evaluate("__import__('sys').path")
        finally:
            await kernel.shutdown()
        return booted_with, imported, path, plain_path

    booted_with, imported, path, plain_path = asyncio.run(go())
    assert booted_with is False  # the boot skipped the ~80 ms debugpy import
    assert imported == "debugpy"  # snapshot() lifted the block
    assert path == plain_path  # the same sys.path as ipykernel_launcher gives
