#!/usr/bin/env bash
# Run the fuzz harness with a new seed each time (docs/testing.md).
#   scripts/fuzz-rotate.sh [seconds per run, default 300] [runs, default 1]
# Each run prints its seed; the JSON reports of failing runs are kept in .pgwarden/fuzz/.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
runs="${2:-1}"
mkdir -p .pgwarden/fuzz
failed=0
for ((i = 1; i <= runs; i++)); do
  seed=$(( ( $(date +%s) * 7919 + RANDOM + i ) % 2147483647 ))
  report=".pgwarden/fuzz/seed-${seed}.json"
  echo "== fuzz run ${i}/${runs}: seed ${seed}, ${seconds} s"
  if npm run --silent fuzz -- --seconds "$seconds" --seed "$seed" --json "$report"; then
    rm -f "$report"
  else
    failed=$((failed + 1))
    echo "   violations: report kept in ${report}; reproduce with: npm run fuzz -- --seconds ${seconds} --seed ${seed}"
  fi
done
exit $(( failed > 0 ? 1 : 0 ))
