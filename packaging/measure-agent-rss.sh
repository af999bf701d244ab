#!/usr/bin/env bash
# Measures the agent's idle memory: publishes the NativeAOT agent (and the JIT one for comparison), runs a real
# coordinator and each agent on a fixture master (../shared/fixtures/make-cluster-pki.sh) on loopback
# (127.0.24.50 by default, CERTFLEET_MEASURE_ADDRESS to change it), waits for the agent's first inventory report and two
# heartbeats, then reads VmRSS (and its anonymous and file-backed parts) from /proc/PID/status a few times.
#   packaging/measure-agent-rss.sh [--aot-only]      prints one line per agent: "aot VmRSS ... kB" and "jit ..."
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
fixtures=$(cd "$repo/../shared/fixtures" && pwd)
work=$(mktemp -d)
address=${CERTFLEET_MEASURE_ADDRESS:-127.0.24.50}
port=17450
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
    wait 2> /dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

publish() { # PROJECT OUTDIR [ARGS...]
    local project=$1 outdir=$2
    shift 2
    dotnet publish "$repo/src/$project" -c Release -v quiet -nologo -o "$outdir" "$@" > "$work/publish.log" 2>&1 \
        || { cat "$work/publish.log" >&2; echo "measure-agent-rss.sh: publishing $project failed" >&2; exit 1; }
}
echo "publishing (Release) ..." >&2
publish CertFleet.Agent "$work/aot" -r linux-x64
if [[ ${1:-} != --aot-only ]]; then
    publish CertFleet.Agent "$work/jit"
fi
publish CertFleet.Coordinator "$work/coordinator"
publish CertFleet.Cli "$work/cli"

bash "$fixtures/make-cluster-pki.sh" --out "$work/pki" --masters 1 --workers 0 > /dev/null
pki=$work/pki/master-1/etc/kubernetes/pki
"$work/coordinator/certfleet-coordinator" --listen "$address:$port" --state-dir "$work/state" \
    --ca-cert "$pki/ca.crt" --ca-key "$pki/ca.key" --ca-cert "$pki/front-proxy-ca.crt" --ca-key "$pki/front-proxy-ca.key" \
    > "$work/coordinator.log" 2>&1 &
pids+=($!)
export CERTFLEET_CONFIG=$work/state/admin.conf
for _ in $(seq 60); do [[ -f $CERTFLEET_CONFIG ]] && "$work/cli/certfleet" status > /dev/null 2>&1 && break; sleep 0.5; done

measure() { # KIND NODE COMMAND...: runs one agent until its first report, then prints its resident memory
    local kind=$1 node=$2
    shift 2
    local join token hash
    join=$("$work/cli/certfleet" token create --node "$node" --role master --print-join-command | tail -1)
    token=$(sed -n 's/.*--token \([^ ]*\).*/\1/p' <<< "$join")
    hash=$(sed -n 's/.*--ca-hash \([^ ]*\).*/\1/p' <<< "$join")
    "$@" --coordinator "https://$address:$port" --node "$node" --token "$token" --ca-hash "$hash" \
        --root "$work/pki/master-1" --state-dir "$work/agent-$kind" > "$work/agent-$kind.log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    local reported=
    for _ in $(seq 120); do
        if "$work/cli/certfleet" status -o json 2> /dev/null | grep -q "\"$node\""; then
            if "$work/cli/certfleet" status 2> /dev/null | awk -v n="$node" '$1 == n && $5 > 0 { found = 1 } END { exit !found }'; then
                reported=yes
                break
            fi
        fi
        sleep 0.5
    done
    [[ -n $reported ]] || { cat "$work/agent-$kind.log" >&2; echo "measure-agent-rss.sh: $kind agent never reported" >&2; exit 1; }
    # idle: the report is sent, the stream is open, heartbeats only (every 15 s). Past two of them: the agent gives
    # memory back after the report, and the pages a heartbeat needs come back with it (docs/AGENT-MEMORY.md).
    sleep 35
    local samples=()
    for _ in 1 2 3 4 5; do
        samples+=("$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")")
        sleep 3
    done
    local parts
    parts=$(awk '/^(RssAnon|RssFile):/ { printf "%s %s kB ", $1, $2 }' "/proc/$pid/status")
    echo "$kind VmRSS ${samples[*]} kB (idle, after enrollment and the first report; max $(printf '%s\n' "${samples[@]}" | sort -n | tail -1) kB; last: ${parts% })"
    kill "$pid"
}

measure aot master-1 "$work/aot/certfleet-agent"
if [[ ${1:-} != --aot-only ]]; then
    measure jit master-1-jit dotnet "$work/jit/certfleet-agent.dll"
fi
