using CertFleet.Testing;

namespace CertFleet.Agent.Tests;

/// <summary>A scratch folder that removes itself.</summary>
internal sealed class ScratchFolder : IDisposable
{
    public string Path { get; } = ScratchDirectory.Create("agent-scratch");

    public string Write(string name, byte[] content)
    {
        var path = System.IO.Path.Combine(Path, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    public void Dispose() => ScratchDirectory.Delete(Path);
}
