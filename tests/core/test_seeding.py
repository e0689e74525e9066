"""numpy and torch are seeded when a run imports them, never imported only to be seeded."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

FAKE_TORCH = """
SEEDS = []
def manual_seed(seed):
    SEEDS.append(seed)
"""

SCRIPT = textwrap.dedent("""
    import sys
    from jupyter_mlexp.core.execution.seeding import pending, seed_everything

    seed_everything(3)
    assert "torch" not in sys.modules and "numpy" not in sys.modules, "imported only to be seeded"
    seed_everything(5)
    assert pending() == {"numpy": 5, "torch": 5}
    import torch  # the fake below: it records manual_seed
    assert torch.SEEDS == [5], torch.SEEDS  # the latest seed, once, at import
    import numpy as np
    first = np.random.rand()
    np.random.seed(5)
    assert first == np.random.rand()  # the state numpy would have had if seeded before the import
    seed_everything(7)  # imported now: seeded at once
    assert torch.SEEDS == [5, 7] and pending() == {}
    print("ok")
""")


def test_libraries_are_seeded_on_import_not_imported_to_be_seeded(tmp_path):
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text(FAKE_TORCH)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_a_library_that_cannot_be_seeded_still_imports(tmp_path):
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("def manual_seed(seed):\n    raise RuntimeError('no')\nOK = 1\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    script = (
        "import warnings\nfrom jupyter_mlexp.core.execution.seeding import seed_everything\nseed_everything(1)\n"
        "with warnings.catch_warnings(record=True) as w:\n    warnings.simplefilter('always')\n    import torch\n"
        "assert torch.OK == 1 and 'could not seed torch' in str(w[0].message)\nprint('ok')"
    )
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
