namespace CertFleet.Testing;

/// <summary>Temporary folders for tests, removed afterwards.</summary>
public static class ScratchDirectory
{
    public static string Create(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), "certfleet-tests", $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)]);
        System.IO.Directory.CreateDirectory(path);
        return path;
    }

    public static void Delete(string path)
    {
        try
        {
            if (System.IO.Directory.Exists(path))
            {
                System.IO.Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
            // a leftover scratch folder is not worth failing a test for
        }
    }
}
