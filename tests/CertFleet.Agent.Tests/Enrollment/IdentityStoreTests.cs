using CertFleet.Agent.Enrollment;
using CertFleet.Testing;

namespace CertFleet.Agent.Tests.Enrollment;

public sealed class IdentityStoreTests : IDisposable
{
    private readonly string _parent = ScratchDirectory.Create("identity");

    private string State => Path.Combine(_parent, "state");

    public void Dispose() => ScratchDirectory.Delete(_parent);

    [Fact]
    public void CreateKeyAndSave_NewIdentity_PrivateFilesAndLoadsWithItsKey()
    {
        var store = new IdentityStore(State);
        using var ca = TestCertificates.CreateCa("fleet");
        using var key = store.CreateKey();
        var csr = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=master-1", key, System.Security.Cryptography.HashAlgorithmName.SHA256).CreateSigningRequest();
        using var issued = TestCertificates.IssueClient(ca, csr, "master-1");

        Assert.False(store.Exists);
        store.Save(issued.RawData, ca.RawData);
        using var identity = store.Load();

        Assert.True(store.Exists);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(State));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.KeyPath));
        Assert.True(identity.Certificate.HasPrivateKey);
        Assert.Equal("CN=master-1", identity.Certificate.Subject);
        Assert.Equal(ca.Thumbprint, identity.FleetCa.Thumbprint);
        Assert.Contains("BEGIN PRIVATE KEY", File.ReadAllText(store.KeyPath));
    }

    [Fact]
    public void Load_DamagedCertificate_SaysToEnrollAgain()
    {
        var store = new IdentityStore(State);
        using (store.CreateKey())
        {
        }
        File.WriteAllText(store.CertificatePath, "garbage");
        File.WriteAllText(store.FleetCaPath, "garbage");

        var error = Assert.Throws<CertFleet.Pki.PkiException>(store.Load);

        Assert.Contains("enroll again with a new token", error.Message);
    }

    [Fact]
    public void Load_LooseStateFolderAndKeyReadableByOthers_FolderTightenedAndKeyRefusedWithTheChmod()
    {
        var store = new IdentityStore(State);
        using var ca = TestCertificates.CreateCa("fleet");
        using (var key = store.CreateKey())
        {
            var csr = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=worker-1", key, System.Security.Cryptography.HashAlgorithmName.SHA256).CreateSigningRequest();
            using var issued = TestCertificates.IssueClient(ca, csr, "worker-1");
            store.Save(issued.RawData, ca.RawData);
        }
        const UnixFileMode owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        File.SetUnixFileMode(State, owner | UnixFileMode.UserExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        using (store.Load())
        {
        }
        Assert.Equal(owner | UnixFileMode.UserExecute, File.GetUnixFileMode(State));

        File.SetUnixFileMode(store.KeyPath, owner | UnixFileMode.GroupRead);
        var error = Assert.Throws<CertFleet.Pki.PkiException>(store.Load);
        Assert.Contains($"run `chmod 600 {store.KeyPath}`", error.Message, StringComparison.Ordinal);
    }
}
