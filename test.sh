#!/usr/bin/env bash
# Runs every CertFleet test. Installs what the tests need when it is missing
# (openssl, the etcd server and client, systemd-analyze, a C compiler from Debian's packages), so it passes on a
# fresh machine. Usage: ./test.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v etcd >/dev/null || missing+=(etcd-server)
command -v etcdctl >/dev/null || missing+=(etcd-client)
# the packaging tests: systemd-analyze checks the units; the NativeAOT agent in the .deb links with gcc or clang
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v gcc >/dev/null || command -v clang >/dev/null || missing+=(gcc)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (needed by the tests)"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Debian's etcd-server package starts a default member on 127.0.0.1:2379; the tests run their own.
if command -v systemctl >/dev/null && systemctl is-active --quiet etcd 2>/dev/null; then
  systemctl stop etcd || true
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
dotnet build Coordinator.sln --nologo -v quiet 2>&1 | tee "$log" || status=$?
# One test assembly at a time: several of them run real etcd members on the fixture's loopback addresses
# (127.0.10.x), which two assemblies running together would both try to bind. The .deb the packaging tests unpack
# is built meanwhile (its publishes use the CPU the unit tests leave idle), and handed to them ready.
run_tests() { dotnet test "$1" --nologo --no-build -v quiet "${@:2}" 2>&1 | tee -a "$log" || status=$?; }
if [ "$status" -eq 0 ]; then
  deb="$(mktemp -d)"
  trap 'rm -f "$log"; rm -rf "$deb"' EXIT
  ( packaging/build-deb.sh "$deb/out" > "$deb/build.log" 2>&1; echo $? > "$deb/rc" ) &
  for project in Pki Cli Coordinator Agent; do run_tests "tests/CertFleet.$project.Tests" "$@"; done
  wait
  if [ "$(cat "$deb/rc")" -eq 0 ]; then
    export CERTFLEET_DEB="$(tail -n 1 "$deb/build.log")"
  else
    echo "packaging/build-deb.sh failed (the packaging tests build it again and report why):"; tail -n 20 "$deb/build.log"
  fi
  run_tests tests/CertFleet.EndToEnd.Tests "$@"
  run_tests tests/CertFleet.Packaging.Tests "$@"
fi
# One closing line for every test assembly together: "N passed, N failed, N skipped".
awk '/^(Passed|Failed)! +- +Failed:/ {
       for (i = 1; i <= NF; i++) { v = $(i + 1); gsub(",", "", v)
         if ($i == "Failed:") f += v; if ($i == "Passed:") p += v; if ($i == "Skipped:") s += v } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
