import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("MLEXP_ROOT", str(tmp_path))
    return tmp_path
