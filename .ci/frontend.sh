#!/usr/bin/env bash
# Frontend: node deps from the committed yarn.lock, ESLint + Prettier, jest, then the prebuilt labextension into
# jupyter_mlexp/labextension/ (which the wheel ships). Needs jupyterlab (for jlpm and
# `jupyter labextension build`) in the active environment and Node.js on PATH. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../labextension"

for tool in jlpm jupyter node; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "frontend.sh: '$tool' not found on PATH (activate the venv with jupyterlab; Node.js >= 18)" >&2
    exit 1
  fi
done

start=$(date +%s)
# --immutable: with CI=true yarn refuses to write a lockfile, so the committed one must be complete.
jlpm install --immutable
jlpm lint:check
jlpm test --ci
jlpm build:prod
test -f ../jupyter_mlexp/labextension/package.json
echo "frontend.sh: labextension built in $(( $(date +%s) - start )) s"
