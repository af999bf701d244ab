using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace CertFleet.Bench.Signing;

/// <summary>
/// The other way to sign with a token's key: Pkcs11Interop, a managed PKCS#11 wrapper, calling C_Sign itself. Here
/// only to be measured against OpenSSL's pkcs11 engine: its NativeAOT publish fails (IL3050 in
/// Marshal.PtrToStructure(Type) and GetDelegateForFunctionPointer(Type)), so the shipped coordinator cannot use it.
/// RSA: CKM_SHA256_RSA_PKCS (the token hashes); ECDSA: SHA-256 here and CKM_ECDSA, as the engine does.
/// </summary>
internal static class Pkcs11InteropSigns
{
    public static double PerSecond(SoftHsmToken token, string keyType, byte[] data, int count)
    {
        // it imports dlopen from "libdl", a name only libc6-dev's symlink gives; glibc's libdl.so.2 is always there
        NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly,
            (name, _, _) => name == "libdl" ? NativeLibrary.Load("libdl.so.2") : IntPtr.Zero);
        var factories = new Pkcs11InteropFactories();
        // the module is finalized at the end, before the engine opens it in this process
        using var library = factories.Pkcs11LibraryFactory.LoadPkcs11Library(factories, token.Module, AppType.MultiThreaded);
        var slot = library.GetSlotList(SlotsType.WithTokenPresent).First(s => s.GetTokenInfo().Label == SoftHsmToken.TokenLabel);
        using var session = slot.OpenSession(SessionType.ReadOnly);
        session.Login(CKU.CKU_USER, SoftHsmToken.PinText);
        var key = session.FindAllObjects([
            factories.ObjectAttributeFactory.Create(CKA.CKA_CLASS, CKO.CKO_PRIVATE_KEY),
            factories.ObjectAttributeFactory.Create(CKA.CKA_LABEL, "ca"),
        ]).Single();
        var isRsa = keyType == "rsa2048";
        var mechanism = factories.MechanismFactory.Create(isRsa ? CKM.CKM_SHA256_RSA_PKCS : CKM.CKM_ECDSA);
        byte[] Sign() => session.Sign(mechanism, key, isRsa ? data : SHA256.HashData(data));
        for (var i = 0; i < 20; i++)
        {
            Sign();
        }
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            Sign();
        }
        var perSecond = count / clock.Elapsed.TotalSeconds;
        session.Logout();
        return perSecond;
    }
}
