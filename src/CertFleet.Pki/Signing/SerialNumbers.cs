using System.Security.Cryptography;

namespace CertFleet.Pki.Signing;

/// <summary>Random certificate serial numbers: 128 bits, positive, 126 of them random (CA/B forum asks for 64).</summary>
internal static class SerialNumbers
{
    public static byte[] NewSerial(ReadOnlySpan<byte> avoid)
    {
        while (true)
        {
            var serial = RandomNumberGenerator.GetBytes(16);
            // top bit clear keeps it positive; the next bit set keeps the DER length fixed at 16 bytes
            serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
            if (!serial.AsSpan().SequenceEqual(avoid))
            {
                return serial;
            }
        }
    }
}
