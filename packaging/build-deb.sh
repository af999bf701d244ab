#!/usr/bin/env bash
# Builds certfleet_VERSION_amd64.deb into OUTDIR: the three programs self-contained for linux-x64, the systemd
# units, the default configuration (conffiles) and the maintainer scripts. Needs the .NET SDK, dpkg-deb, and a C
# toolchain for the NativeAOT programs (clang, or gcc: their projects pick gcc when clang is absent).
#   packaging/build-deb.sh OUTDIR          CERTFLEET_VERSION=1.2.3 overrides the version (default 0.1.0)
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
for tool in dotnet dpkg-deb; do
    command -v "$tool" > /dev/null || { echo "build-deb.sh: $tool is needed; install it first" >&2; exit 2; }
done
if ! command -v clang > /dev/null && ! command -v gcc > /dev/null; then
    echo "build-deb.sh: the NativeAOT programs need a C toolchain to link: apt-get install clang (or build-essential)" >&2
    exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
mkdir -p "$1"
out=$(cd "$1" && pwd)
version=${CERTFLEET_VERSION:-0.1.0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/publish
pkg=$work/root

publish() { # PROJECT: into $stage/PROJECT; each project publishes for a runtime as one NativeAOT binary
    local project=$1
    dotnet publish "$repo/src/$project" -c Release -r linux-x64 -v quiet -nologo -o "$stage/$project" > "$work/$project.log" 2>&1 \
        || { cat "$work/$project.log" >&2; echo "build-deb.sh: publishing $project failed" >&2; exit 1; }
}

publish CertFleet.Agent
publish CertFleet.Coordinator
publish CertFleet.Cli

# /usr/lib/certfleet holds the executables and the native libraries they load from their own folder
# (libe_sqlite3.so); /usr/bin has symlinks, which a native .NET program resolves (/proc/self/exe) to find that folder.
install -d "$pkg/usr/lib/certfleet" "$pkg/usr/bin"
for program in CertFleet.Agent:certfleet-agent CertFleet.Coordinator:certfleet-coordinator CertFleet.Cli:certfleet; do
    project=${program%%:*}
    name=${program#*:}
    install -m 0755 "$stage/$project/$name" "$pkg/usr/lib/certfleet/$name"
    ln -s "../lib/certfleet/$name" "$pkg/usr/bin/$name"
    for library in "$stage/$project"/*.so; do
        [[ -e $library ]] && install -m 0644 "$library" "$pkg/usr/lib/certfleet/"
    done
done

install -d "$pkg/lib/systemd/system"
install -m 0644 "$here"/systemd/certfleet-agent.service "$here"/systemd/certfleet-coordinator.service "$pkg/lib/systemd/system/"
install -d -m 0755 "$pkg/etc/certfleet"
# agent.conf will hold the bootstrap token; coordinator.conf only paths, and the certfleet user reads it
install -m 0600 "$here/etc/certfleet/agent.conf" "$pkg/etc/certfleet/agent.conf"
install -m 0644 "$here/etc/certfleet/coordinator.conf" "$pkg/etc/certfleet/coordinator.conf"
install -d "$pkg/usr/share/doc/certfleet"
install -m 0644 "$repo/README.md" "$repo/SECURITY.md" "$pkg/usr/share/doc/certfleet/"
# the alert rules and the Grafana dashboard for the coordinator's /metrics (README, "Prometheus")
install -d "$pkg/usr/share/certfleet/monitoring"
install -m 0644 "$here"/monitoring/certfleet-alerts.yml "$here"/monitoring/certfleet-dashboard.json "$pkg/usr/share/certfleet/monitoring/"

install -d "$pkg/DEBIAN"
install -m 0755 "$here"/debian/postinst "$here"/debian/prerm "$here"/debian/postrm "$pkg/DEBIAN/"
printf '%s\n' /etc/certfleet/agent.conf /etc/certfleet/coordinator.conf > "$pkg/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
# self-contained: no .NET runtime needed. libssl: X.509 and TLS go through OpenSSL (loaded at run time);
# no libicu (InvariantGlobalization); useradd (passwd) for the postinst.
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: certfleet
Version: $version
Architecture: amd64
Maintainer: CertFleet <certfleet@localhost>
Installed-Size: $size
Depends: libc6 (>= 2.27), libgcc-s1, libstdc++6, libssl3 | libssl3t64 | libssl1.1, passwd
Section: admin
Priority: optional
Description: renews the TLS certificates of binary-deployed Kubernetes clusters
 A coordinator holds the cluster CA keys and an agent on every node renews the node's
 certificates with their existing keys, then restarts etcd, kube-apiserver and the other
 services one at a time, gated on health. Nothing is enabled or started by the package:
 configure /etc/certfleet/coordinator.conf and agent.conf first.
CONTROL

deb="$out/certfleet_${version}_amd64.deb"
# xz at its fastest level (about 20 MB; the default level saves a little and takes ten times as long)
dpkg-deb --root-owner-group -Zxz -z1 --build "$pkg" "$deb" > /dev/null
echo "$deb"
