#!/usr/bin/env bash
# `make demo`: the example experiment end to end (hypothesis, quick run, journal, full runs over seeds and a
# grid, report), then the verdict's headline and the report's path. Each step prints its command and the
# first line it printed; everything it printed goes to build/demo/demo.log, whose tail is shown if a step fails.
# Needs only the Python package (`make demo` installs it without building the frontend).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-.venv/bin}
ROOT=${DEMO_ROOT:-build/demo}
NAME=digits-sgd
export MLEXP_ROOT=$ROOT
rm -rf "$ROOT" && mkdir -p "$ROOT"
log=$ROOT/demo.log
: > "$log"

step() {  # step "WHAT IT SHOWS" CMD ARGS...
  local shown=$1; shift
  local out
  out=$(mktemp)
  echo "\$ $shown"
  if ! "$@" >"$out" 2>>"$log"; then
    cat "$out" >> "$log"
    tail -n 30 "$log" >&2
    echo "make demo: this step failed (its output above; the whole log: $log)" >&2
    rm -f "$out"
    exit 1
  fi
  cat "$out" >> "$log"
  head -n 1 "$out" | sed 's/^/  /'
  mv "$out" "$ROOT/last-step.txt"
}

start=$(date +%s)
NB=notebooks/digits.ipynb
step "mlexp run $NB --quick   # registers the %%hypothesis, then the quick run" \
  "$BIN/mlexp" run "$NB" --quick
step "mlexp journal --tag WEIRD \"...\"" \
  "$BIN/mlexp" journal --experiment "$NAME" --tag WEIRD \
  "quick run (30% of the data, 3 epochs): train loss still falling at the last epoch; the full runs use 15"
step "mlexp run $NB --full --seeds 0,1,2 --grid alpha=0.0001,0.01 --jobs 2" \
  "$BIN/mlexp" run "$NB" --full --seeds 0,1,2 --grid alpha=0.0001,0.01 --jobs 2
step "mlexp report $NAME" "$BIN/mlexp" report "$NAME"

# `mlexp report` ends on the verdict's headline (core.headline, as `mlexp status` shows it first)
headline=$(sed -n 's/^  verdict: //p' "$ROOT/last-step.txt")
rm -f "$ROOT/last-step.txt"
echo
echo "verdict: $headline"
echo "report:  $ROOT/experiments/$NAME/report.ipynb   (the whole record: $ROOT/experiments/$NAME/)"
echo "next:    MLEXP_ROOT=$ROOT $BIN/mlexp status   # the verdict and its reasoning"
echo "         make lab   # the sidebar in JupyterLab (builds the frontend once: needs Node.js >= 18)"
echo "make demo: done in $(( $(date +%s) - start )) s (the steps' whole output: $log)"
