#!/usr/bin/env bash
# Runs the Go end-to-end suite against the built backend binary, started the way Grafana
# starts it. Build first (`cargo build --release` at the repository root), or point
# MATURITY_PLUGIN_BIN at another build. Extra arguments go to `go test` (e.g. -run TestScenarios).
set -euo pipefail
cd "$(dirname "$0")"

export MATURITY_PLUGIN_BIN="${MATURITY_PLUGIN_BIN:-../../target/release/gpx_maturity}"
if [ ! -x "$MATURITY_PLUGIN_BIN" ]; then
  echo "e2e: no plugin binary at $MATURITY_PLUGIN_BIN; run \`cargo build --release\` or set MATURITY_PLUGIN_BIN" >&2
  exit 1
fi
if ! command -v go >/dev/null 2>&1; then
  echo "e2e: the Go toolchain (go >= 1.26.5, see go.mod) is needed" >&2
  exit 1
fi

echo "e2e: plugin $MATURITY_PLUGIN_BIN; scenarios tests/scenarios${MATURITY_SCENARIOS:+ and $MATURITY_SCENARIOS} (and ../shared/scenarios when present)"
# TestPackage checks the release archive (`mage package`) when MATURITY_PACKAGE_ZIP names it.
echo "e2e: package ${MATURITY_PACKAGE_ZIP:-(MATURITY_PACKAGE_ZIP not set: TestPackage skips)}"
go vet ./...
exec go test ./... -count=1 -v -timeout 10m "$@"
