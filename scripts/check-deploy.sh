#!/usr/bin/env bash
# Validate the deployment artifacts offline: Dockerfile, docker-compose.yml, kustomize base and
# overlays (rendered and schema-checked), pgwarden configs, nginx recipe, server.json.
#
#   scripts/check-deploy.sh            static checks
#   scripts/check-deploy.sh --smoke    + the image's runtime commands on a temp copy (after npm run build)
#   scripts/check-deploy.sh --verbose  list every check
#
# Needs: npm dev dependencies installed (npm ci), kubectl >= 1.27 or kustomize on PATH.
# Optional: nginx + openssl (adds `nginx -t`), the docker compose plugin (adds `docker compose config`).
# Exit status: 0 when every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/tsx ] || [ ! -d node_modules/kubernetes-models ] || [ ! -x node_modules/.bin/dclint ]; then
  echo "check-deploy: dev dependencies missing: run 'npm ci' first" >&2
  exit 2
fi
if ! command -v kubectl >/dev/null 2>&1 && ! command -v kustomize >/dev/null 2>&1; then
  echo "check-deploy: needs kubectl (>= 1.27, built-in kustomize) or kustomize on PATH; no cluster is contacted" >&2
  exit 2
fi
exec node_modules/.bin/tsx scripts/check-deploy.ts "$@"
