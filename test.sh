#!/usr/bin/env bash
# Runs every CertFleet test. Installs what the tests need when it is missing
# (openssl, the etcd server and client, rsync, cfssl for the guide layouts, systemd-analyze, a C compiler, Prometheus and
# Alertmanager, SoftHSM2 with opensc and OpenSSL's pkcs11 engine, PostgreSQL from Debian's packages), so it passes on a
# fresh machine. Usage: ./test.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v etcd >/dev/null || missing+=(etcd-server)
command -v etcdctl >/dev/null || missing+=(etcd-client)
# the README's emergency runbook copies a worker's files with rsync (the end-to-end tests run it as written)
command -v rsync >/dev/null || missing+=(rsync)
# the guide layouts (tests/fixtures/guides) are made as the guides make them, with cfssl; their kubeconfigs with
# `kubectl config` where kubectl works, else written as kubectl writes them (Debian 12's kubernetes-client crashes
# in `kubectl config set-credentials`, so it is no use to install it)
command -v cfssl >/dev/null && command -v cfssljson >/dev/null || missing+=(golang-cfssl)
# the packaging tests: systemd-analyze checks the units; the NativeAOT agent in the .deb links with gcc or clang
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v gcc >/dev/null || command -v clang >/dev/null || missing+=(gcc)
# the monitoring tests: promtool checks and tests the shipped alert rules, a private Prometheus evaluates the dashboard's
# queries and a private Alertmanager receives the coordinator's alerts (each started by its test on loopback)
command -v promtool >/dev/null && command -v prometheus >/dev/null || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
# CA keys in an HSM: SoftHSM2 tokens with keys made inside them by opensc's pkcs11-tool, opened through OpenSSL's
# pkcs11 engine (libp11, which brings p11-kit's proxy module)
command -v softhsm2-util >/dev/null || missing+=(softhsm2)
command -v pkcs11-tool >/dev/null || missing+=(opensc)
[ -e /usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so ] || missing+=(libengine-pkcs11-openssl)
# the coordinator's PostgreSQL state engine: its tests run private servers with the server's own programs (initdb,
# postgres, pg_isready, psql in /usr/lib/postgresql/VERSION/bin), as Debian's postgres user when run as root
[ -x "$(ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | tail -1)" ] || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (needed by the tests)"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Debian's etcd-server package starts a default member on 127.0.0.1:2379; the tests run their own.
# Debian's prometheus packages start theirs on :9090 and :9093 where systemd runs; the tests run their own on other ports.
# Debian's postgresql starts its default cluster (VERSION/main on :5432), by systemd or, without it, by its init script;
# no test uses it: each test class starts a private server of its own (own data folder, a free loopback port, in the
# network namespace its test runs in) and stops it at the end.
for service in etcd prometheus prometheus-alertmanager postgresql; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then
    systemctl stop "$service" || true
  fi
done
if command -v pg_lsclusters >/dev/null; then
  pg_lsclusters -h 2>/dev/null | awk '$4 ~ /^online/ { print $1, $2 }' | while read -r version cluster; do
    pg_ctlcluster "$version" "$cluster" stop || true
  done || true
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# the test hosts and the programs they start are short-lived: dynamic PGO's instrumented tier only costs them CPU (~7%)
export DOTNET_TieredPGO=0
log="$(mktemp)"
side="$(mktemp -d)"
trap 'rm -f "$log"; rm -rf "$side"' EXIT
status=0
# where the time goes, one line per phase: the whole run must stay well inside CI's 20 minutes
phase() { echo "# test.sh: $1 done at $((SECONDS / 60))m$((SECONDS % 60))s"; }
dotnet build Coordinator.sln --nologo -v quiet 2>&1 | tee "$log" || status=$?
phase "build"
# The run is CPU-bound on a 2-core machine, so it is laid out to keep both cores busy and nothing more:
# - the .deb is built first, in the background (NativeAOT, about 2.5 min of CPU; it restores from NuGet, so outside a
#   namespace). The tests that start CertFleet's programs as processes (hundreds in the end-to-end soak) then run
#   its native binaries (CERTFLEET_TEST_PROGRAMS): what ships, without a JIT in every process; that halves their CPU.
# - the end-to-end assembly (the longest, most of it the soak's rollouts waiting on etcd, restarts and health gates)
#   follows the .deb in the background, in a network namespace of its own: it and the Agent assembly both run real
#   etcd members on 127.0.10.11-13, and a private loopback keeps the same addresses from meeting.
# - meanwhile the unit assemblies go one after another in the foreground (side by side they only slowed each other);
#   Coordinator and Agent, which start programs, after the .deb is there. The Agent assembly has a namespace too.
# - the end-to-end assembly is three runs side by side once the .deb is there, each in a namespace of its own: the
#   soak; the coordinator group (two coordinators on PostgreSQL: both failovers on one fleet, and the group soak with
#   1 rollout) beside the demo and the stolen-certificate fleet; and every other end-to-end test (the CA re-key's
#   fleets, the runbooks). The lanes are balanced by their measured ends; the machine's two cores are busy from the
#   first minute to the last, so what shortens the run is less work, not another order.
# Failures print their messages (console verbosity minimal), so a CI log says why, not only which.
# Where namespaces cannot be made (not root), everything runs one after the other.
quiet=(--nologo --no-build -v quiet --logger "console;verbosity=minimal")
run_tests() { dotnet test "$1" "${quiet[@]}" "${@:2}" 2>&1 | tee -a "$log" || status=$?; }
if unshare -n true 2>/dev/null && command -v ip >/dev/null; then
  isolated() { unshare -n sh -c 'ip link set lo up && exec "$@"' isolated "$@"; }
