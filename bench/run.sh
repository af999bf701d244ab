#!/usr/bin/env bash
# Builds Release and runs every benchmark of docs/PERFORMANCE.md from a fresh clone (../shared beside it for the
# fixture script, openssl and the .NET SDK on the PATH). Each bench's full output goes to bench/results/<name>.log;
# its last line, one JSON object, is printed here.
#   bench/run.sh                       everything (about 10 minutes on 2 cores with SQLite alone; PostgreSQL adds the
#                                      fleet again, and its renewal does not finish yet: docs/PERFORMANCE.md)
#   bench/run.sh sign local-renew      only those
#   FLEET_SIZES="500 2000" bench/run.sh fleet
#   ENGINES=sqlite bench/run.sh fleet   the fleet's coordinator state: each size runs on every engine of ENGINES,
#                                      back to back (default "sqlite postgresql"; postgresql: a private durable
#                                      server, needs Debian's postgresql), as bench/results/fleet-N-ENGINE.log
set -euo pipefail
cd "$(dirname "$0")/.."
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(sign local-renew fleet)
mkdir -p bench/results
dotnet build bench/CertFleet.Bench -c Release -v quiet -nologo
bench=bench/CertFleet.Bench/bin/Release/net10.0/certfleet-bench

run() { # NAME ARGS...: runs the bench, keeps its output, prints its last line
  local name=$1; shift
  "$bench" "$@" > "bench/results/$name.log" 2>&1 || { tail -20 "bench/results/$name.log"; exit 1; }
  tail -1 "bench/results/$name.log"
}

for b in "${benches[@]}"; do
  case "$b" in
    sign)
      run sign-rsa2048 sign --count 3000 --key rsa2048
      run sign-ecdsa-p256 sign --count 3000 --key ecdsa-p256 ;;
    local-renew)
      # the CLI as it ships: published for linux-x64, one native binary (NativeAOT), not the dotnet build output
      dotnet publish src/CertFleet.Cli -c Release -r linux-x64 -o artifacts/certfleet -v quiet -nologo
      run local-renew local-renew --runs 20 --certfleet artifacts/certfleet/certfleet ;;
    fleet)
      # the coordinator as it ships: published for linux-x64, one native binary (NativeAOT)
      dotnet publish src/CertFleet.Coordinator -c Release -r linux-x64 -o artifacts/certfleet-coordinator -v quiet -nologo
      for n in ${FLEET_SIZES:-500 1000 2000 5000}; do
        for engine in ${ENGINES:-sqlite postgresql}; do
          run "fleet-$n-$engine" fleet --agents "$n" --coordinator artifacts/certfleet-coordinator/certfleet-coordinator --engine "$engine"
        done
      done ;;
    *) echo "unknown bench '$b': sign, local-renew or fleet" >&2; exit 2 ;;
  esac
done
