#!/usr/bin/env bash
# Release check (make test): `python -m build` makes a wheel and an sdist, `twine check` passes, and the wheel,
# installed into a clean virtualenv with Node.js off the PATH, has the labextension and the server extension
# enabled and runs `mlexp --help`. Needs the frontend built first (.ci/frontend.sh): the wheel ships it prebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"

if [ ! -f jupyter_mlexp/labextension/package.json ]; then
  echo "release.sh: the labextension is not built: run 'bash .ci/frontend.sh' first" >&2
  exit 1
fi
start=$(date +%s)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log=$work/log

fail() {
  tail -n 40 "$log" >&2 || true
  echo "release.sh: $1" >&2
  exit 1
}

# --no-isolation: this environment has the build requirements (hatchling, hatch-jupyter-builder, jupyterlab);
# an isolated build would install JupyterLab again for each of the two builds.
"$PYTHON" -m build --no-isolation --outdir "$work/dist" . >"$log" 2>&1 || fail "python -m build failed"
wheel=$(ls "$work"/dist/*.whl)
sdist=$(ls "$work"/dist/*.tar.gz)
"$PYTHON" -m twine check --strict "$wheel" "$sdist" >"$log" 2>&1 || fail "twine check failed"
"$PYTHON" - "$wheel" "$sdist" <<'PY' >"$log" 2>&1 || fail "a file is missing from the wheel or the sdist"
import sys, tarfile, zipfile
wheel = zipfile.ZipFile(sys.argv[1]).namelist()
sdist = tarfile.open(sys.argv[2]).getnames()
def need(names, suffix, where):
    if not any(n.endswith(suffix) for n in names):
        sys.exit(f"{where}: no file ending in {suffix}")
need(wheel, "share/jupyter/labextensions/jupyter-mlexp/package.json", "wheel")
need(wheel, "etc/jupyter/jupyter_server_config.d/jupyter_mlexp.json", "wheel")
need(wheel, "licenses/LICENSE", "wheel")
for f in ("LICENSE", "CHANGELOG.md", "jupyter_mlexp/labextension/package.json"):
    need(sdist, f, "sdist")
PY
echo "release.sh: build ok: $(basename "$wheel"), $(basename "$sdist"); twine check ok"

# A clean virtualenv, Node.js off the PATH: what `pip install jupyter-mlexp` gives a user. jupyterlab is
# installed beside it only to ask `jupyter labextension list`.
nonode=$(bash .ci/no-node-path.sh "$work")
"$PYTHON" -m venv "$work/venv"
PATH="$nonode" "$work/venv/bin/pip" install -q "$wheel" 'jupyterlab>=4.6,<5' >"$log" 2>&1 || fail "pip install of the wheel failed"
run() { env PATH="$work/venv/bin:$nonode" NO_COLOR=1 "$@" 2>&1 | sed 's/\x1b\[[0-9;]*m//g'; }  # plain text to grep
out=$(run jupyter labextension list) || { echo "$out" >"$log"; fail "jupyter labextension list failed"; }
echo "$out" >"$log"
grep -Eq "jupyter-mlexp v[0-9.]+ enabled.*OK" <<<"$out" || fail "the labextension is not listed as enabled and OK"
out=$(run jupyter server extension list) || { echo "$out" >"$log"; fail "jupyter server extension list failed"; }
echo "$out" >"$log"
grep -Eq "jupyter_mlexp enabled" <<<"$out" || fail "the server extension is not listed as enabled"
out=$(cd "$work" && run mlexp --help) || { echo "$out" >"$log"; fail "mlexp --help failed"; }
grep -q "usage: mlexp" <<<"$out" || fail "mlexp --help printed no usage"
echo "release.sh: the wheel in a clean venv without Node.js: labextension and server extension enabled, mlexp --help ok ($(( $(date +%s) - start )) s)"