else
  isolated() { "$@"; }
  serial=1
fi
build_deb() {
  if packaging/build-deb.sh "$side/out" > "$side/deb.log" 2>&1; then
    deb="$(tail -n 1 "$side/deb.log")"
    mkdir -p "$side/unpacked" && dpkg-deb -x "$deb" "$side/unpacked"
    echo "$deb" > "$side/deb.path"
  fi
  touch "$side/deb.done"
  phase ".deb build"
}
use_deb() { # the built .deb for the packaging tests and its programs for the others; without it, the .dll builds
  if [ -s "$side/deb.path" ]; then
    export CERTFLEET_DEB="$(cat "$side/deb.path")" CERTFLEET_TEST_PROGRAMS="$side/unpacked/usr/lib/certfleet"
  else
    echo "packaging/build-deb.sh failed (the packaging tests build it again and report why):"; tail -n 20 "$side/deb.log"
  fi
}
# with no test arguments of the caller's (they may hold a --filter of their own), the end-to-end assembly runs as
# three lanes side by side: the soak on one coordinator; the coordinator group (two coordinators on a private
# PostgreSQL: the failover tests and the soak's group mode) with the demo and the stolen-certificate fleet; the rest
split_soak=""; e2e_rest=()
soak_tests="FullyQualifiedName~CertFleet.EndToEnd.Tests.SoakTests&FullyQualifiedName!~TwoCoordinatorsOnPostgres"
group_tests="FullyQualifiedName~CertFleet.EndToEnd.Tests.Group|FullyQualifiedName~TwoCoordinatorsOnPostgres|FullyQualifiedName~Demo_RekeyCa|FullyQualifiedName~StolenCertificateTests"
if [ "$#" -eq 0 ] && [ -z "${serial:-}" ]; then
  split_soak=1
  e2e_rest=(--filter "FullyQualifiedName!~CertFleet.EndToEnd.Tests.SoakTests&FullyQualifiedName!~CertFleet.EndToEnd.Tests.DemoTests&FullyQualifiedName!~CertFleet.EndToEnd.Tests.Group&FullyQualifiedName!~StolenCertificateTests")
fi
if [ "$status" -eq 0 ]; then
  if [ -z "${serial:-}" ]; then
    ( set +e
      build_deb
      use_deb > /dev/null
      if [ -n "$split_soak" ]; then
        ( isolated dotnet test tests/CertFleet.EndToEnd.Tests "${quiet[@]}" \
            --filter "$soak_tests" \
            > "$side/e2e-soak.log" 2>&1
          echo $? > "$side/e2e-soak.rc"; phase "EndToEnd soak (beside the others)" ) &
        # the group soak's 6 rollouts by hand, 1 here: the third lane's CPU slowed the other two past the 20 minutes
        ( CERTFLEET_SOAK_GROUP_ROLLOUTS="${CERTFLEET_SOAK_GROUP_ROLLOUTS:-1}" \
            isolated dotnet test tests/CertFleet.EndToEnd.Tests "${quiet[@]}" --filter "$group_tests" > "$side/e2e-group.log" 2>&1
          echo $? > "$side/e2e-group.rc"; phase "EndToEnd coordinator group (beside the others)" ) &
      fi
      isolated dotnet test tests/CertFleet.EndToEnd.Tests "${quiet[@]}" "${e2e_rest[@]}" "$@" > "$side/e2e.log" 2>&1
      echo $? > "$side/e2e.rc"; phase "EndToEnd tests (beside the others)"
      wait ) &
    background=$!
  fi
  for project in Pki Cli; do run_tests "tests/CertFleet.$project.Tests" "$@"; phase "$project tests"; done
  if [ -n "${serial:-}" ]; then
    build_deb
  else
    # the background writes deb.done once the .deb is built (or has failed)
    while [ ! -e "$side/deb.done" ] && kill -0 "$background" 2>/dev/null; do sleep 2; done
  fi
  use_deb
  # the packaging tests need only the .deb: first, so the run does not end with them alone on the two cores (the
  # last fresh run's final 37 s were theirs, at half the machine)
  run_tests tests/CertFleet.Packaging.Tests "$@"
  phase "Packaging tests"
  run_tests tests/CertFleet.Coordinator.Tests "$@"; phase "Coordinator tests"
  isolated dotnet test tests/CertFleet.Agent.Tests "${quiet[@]}" "$@" 2>&1 | tee -a "$log" || status=$?
  phase "Agent tests"
  if [ -n "${serial:-}" ]; then
    run_tests tests/CertFleet.EndToEnd.Tests "$@"; phase "EndToEnd tests"
  else
    wait "$background" || true
    tee -a "$log" < "$side/e2e.log"
    [ "$(cat "$side/e2e.rc" 2>/dev/null || echo 1)" -eq 0 ] || status=1
    if [ -n "$split_soak" ]; then
      for lane in soak group; do
        tee -a "$log" < "$side/e2e-$lane.log"
        [ "$(cat "$side/e2e-$lane.rc" 2>/dev/null || echo 1)" -eq 0 ] || status=1
      done
    fi
  fi
fi
# One closing line for every test assembly together: "N passed, N failed, N skipped".
awk '/^(Passed|Failed)! +- +Failed:/ {
       for (i = 1; i <= NF; i++) { v = $(i + 1); gsub(",", "", v)
         if ($i == "Failed:") f += v; if ($i == "Passed:") p += v; if ($i == "Skipped:") s += v } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
