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

# Skipped when nothing it reads changed since its last success (a hash of the sources, kept in
# node_modules/): the second `make demo` / `make test` does not rebuild or re-test the frontend.
# FRONTEND_FORCE=1 runs it anyway.
stamp=node_modules/.mlexp-frontend-stamp
sources=$(find package.json yarn.lock .yarnrc.yml tsconfig*.json jest.config.js eslint.config.mjs .prettierrc.json \
  .prettierignore src style test -type f 2>/dev/null | LC_ALL=C sort)
hash=$( (echo "$(node --version)"; cat $sources) | sha256sum | cut -c1-64)
if [ -z "${FRONTEND_FORCE:-}" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] \
  && [ -f ../jupyter_mlexp/labextension/package.json ]; then
  echo "frontend.sh: sources unchanged since the last build and tests: skipped (FRONTEND_FORCE=1 to run)"
  exit 0
fi

start=$(date +%s)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Quiet steps: their output goes to a log that is printed only when the step fails.
quiet() {
  local what=$1; shift
  if ! "$@" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "frontend.sh: $what failed (last lines above)" >&2
    exit 1
  fi
  echo "frontend.sh: $what ok"
}
# --immutable: with CI=true yarn refuses to write a lockfile, so the committed one must be complete.
quiet "jlpm install (from yarn.lock)" jlpm install --immutable
quiet "ESLint + Prettier" jlpm lint:check
quiet "jest" jlpm test --ci
grep -E "^(Tests|Test Suites):" "$log" | sed 's/^/frontend.sh:   /' || true
quiet "labextension build" jlpm build:prod
test -f ../jupyter_mlexp/labextension/package.json
echo "$hash" > "$stamp"
echo "frontend.sh: labextension built and tested in $(( $(date +%s) - start )) s"
