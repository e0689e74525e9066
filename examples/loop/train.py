"""A small real training script for the keep/discard loop (docs/loop.md): a one-hidden-layer MLP on
scikit-learn's bundled digits, trained by minibatch SGD in plain numpy; prints ``val_loss: ...``.

The seed comes from ``MLEXP_SEED`` (set by ``mlexp loop try`` / ``mlexp run``); it draws the
initial weights and the minibatch order, so re-running the same code on another seed moves the
metric by seed noise. The data is read from scikit-learn's own CSV file without importing
scikit-learn, so a run takes about a second. Change the constants below, one idea per attempt.
"""

import gzip
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np

EPOCHS = 10
HIDDEN = 32
LR = 0.1
BATCH = 64
INIT = 0  # another initialisation stream: changes only the noise

seed = int(os.environ.get("MLEXP_SEED", "0"))
sklearn = importlib.util.find_spec("sklearn")
if sklearn is None:
    sys.exit("this example reads scikit-learn's bundled digits data: run it with a Python that has scikit-learn")
csv = Path(list(sklearn.submodule_search_locations)[0]) / "datasets" / "data" / "digits.csv.gz"
with gzip.open(csv, "rt") as fh:
    data = np.loadtxt(fh, delimiter=",")
X, y = data[:, :-1] / 16.0, data[:, -1].astype(int)
split = np.random.default_rng(12345).permutation(len(y))  # the same validation set for every seed
tr, va = split[:1400], split[1400:]

rng = np.random.default_rng([seed, INIT])
W1 = rng.normal(0, 1 / np.sqrt(64), (64, HIDDEN))
b1 = np.zeros(HIDDEN)
W2 = rng.normal(0, 1 / np.sqrt(HIDDEN), (HIDDEN, 10))
b2 = np.zeros(10)


def forward(x):
    h = np.maximum(x @ W1 + b1, 0.0)
    z = h @ W2 + b2
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return h, p / p.sum(axis=1, keepdims=True)


for epoch in range(EPOCHS):
    order = rng.permutation(tr)
    for i in range(0, len(order), BATCH):
        idx = order[i : i + BATCH]
        h, p = forward(X[idx])
        g = p.copy()
        g[np.arange(len(idx)), y[idx]] -= 1.0
        g /= len(idx)
        gh = (g @ W2.T) * (h > 0)
        W2 -= LR * h.T @ g
        b2 -= LR * g.sum(axis=0)
        W1 -= LR * X[idx].T @ gh
        b1 -= LR * gh.sum(axis=0)
    _, p = forward(X[tr])
    print(f"epoch {epoch} train_loss {-np.log(p[np.arange(len(tr)), y[tr]] + 1e-12).mean():.4f}")

_, p = forward(X[va])
print(f"val_acc: {(p.argmax(axis=1) == y[va]).mean():.4f}")
print(f"val_loss: {-np.log(p[np.arange(len(va)), y[va]] + 1e-12).mean():.6f}")
