#!/usr/bin/env bash
# Tries CertFleet on a sandbox node: makes a 3-master, 2-worker cluster PKI whose certificates expire in
# 10 days (../shared/fixtures/make-cluster-pki.sh, real openssl output) under a temporary folder, then shows
# master-1's certificates and what `renew --local` would do. Nothing outside that folder is touched.
#   ./sandbox.sh [DIR]     (default: a new folder under /tmp)
set -euo pipefail
cd "$(dirname "$0")"
sandbox="${1:-$(mktemp -d /tmp/certfleet-sandbox.XXXXXX)}"
fixture="../shared/fixtures/make-cluster-pki.sh"
[ -f "$fixture" ] || { echo "sandbox.sh: $fixture not found; clone the repository beside ../shared" >&2; exit 2; }
command -v openssl >/dev/null || { echo "sandbox.sh: openssl is needed (apt-get install openssl)" >&2; exit 2; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build src/CertFleet.Cli -c Release -v quiet --nologo -o "$sandbox/.certfleet" >/dev/null
certfleet() { "$sandbox/.certfleet/certfleet" "$@"; }

bash "$fixture" --out "$sandbox" >/dev/null
node="$sandbox/master-1"
echo "== certfleet check-expiration --root $node"
certfleet check-expiration --root "$node"
echo
echo "== certfleet renew --local --ca --dry-run --root $node"
certfleet renew --local --ca --dry-run --root "$node"
echo
echo "Next: $sandbox/.certfleet/certfleet renew --local --ca --root $node"
echo "then: $sandbox/.certfleet/certfleet verify --local --root $node"
