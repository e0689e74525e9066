#!/usr/bin/env bash
# `make demo-timing`: how long README's first command takes a newcomer. A fresh clone of this commit (HEAD:
# commit first), Node.js removed from PATH, an empty pip cache; `make demo` twice. Prints each run's wall
# time and line count against the goals (first run <= 120 s and <= 25 lines, second run <= 15 s) and exits
# non-zero when one is missed. KEEP=1 keeps the clone.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$work"' EXIT; fi

newpath=$(bash .ci/no-node-path.sh "$work")  # PATH without Node.js

git clone -q . "$work/clone"
echo "demo-timing: fresh clone of $(git rev-parse --short HEAD) in $work/clone; node not on PATH; empty pip cache"

run() {  # run N: make demo in the clone; its output in $work/demoN.txt
  local t0 t1
  t0=$(date +%s.%N)
  if ! (cd "$work/clone" && env PATH="$newpath" PIP_CACHE_DIR="$work/pip-cache" MAKEFLAGS= make demo) \
    >"$work/demo$1.txt" 2>&1; then
    cat "$work/demo$1.txt"
    echo "demo-timing: make demo failed (run $1)" >&2
    exit 1
  fi
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1 - $t0:.1f}')"
}

first=$(run 1)
second=$(run 2)
lines1=$(wc -l < "$work/demo1.txt")
lines2=$(wc -l < "$work/demo2.txt")
echo "----- first run's output -----"
cat "$work/demo1.txt"
echo "------------------------------"
ok=1
check() {  # check WHAT VALUE LIMIT
  if python3 -c "import sys; sys.exit(0 if float('$2') <= float('$3') else 1)"; then
    echo "demo-timing: $1: $2 (goal <= $3) ok"
  else
    echo "demo-timing: $1: $2 (goal <= $3) MISSED"
    ok=""
  fi
}
check "first make demo, wall seconds" "$first" 120
check "first make demo, lines of output" "$lines1" 25
check "second make demo, wall seconds" "$second" 15
echo "demo-timing: second run printed $lines2 lines"
[ -n "$ok" ]
