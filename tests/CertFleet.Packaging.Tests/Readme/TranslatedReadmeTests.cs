using CertFleet.Testing;

namespace CertFleet.Packaging.Tests.Readme;

/// <summary>
/// README.zh-CN.md translates some sections of README.md; the prose is free, the commands are not. Rule: every command
/// line of a ```sh or ```bash block in a translated section (a trailing comment aside, which may be translated) is in
/// the same section of the other README, both ways.
/// </summary>
public sealed class TranslatedReadmeTests
{
    /// <summary>README.md's heading and README.zh-CN.md's, for each section the translation covers.</summary>
    public static TheoryData<string, string> Sections => new()
    {
        { "## Quick start", "## 快速开始" },
        { "## Install on a real cluster", "## 在真实集群上安装" },
        { "### Troubleshooting", "### 故障排查" },
        { "## The cluster is down: certificates already expired", "## 集群已停摆：证书已经过期" },
    };

    [Theory]
    [MemberData(nameof(Sections))]
    public void CommandLines_TranslatedSection_SameInBothReadmes(string english, string chinese)
    {
        var en = CommandLines("README.md", english);
        var zh = CommandLines("README.zh-CN.md", chinese);

        var problems = Missing(en, zh).Select(l => $"README.zh-CN.md, '{chinese}', lacks: {l}")
            .Concat(Missing(zh, en).Select(l => $"README.md, '{english}', lacks: {l}"))
            .ToList();

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void Missing_LineOnlyInOne_NamesItAndIgnoresTranslatedComments()
    {
        string[] english = ["certfleet renew --local               # add --ca if a CA has expired too", "certfleet verify --local"];
        string[] chinese = ["certfleet renew --local               # CA 也过期时加 --ca"];

        var missing = Missing(ReadmeText.CommandLines([english]), ReadmeText.CommandLines([chinese]));

        Assert.Equal(["certfleet verify --local"], missing);
    }

    [Fact]
    public void Readme_Top_LinksTheChineseReadme()
    {
        var top = File.ReadLines(ReadmeText.Open("README.md").Path).Take(5);

        Assert.Contains(top, l => l.Contains("](README.zh-CN.md)", StringComparison.Ordinal));
    }

    private static List<string> CommandLines(string readme, string heading)
    {
        var text = ReadmeText.Open(readme);
        return [.. ReadmeText.CommandLines(ReadmeText.ShellBlocks(text.Section(heading)))];
    }

    private static List<string> Missing(IEnumerable<string> lines, IEnumerable<string> other)
    {
        var present = other.ToHashSet(StringComparer.Ordinal);
        return [.. lines.Where(l => !present.Contains(l)).Distinct(StringComparer.Ordinal)];
    }
}
