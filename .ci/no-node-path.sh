#!/usr/bin/env bash
# Usage: PATH=$(bash .ci/no-node-path.sh DIR) — prints $PATH with Node.js taken off it, for checks of what a
# user without Node.js gets. A PATH entry that holds node (or npm, yarn, jlpm...) is replaced by DIR/pathN, a
# copy of it made of symlinks to everything else it holds (node sits in /usr/bin beside python3, make and git).
set -euo pipefail
work=${1:?usage: no-node-path.sh SCRATCH_DIR}
NODE_TOOLS=" node nodejs npm npx yarn yarnpkg corepack jlpm "
newpath=""
i=0
IFS=: read -r -a dirs <<< "$PATH"
for dir in "${dirs[@]}"; do
  [ -d "$dir" ] || continue
  has=""
  for t in $NODE_TOOLS; do
    if [ -e "$dir/$t" ]; then has=1; fi
  done
  if [ -n "$has" ]; then
    i=$((i + 1))
    shadow="$work/path$i"
    mkdir -p "$shadow"
    for f in "$dir"/*; do
      base=$(basename "$f")
      case "$NODE_TOOLS" in *" $base "*) continue ;; esac
      ln -sf "$f" "$shadow/$base"
    done
    dir=$shadow
  fi
  newpath=${newpath:+$newpath:}$dir
done
if PATH=$newpath command -v node >/dev/null 2>&1; then
  echo "no-node-path.sh: could not take node off PATH" >&2
  exit 1
fi
echo "$newpath"
