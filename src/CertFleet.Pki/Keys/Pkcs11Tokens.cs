using System.Runtime.InteropServices;
using System.Text;

namespace CertFleet.Pki.Keys;

/// <summary>
/// The labels of the tokens a PKCS#11 module shows, asked of the module itself. Only to say what is wrong when the
/// engine finds no key: libp11 answers "object not found" both for a token that is not there and for a key missing
/// from a token that is. Function pointers from C_GetFunctionList, no marshalling: NativeAOT-safe.
/// </summary>
internal static unsafe class Pkcs11Tokens
{
    private const nuint CkrOk = 0;
    private const nuint CkrCryptokiAlreadyInitialized = 0x191;
    private const nuint CkfOsLockingOk = 0x2;
    private const int LabelLength = 32;

    /// <summary>The labels (trailing blanks cut), or null when the module cannot be loaded or asked.</summary>
    public static IReadOnlyList<string>? Labels(string modulePath)
    {
        if (!NativeLibrary.TryLoad(modulePath, out var library))
        {
            return null;
        }
        try
        {
            if (!NativeLibrary.TryGetExport(library, "C_GetFunctionList", out var getFunctionList))
            {
                return null;
            }
            void** functions = null;
            if (((delegate* unmanaged<void***, nuint>)getFunctionList)(&functions) != CkrOk || functions == null)
            {
                return null;
            }
            // CK_FUNCTION_LIST: a CK_VERSION (padded to a pointer), then C_Initialize, C_Finalize, C_GetInfo,
            // C_GetFunctionList, C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo, ...
            var entries = (void**)((byte*)functions + sizeof(void*));
            var initialize = (delegate* unmanaged<void*, nuint>)entries[0];
            var finalize = (delegate* unmanaged<void*, nuint>)entries[1];
            var getSlotList = (delegate* unmanaged<byte, nuint*, nuint*, nuint>)entries[4];
            var getTokenInfo = (delegate* unmanaged<nuint, byte*, nuint>)entries[6];
            // CK_C_INITIALIZE_ARGS: four mutex callbacks, flags, reserved
            var arguments = stackalloc nuint[6];
            arguments[4] = CkfOsLockingOk;
            var initialized = initialize(arguments);
            if (initialized is not (CkrOk or CkrCryptokiAlreadyInitialized))
            {
                return null;
            }
            try
            {
                nuint count = 0;
                if (getSlotList(1, null, &count) != CkrOk)
                {
                    return null;
                }
                var slots = new nuint[(int)count];
                fixed (nuint* slotIds = slots)
                {
                    if (count > 0 && getSlotList(1, slotIds, &count) != CkrOk)
                    {
                        return null;
                    }
                }
                var labels = new List<string>();
                // CK_TOKEN_INFO is 208 bytes on LP64; room to spare for any padding a module adds
                var info = stackalloc byte[1024];
                foreach (var slot in slots.Take((int)count))
                {
                    if (getTokenInfo(slot, info) == CkrOk)
                    {
                        labels.Add(Encoding.UTF8.GetString(info, LabelLength).TrimEnd(' ', '\0'));
                    }
                }
                return labels;
            }
            finally
            {
                // the engine may hold the module initialized: finalize only what this call initialized
                if (initialized == CkrOk)
                {
                    finalize(null);
                }
            }
        }
        finally
        {
            NativeLibrary.Free(library);
        }
    }
}
