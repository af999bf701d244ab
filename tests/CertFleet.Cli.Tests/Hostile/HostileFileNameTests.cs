using System.Text.Json;
using CertFleet.Testing;
using CertFleet.Testing.Guides;

namespace CertFleet.Cli.Tests.Hostile;

/// <summary>
/// Files planted under --root with names that are terminal commands (set the window title, erase the line, return the
/// cursor, start a new line, reverse the text) or that are not UTF-8 at all. The CLI shows each name escaped and never
/// passes a control character to the terminal; a name it cannot open is reported, not skipped.
/// </summary>
public sealed class HostileFileNameTests(HardWayLayout layout) : IClassFixture<HardWayLayout>
{
    // what the review planted: OSC 0 (window title) ended by BEL, erase line, carriage return, a fake verdict
    private const string Attack = "\u001b]0;pwned\u0007\u001b[2K\rALL CERTIFICATES OK\n\u202eevil\u0085\u007f\t";
    private const string Escaped = @"\x1b]0;pwned\x07\x1b[2K\x0dALL CERTIFICATES OK\x0a\u202eevil\u0085\x7f\x09";

    [Fact]
    public void CheckExpiration_CertificateAndBrokenFileNamedWithTerminalEscapes_ShowsTheNamesEscapedAndNoControlCharacter()
    {
        var root = HostileNode();

        var (exitCode, output, error) = CliRun.Invoke("check-expiration", "--root", root);

        Assert.Equal(0, exitCode);
        AssertNoTerminalControls(output + error);
        Assert.Contains($"/var/lib/kubelet/{Escaped}.crt ", output, StringComparison.Ordinal);
        Assert.Contains($"/var/lib/kubelet/{Escaped}-broken.pem: ", output, StringComparison.Ordinal);
        Assert.DoesNotContain(output.Split('\n'), l => l.StartsWith("ALL CERTIFICATES OK", StringComparison.Ordinal));
    }

    [Fact]
    public void CheckExpirationJson_CertificateNamedWithTerminalEscapes_KeepsTheNameExactlyAsJsonEscapes()
    {
        var root = HostileNode();

        var (exitCode, output, _) = CliRun.Invoke("check-expiration", "--root", root, "-o", "json");

        Assert.Equal(0, exitCode);
        AssertNoTerminalControls(output);
        Assert.Contains(@"\u001B]0;pwned\u0007\u001B[2K\rALL CERTIFICATES OK\n\u202Eevil", output, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(output);
        Assert.Contains(json.RootElement.EnumerateArray(), e => e.GetProperty("path").GetString() == $"/var/lib/kubelet/{Attack}.crt");
    }

    [Fact]
    public void VerifyLocal_CertificateNamedWithTerminalEscapes_NamesItEscapedInTheProblemTable()
    {
        var root = HostileNode();

        var (exitCode, output, error) = CliRun.Invoke("verify", "--local", "--root", root);

        Assert.Equal(1, exitCode);
        AssertNoTerminalControls(output + error);
        Assert.Contains($"/var/lib/kubelet/{Escaped}.crt", output, StringComparison.Ordinal);
        Assert.DoesNotContain(output.Split('\n'), l => l.StartsWith("ALL CERTIFICATES OK", StringComparison.Ordinal));
    }

    [Fact]
    public void RenewLocalDryRun_CertificateNamedWithTerminalEscapes_ShowsTheNameEscaped()
    {
        var root = HostileNode();

        var (_, output, error) = CliRun.Invoke("renew", "--local", "--dry-run", "--root", root);

        AssertNoTerminalControls(output + error);
        Assert.Contains(Escaped, output, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckExpiration_CertificateUnderANameThatIsNotUtf8_IsAnErrorEntryNamingItEscapedWithTheAdviceToRenameIt()
    {
        var root = layout.Copy("worker");
        var folder = Path.Combine(root, "var/lib/kubelet");
        // \xff\xfe are never UTF-8: .NET lists the name with U+FFFD in their place, a name no file has
        ProcessRunner.RunChecked("bash", "-c", "cd \"$1\" && cp kubelet.crt $'\\xff\\xfe-kubelet.crt'", "bash", folder);

        var (exitCode, output, error) = CliRun.Invoke("check-expiration", "--root", root);
        var (_, json, _) = CliRun.Invoke("check-expiration", "--root", root, "-o", "json");

        Assert.Equal(0, exitCode);
        Assert.Empty(error);
        var line = Assert.Single(output.Split('\n'), l => l.StartsWith(@"/var/lib/kubelet/\ufffd\ufffd-kubelet.crt: ", StringComparison.Ordinal));
        Assert.Contains("not valid UTF-8", line, StringComparison.Ordinal);
        Assert.Contains("rename", line, StringComparison.Ordinal);
        Assert.Contains("/var/lib/kubelet/kubelet.crt ", output, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(json);
        Assert.Contains(document.RootElement.EnumerateArray(), e => e.GetProperty("path").GetString() == "/var/lib/kubelet/\ufffd\ufffd-kubelet.crt"
            && e.GetProperty("error").GetString()!.Contains("not valid UTF-8", StringComparison.Ordinal));
    }

    /// <summary>A copy of the worker with the kubelet's certificate also under the attack's name, and a broken PEM beside it.</summary>
    private string HostileNode()
    {
        var root = layout.Copy("worker");
        var folder = Path.Combine(root, "var/lib/kubelet");
        File.Copy(Path.Combine(folder, "kubelet.crt"), Path.Combine(folder, Attack + ".crt"));
        File.WriteAllText(Path.Combine(folder, Attack + "-broken.pem"), "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
        return root;
    }

    internal static void AssertNoTerminalControls(string text)
    {
        foreach (var c in text)
        {
            var allowed = c == '\n' || (c >= ' ' && c != '\u007f' && c is not (>= '\u0080' and <= '\u009f')
                && c is not (>= '\u202a' and <= '\u202e') && c is not (>= '\u2066' and <= '\u2069'));
            Assert.True(allowed, $"U+{(int)c:X4} reached the terminal in:\n{text}");
        }
    }
}
