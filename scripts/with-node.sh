#!/usr/bin/env bash
# Runs a command with Node >= 22 first on PATH: the machine's own when it is new
# enough, else the one `npm run setup`/.ci/run installed under .tools/ (from the
# npm registry's `node` package). Also puts node_modules/.bin on PATH.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ -x "$root/.tools/node_modules/.bin/node" ]; then
  export PATH="$root/.tools/node_modules/.bin:$PATH"
elif [ "$(major node)" -lt 22 ]; then
  echo "Node $(node --version 2>/dev/null || echo none) is too old (need >= 22.12)." >&2
  echo "Installing Node 24 into .tools/ from the npm registry ..." >&2
  npm install --prefix "$root/.tools" --no-audit --no-fund node@24 >&2
  export PATH="$root/.tools/node_modules/.bin:$PATH"
fi
export PATH="$root/node_modules/.bin:$PATH"
# why: glibc gives every thread its own malloc arena; with libvips (sharp) that
# fragments native memory, so a worker's RSS creeps up render after render
# (postprocess bench: 465 MB growing 28 MB per 1,000 renders; with 2 arenas
# 288 MB growing 13 MB and levelling off). sharp's docs advise the same.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec "$@"
