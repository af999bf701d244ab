using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace CertFleet.Pki.Keys;

/// <summary>
/// Opens keys inside PKCS#11 tokens through OpenSSL's pkcs11 engine (libp11, Debian's libengine-pkcs11-openssl), in
/// the libcrypto .NET itself uses, so the key .NET gets is an EVP_PKEY whose every operation the token performs.
/// The engine is set up here, not by an OpenSSL config an operator would have to write: ENGINE_by_id loads it from
/// libcrypto's engines folder by itself, and MODULE_PATH, QUIET (libp11 otherwise prints URIs to stderr) and the PIN
/// are its control commands. One functional reference is kept for the process: when the last one goes, libp11
/// finalizes the module, and signing with a key already opened would then log in again on every signature (a third
/// of the speed, measured). One module per process, because the engine holds one.
/// </summary>
internal static unsafe class Pkcs11Engine
{
    /// <summary>libp11's default module, p11-kit's proxy, which offers every module registered with p11-kit.</summary>
    public const string DefaultModule = "p11-kit-proxy.so";

    private static readonly Lock Gate = new();
    private static Functions? s_native;
    private static IntPtr s_engine;
    private static string? s_module;

    /// <summary>The key <paramref name="uri"/> names, logged in with <paramref name="pin"/>; <paramref name="pinSource"/> says where the PIN came from, for messages.</summary>
    public static SafeEvpPKeyHandle OpenPrivateKey(Pkcs11KeyUri uri, ReadOnlySpan<char> pin, string pinSource)
    {
        lock (Gate)
        {
            var native = s_native ??= Functions.Load() ?? throw new PkiException(
                $"{uri}: a pkcs11: key needs OpenSSL 3's libcrypto.so.3 with engine support, which this machine does not have");
            var module = uri.ModulePath ?? DefaultModule;
            var engine = Engine(native, uri, module);
            var pinBytes = new byte[Encoding.UTF8.GetByteCount(pin) + 1];
            try
            {
                Encoding.UTF8.GetBytes(pin, pinBytes);
                native.ErrClearError();
                if (!Control(native, engine, "PIN", pinBytes))
                {
                    throw new PkiException($"{uri}: the pkcs11 engine did not take the PIN ({Errors(native)})");
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(pinBytes);
            }
            var key = IntPtr.Zero;
            var engineUri = Encoding.UTF8.GetBytes(uri.EngineUri + "\0");
            fixed (byte* id = engineUri)
            {
                key = native.LoadPrivateKey(engine, id, IntPtr.Zero, IntPtr.Zero);
            }
            if (key == IntPtr.Zero)
            {
                throw Failure(uri, module, pinSource, Errors(native));
            }
            return new SafeEvpPKeyHandle(key, ownsHandle: true);
        }
    }

    /// <summary>The engine, set up for <paramref name="module"/> on first use and kept initialized.</summary>
    private static IntPtr Engine(Functions native, Pkcs11KeyUri uri, string module)
    {
        if (s_engine != IntPtr.Zero)
        {
            return s_module == module ? s_engine : throw new PkiException(
                $"{uri}: names the PKCS#11 module {module}, but another CA key already uses {s_module}; the engine holds one " +
                "module per process: keep every CA key in tokens of one module, or leave module-path out (p11-kit's proxy offers them all)");
        }
        native.ErrClearError();
        var engine = native.EngineById("pkcs11"u8);
        if (engine == IntPtr.Zero)
        {
            native.ErrClearError();
            throw new PkiException(
                $"{uri}: OpenSSL's pkcs11 engine is not installed; install it (`apt-get install libengine-pkcs11-openssl`) and start again");
        }
        if (!Control(native, engine, "MODULE_PATH", Encoding.UTF8.GetBytes(module + "\0")) || !Control(native, engine, "QUIET", null)
            || native.EngineInit(engine) != 1)
        {
            var errors = Errors(native);
            native.EngineFree(engine);
            throw new PkiException($"{uri}: OpenSSL's pkcs11 engine could not be set up with the module {module} ({errors}); check " +
                "the module-path of the URI");
        }
        s_engine = engine;
        s_module = module;
        return engine;
    }

    private static PkiException Failure(Pkcs11KeyUri uri, string module, string pinSource, string errors)
    {
        if (errors.Contains("PIN incorrect", StringComparison.OrdinalIgnoreCase))
        {
            return new PkiException($"{uri}: the token '{uri.Token}' refused the PIN ({pinSource}): wrong PIN; put the token's user PIN " +
                "there. Each wrong PIN counts towards the token's lock-out, so check it before starting again");
        }
        if (errors.Contains("PIN locked", StringComparison.OrdinalIgnoreCase))
        {
            return new PkiException($"{uri}: the token '{uri.Token}' has locked its user PIN after too many wrong ones; its security " +
                "officer must set it again (`pkcs11-tool --init-pin --login --login-type so`, or the HSM's own tool)");
        }
        if (errors.Contains("object not found", StringComparison.OrdinalIgnoreCase))
        {
            var labels = Pkcs11Tokens.Labels(module);
            if (labels is not null && !labels.Contains(uri.Token, StringComparer.Ordinal))
            {
                var present = labels.Count == 0 ? "it shows none" : "it shows " + string.Join(", ", labels.Select(l => $"'{l}'"));
                return new PkiException($"{uri}: no token labelled '{uri.Token}' in the PKCS#11 module {module} ({present}); check token= " +
                    "of the URI, that the HSM is connected, and (SoftHSM) that the user running CertFleet may read the token folder");
            }
            return new PkiException($"{uri}: the token '{uri.Token}' has no private key " + (uri.Object is { } label ? $"labelled '{label}'" : "with that id") +
                $"; check object= (or id=) of the URI: `pkcs11-tool --module {module} --token-label '{uri.Token}' --login --list-objects " +
                "--type privkey` lists the keys");
        }
        return new PkiException($"{uri}: the key could not be opened through OpenSSL's pkcs11 engine with the module {module} ({errors}); " +
            "check the URI and the PIN");
    }

    private static bool Control(Functions native, IntPtr engine, string command, byte[]? argument)
    {
        var name = Encoding.ASCII.GetBytes(command + "\0");
        fixed (byte* commandName = name)
        fixed (byte* value = argument)
        {
            return native.EngineCtrlCmdString(engine, commandName, value, 0) == 1;
        }
    }

    /// <summary>The reasons in OpenSSL's error queue of this thread, oldest first; the queue is left empty.</summary>
    private static string Errors(Functions native)
    {
        var reasons = new List<string>();
        for (var error = native.ErrGetError(); error != 0; error = native.ErrGetError())
        {
            var reason = native.ErrReasonErrorString(error);
            reasons.Add(reason == null ? $"error {error:x}" : Marshal.PtrToStringUTF8((IntPtr)reason)!);
        }
        return reasons.Count == 0 ? "no reason given" : string.Join("; ", reasons.Distinct());
    }

    /// <summary>The libcrypto entry points, looked up once; null when any is missing (no engine support).</summary>
    private sealed class Functions
    {
        public delegate* unmanaged<byte*, IntPtr> EngineByIdRaw;
        public delegate* unmanaged<IntPtr, byte*, byte*, int, int> EngineCtrlCmdString;
        public delegate* unmanaged<IntPtr, int> EngineInit;
        public delegate* unmanaged<IntPtr, int> EngineFree;
        public delegate* unmanaged<IntPtr, byte*, IntPtr, IntPtr, IntPtr> LoadPrivateKey;
        public delegate* unmanaged<nuint> ErrGetError;
        public delegate* unmanaged<nuint, byte*> ErrReasonErrorString;
        public delegate* unmanaged<void> ErrClearError;

        public IntPtr EngineById(ReadOnlySpan<byte> id)
        {
            var terminated = new byte[id.Length + 1];
            id.CopyTo(terminated);
            fixed (byte* name = terminated)
            {
                return EngineByIdRaw(name);
            }
        }

        public static Functions? Load()
        {
            // the library .NET's own OpenSSL shim has loaded: the key must be an EVP_PKEY of the same libcrypto
            if (!NativeLibrary.TryLoad("libcrypto.so.3", out var library))
            {
                return null;
            }
            if (NativeLibrary.TryGetExport(library, "ENGINE_by_id", out var byId)
                && NativeLibrary.TryGetExport(library, "ENGINE_ctrl_cmd_string", out var control)
                && NativeLibrary.TryGetExport(library, "ENGINE_init", out var init)
                && NativeLibrary.TryGetExport(library, "ENGINE_free", out var free)
                && NativeLibrary.TryGetExport(library, "ENGINE_load_private_key", out var load)
                && NativeLibrary.TryGetExport(library, "ERR_get_error", out var getError)
                && NativeLibrary.TryGetExport(library, "ERR_reason_error_string", out var reason)
                && NativeLibrary.TryGetExport(library, "ERR_clear_error", out var clear))
            {
                return new Functions
                {
                    EngineByIdRaw = (delegate* unmanaged<byte*, IntPtr>)byId,
                    EngineCtrlCmdString = (delegate* unmanaged<IntPtr, byte*, byte*, int, int>)control,
                    EngineInit = (delegate* unmanaged<IntPtr, int>)init,
                    EngineFree = (delegate* unmanaged<IntPtr, int>)free,
                    LoadPrivateKey = (delegate* unmanaged<IntPtr, byte*, IntPtr, IntPtr, IntPtr>)load,
                    ErrGetError = (delegate* unmanaged<nuint>)getError,
                    ErrReasonErrorString = (delegate* unmanaged<nuint, byte*>)reason,
                    ErrClearError = (delegate* unmanaged<void>)clear,
                };
            }
            NativeLibrary.Free(library);
            return null;
        }
    }
}
