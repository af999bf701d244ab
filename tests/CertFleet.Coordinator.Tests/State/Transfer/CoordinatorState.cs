using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Enrollment;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Group;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Coordinator.State;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging.Abstractions;

namespace CertFleet.Coordinator.Tests.State.Transfer;

/// <summary>
/// A SQLite state dir written the way a coordinator writes it: it takes the lease, records its fleet CA, and its
/// stores enroll nodes with tokens, save their reports, run a rollout and append to the audit trail, every write
/// fenced by the lease; then it stops (resigns the lease), or is left running.
/// </summary>
internal sealed record CoordinatorState(string Directory, string UnusedToken, string UsedToken, string RolloutId)
{
    public const string Url = "https://127.0.91.1:9443";
    public const string FleetCa = "sha256:5d5b09f6dcb2d53a5fffc60c4ac0d55fabdfe4a7d8a0b1c2d3e4f5a6b7c8d9e0";

    public string StatePath => Path.Combine(Directory, "state.db");

    public static CoordinatorState Make(string directory, bool running = false)
    {
        var time = TimeProvider.System;
        // as the fleet authority makes it at a coordinator's first start
        System.IO.Directory.CreateDirectory(directory);
        using var database = new StateDatabase(directory);
        // a lease as long as a test: a running coordinator's lease must not run out under it
        var lease = new CoordinatorLease(database, Url, TimeSpan.FromMinutes(10), NullLogger<CoordinatorLease>.Instance);
        lease.Round(atStart: true);
        new CoordinatorMembers(database, lease).Record(time.GetUtcNow());
        FleetCaAgreement.Check(database, FleetCa, directory);

        var nodes = new NodeStore(database, time);
        var tokens = new TokenStore(database, time);
        var used = tokens.Create("master-1", NodeRole.Master, TimeSpan.FromHours(1));
        tokens.Redeem(used.Secret, "master-1", (connection, role, _) =>
        {
            nodes.Enroll(connection, "master-1", role, "0A01", null);
            return 0;
        });
        nodes.Enroll("worker-1", NodeRole.Worker, "0B02", previousSerial: "0B01");
        nodes.SaveReport("master-1", Report("/etc/kubernetes/pki/apiserver.crt", "/etc/kubernetes/pki/ca.crt"));
        nodes.SaveReport("worker-1", Report("/var/lib/kubelet/pki/kubelet.crt"));
        nodes.RefuseReport("worker-1", "the report holds 20001 certificates; at most 20000 are read");
        var unused = tokens.Create(null, NodeRole.Worker, TimeSpan.FromHours(2));

        var rollouts = new RolloutStore(database);
        var now = Timestamp.FromDateTimeOffset(time.GetUtcNow());
        const string RolloutId = "r-20261206-170124-5de3";
        rollouts.Create(new Rollout
        {
            Id = RolloutId, State = RolloutState.Running, CreatedAt = now, Request = new RolloutRequest { All = true },
            Steps =
            {
                new RolloutStep { Sequence = 1, Batch = 1, Kind = StepKind.Install, Node = "master-1", State = StepState.Succeeded, StartedAt = now, FinishedAt = now },
                new RolloutStep { Sequence = 2, Batch = 1, Kind = StepKind.Restart, Node = "master-1", Unit = "kube-apiserver.service", State = StepState.Pending },
            },
        }, [new RolloutTarget("master-1", "AA11"), new RolloutTarget("worker-1", "BB22")]);
        rollouts.SaveRenewedCertificate(RolloutId, "AA11", [0x30, 0x82, 0x01, 0x00, 0xff]);
        rollouts.AddRefused(RolloutId, new RefusedCertificate { Node = "worker-1", Path = "/etc/x.crt", Subject = "CN=x", Reason = "not issued by a coordinator CA" });
        rollouts.Transition(RolloutId, [RolloutState.Running], RolloutState.Halted, "master-1 kube-apiserver.service: health gate failed", now);

        using (var audit = new AuditLog(database, time, NullLogger<AuditLog>.Instance))
        {
            audit.Append(new AuditRecord(AuditKinds.TokenCreated, "admin") { Node = "master-1" });
            audit.Append(new AuditRecord(AuditKinds.Enrolled, "agent:master-1") { Node = "master-1", Serial = "0A01" });
            audit.Append(new AuditRecord(AuditKinds.Issued, "coordinator")
            {
                Node = "master-1", Path = "/etc/kubernetes/pki/apiserver.crt", Subject = "CN=kube-apiserver", Serial = "1F",
                NotAfter = time.GetUtcNow().AddDays(365), PreviousSerial = "1E", RolloutId = RolloutId,
            });
            audit.NodeRemoved("worker-9", detail: "decommissioned");
        }
        // a renewed cluster CA certificate, as the signing area keeps it
        database.Execute("INSERT INTO authority_certificates (key_id, pem, not_after, saved_at) VALUES (@key, @pem, @notAfter, @saved)",
            ("@key", "1a2b3c4d"), ("@pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
            ("@notAfter", time.GetUtcNow().AddYears(10)), ("@saved", time.GetUtcNow()));

        if (!running)
        {
            lease.Resign();
        }
        lease.Dispose();
        return new CoordinatorState(directory, unused.Secret, used.Secret, RolloutId);
    }

    private static InventoryReport Report(params string[] paths) => new()
    {
        TakenAt = Timestamp.FromDateTimeOffset(TimeProvider.System.GetUtcNow()),
        Certificates =
        {
            paths.Select(path => new ReportedCertificate
            {
                Path = path, Der = ByteString.CopyFrom([0x30, 0x03, 0x02, 0x01, (byte)path.Length]), KeyPath = path.Replace(".crt", ".key", StringComparison.Ordinal),
                KeyState = KeyState.Matches, UsedBy = { "kube-apiserver.service" },
            }),
        },
    };
}
