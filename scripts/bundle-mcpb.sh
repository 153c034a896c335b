#!/usr/bin/env bash
# Claude Desktop extension bundle (.mcpb) of pgwarden's stdio server (npm run bundle:mcpb [OUT]):
# mcpb/manifest.json, the published package (npm pack: dist/, config/) and its production
# dependencies from package-lock.json, packed with the MCP Bundle tooling (@anthropic-ai/mcpb,
# pinned, installed from npm into a folder outside the project, like the conformance suite).
# Checks (exit 1 on any): the manifest validates against the tooling's schema and carries
# package.json's version; the packed bundle unpacks; its server, started as the manifest says
# (node server/dist/cli/main.js serve --transport stdio, DATABASE_URL only), answers initialize and
# tools/list over stdio with pgwarden's tools (no database needs to be up for that).
# Output: pgwarden-<version>.mcpb in the project folder, or OUT. Cost: ~1-2 min.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MCPB_VERSION=2.1.2
TOOL_DIR=${PGWARDEN_MCPB_DIR:-${TMPDIR:-/tmp}/pgwarden-mcpb}
if [ ! -x "$TOOL_DIR/node_modules/.bin/mcpb" ]; then
  mkdir -p "$TOOL_DIR"
  echo "== installing @anthropic-ai/mcpb $MCPB_VERSION into $TOOL_DIR"
  npm install --no-audit --no-fund --prefix "$TOOL_DIR" "@anthropic-ai/mcpb@$MCPB_VERSION" >"$TOOL_DIR/install.log" 2>&1
fi
MCPB="$TOOL_DIR/node_modules/.bin/mcpb"

VERSION=$(node -p "require('./package.json').version")
MANIFEST_VERSION=$(node -p "require('./mcpb/manifest.json').version")
[ "$VERSION" = "$MANIFEST_VERSION" ] || { echo "bundle-mcpb: mcpb/manifest.json has version $MANIFEST_VERSION, package.json $VERSION"; exit 1; }
"$MCPB" validate mcpb/manifest.json

OUT=${1:-$ROOT/pgwarden-$VERSION.mcpb}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
TARBALL=$(npm pack --silent --pack-destination "$WORK" | tail -1)
mkdir -p "$WORK/bundle"
tar -xzf "$WORK/$TARBALL" -C "$WORK"
mv "$WORK/package" "$WORK/bundle/server"
cp mcpb/manifest.json "$WORK/bundle/manifest.json"
cp package-lock.json "$WORK/bundle/server/package-lock.json"
(cd "$WORK/bundle/server" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null 2>&1) || { echo "bundle-mcpb: npm ci --omit=dev failed in the bundle"; exit 1; }
rm -f "$WORK/bundle/server/package-lock.json"
"$MCPB" pack "$WORK/bundle" "$OUT" >"$WORK/pack.log" 2>&1 || { cat "$WORK/pack.log"; exit 1; }

# the bundle as a host unpacks and starts it
"$MCPB" unpack "$OUT" "$WORK/unpacked" >/dev/null
[ -f "$WORK/unpacked/server/dist/cli/main.js" ] || { echo "bundle-mcpb: the bundle has no server/dist/cli/main.js"; exit 1; }
mkdir -p "$WORK/state"
mkfifo "$WORK/in"
(cd "$WORK" && XDG_STATE_HOME="$WORK/state" DATABASE_URL='postgres://bundle_check@127.0.0.1:1/none' PGWARDEN_CONFIG='' PGWARDEN_PRINCIPAL='' \
  exec timeout 120 node "$WORK/unpacked/server/dist/cli/main.js" serve --transport stdio <"$WORK/in" >"$WORK/out" 2>"$WORK/server.err") &
SERVER_PID=$!
exec 3>"$WORK/in"
printf '%s\n' \
  '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bundle-check","version":"1"}}}' \
  '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
  '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' >&3
for _ in $(seq 1 90); do grep -q '"id":2' "$WORK/out" 2>/dev/null && break; kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 1; done
exec 3>&-
wait "$SERVER_PID" || true
grep -q '"id":2' "$WORK/out" && grep -q '"name":"query"' "$WORK/out" || {
  echo "bundle-mcpb: the bundled server did not answer tools/list over stdio:"; head -c 800 "$WORK/out"; tail -5 "$WORK/server.err"; exit 1;
}
echo "bundle-mcpb: OK $OUT ($(du -k "$OUT" | cut -f1) KiB; manifest valid, server answers over stdio)"
