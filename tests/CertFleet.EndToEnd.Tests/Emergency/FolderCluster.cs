using CertFleet.Testing;

namespace CertFleet.EndToEnd.Tests.Emergency;

/// <summary>
/// Runs shell lines as an operator types them on a cluster whose machines are folders (make-cluster-pki.sh --loopback),
/// so that the README's commands run as written. The only translations, in bash functions ahead of the lines:
/// <list type="bullet">
/// <item>`ssh root@HOST CMD` runs CMD "on" HOST; `rsync` reads `root@HOST:/path` (and a following `:/path`) in HOST's folder;</item>
/// <item>an absolute /etc, /var or /opt path a command names (also as `--flag=/path`) is the one in the current machine's folder;</item>
/// <item>`certfleet` is the built program, rooted in the machine's folder when the command names no `--root`;</item>
/// <item>`systemctl restart etcd` restarts the machine's real etcd member (etcd-member.sh); other units, which do not
/// run here, are only recorded in <see cref="RestartLog"/>;</item>
/// <item>`etcdctl` reaches the masters at the fixture's loopback addresses (127.0.10.x for the README's 10.0.0.x).</item>
/// </list>
/// </summary>
public sealed class FolderCluster(string directory)
{
    private const string Functions = """
        set -euo pipefail
        map_args() {
          MAPPED=()
          local a
          for a in "$@"; do
            case "$a" in
              /etc/*|/var/*|/opt/*) a="$CLUSTER/$HOST$a" ;;
              --*=/etc/*|--*=/var/*|--*=/opt/*) a="${a%%=*}=$CLUSTER/$HOST/${a#*=/}" ;;
            esac
            MAPPED+=("$a")
          done
        }
        certfleet() {
          map_args "$@"
          case " $* " in
            *" --root "*) ;;
            *" --local "*|" check-expiration "*) MAPPED+=(--root "$CLUSTER/$HOST") ;;
          esac
          dotnet "$CERTFLEET_DLL" "${MAPPED[@]}"
        }
        etcdctl() {
          map_args "$@"
          command etcdctl --dial-timeout=2s --command-timeout=5s "${MAPPED[@]//https:\/\/10.0.0./https://127.0.10.}"
        }
        systemctl() {
          [ "$1" = restart ] || { echo "systemctl $1: not in this sandbox" >&2; return 2; }
          shift
          local unit
          for unit in "$@"; do
            echo "$HOST ${unit%.service}" >> "$CLUSTER/restarts.log"
            if [ "${unit%.service}" = etcd ]; then bash "$ETCD_MEMBER" restart "$CLUSTER/$HOST"; fi
          done
        }
        ssh() { local host="${1#root@}"; shift; ( HOST="$host"; "$@" ); }
        rsync() {
          local a host="" args=()
          for a in "$@"; do
            case "$a" in
              root@*:*) host="${a%%:*}"; host="${host#root@}"; a="$CLUSTER/$host/.${a#*:}" ;;
              :/*) a="$CLUSTER/$host/.${a#:}" ;;
            esac
            args+=("$a")
          done
          command rsync "${args[@]}"
        }

        """;

    public string Directory { get; } = directory;

    public string RestartLog => Path.Combine(Directory, "restarts.log");

    public string NodeRoot(string node) => Path.Combine(Directory, node);

    /// <summary>Runs <paramref name="lines"/> on <paramref name="node"/> with bash (stopping at the first failing command).</summary>
    /// <param name="adminConfig">the operator's admin.conf ($CERTFLEET_CONFIG), for the fleet commands</param>
    public ProcessResult Run(string node, IEnumerable<string> lines, string? adminConfig = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["CLUSTER"] = Directory,
            ["HOST"] = node,
            ["CERTFLEET_DLL"] = Programs.Dll("certfleet"),
            ["ETCD_MEMBER"] = SharedFixtures.EtcdMember,
        };
        if (adminConfig is not null)
        {
            environment["CERTFLEET_CONFIG"] = adminConfig;
        }
        return ProcessRunner.Run("bash", ["-c", Functions + string.Join('\n', lines)], timeout: TimeSpan.FromMinutes(10), environment: environment);
    }

    /// <summary>The units restarted on <paramref name="node"/>, in order.</summary>
    public IReadOnlyList<string> Restarts(string node) =>
        File.Exists(RestartLog)
            ? [.. File.ReadLines(RestartLog).Select(l => l.Split(' ', 2)).Where(f => f[0] == node).Select(f => f[1])]
            : [];
}
