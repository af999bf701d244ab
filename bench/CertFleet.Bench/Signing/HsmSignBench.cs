using CertFleet.Bench.Output;

namespace CertFleet.Bench.Signing;

/// <summary>
/// What a signature costs when the CA key is in a PKCS#11 token (SoftHSM2 here): the bare signature rate of the same
/// kind of key as a file (.NET), inside the token through OpenSSL's pkcs11 engine (what the coordinator ships) and
/// through Pkcs11Interop (the alternative), beside `openssl speed`; then the coordinator's whole renewal path (as
/// `sign` measures it, state on tmpfs) with the file key and with the token's key.
/// </summary>
internal static class HsmSignBench
{
    public static void Run(int count, string keyType, string module)
    {
        ResultLine.Note($"openssl speed -seconds 3 {keyType}: the one-core reference");
        var openssl = OpensslSpeed.SignsPerSecond(keyType);
        var data = new byte[1024]; // about a leaf certificate's to-be-signed bytes
        Random.Shared.NextBytes(data);
        using var fileKey = SyntheticPki.NewKey(keyType);
        var file = SignBench.RawSignsPerSecond(fileKey, data, count);
        using var token = SoftHsmToken.Create(keyType, module);
        // Pkcs11Interop first: it initializes and finalizes the module itself; the engine then keeps it for the process
        var interop = Pkcs11InteropSigns.PerSecond(token, keyType, data, count);
        double engine;
        using (var key = token.Open())
        {
            SignBench.RawSignsPerSecond(key.Algorithm, data, 20);
            engine = SignBench.RawSignsPerSecond(key.Algorithm, data, count);
        }
        ResultLine.Note($"bare signatures/s: file key {file:0}, token via the engine {engine:0}, token via Pkcs11Interop {interop:0}; openssl speed {openssl:0}");
        var memory = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var pathFile = SignBench.Measure(memory, count, keyType, out _, out var pathFileUnaudited);
        var pathToken = SignBench.Measure(memory, count, keyType, out _, out var pathTokenUnaudited, token);
        ResultLine.Print(("key", keyType), ("count", count), ("module", module),
            ("fileSignsPerSecond", file), ("engineSignsPerSecond", engine), ("pkcs11InteropSignsPerSecond", interop),
            ("opensslSignsPerSecond", openssl), ("engineToFile", engine / file), ("interopToEngine", interop / engine),
            ("certsPerSecondFileKey", pathFile), ("certsPerSecondTokenKey", pathToken),
            ("certsPerSecondFileKeyWithoutAudit", pathFileUnaudited), ("certsPerSecondTokenKeyWithoutAudit", pathTokenUnaudited));
    }
}
