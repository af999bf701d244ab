using System.Text.Json.Serialization;

namespace CertFleet.Agent.Steps;

/// <summary>
/// The state files' JSON, generated at build time: the agent is published NativeAOT, where reflection-based
/// serialization is trimmed away. The format is the one reflection wrote (property names as declared, enums as names).
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true, UseStringEnumConverter = true)]
[JsonSerializable(typeof(List<JournalEntry>))]
[JsonSerializable(typeof(PendingInstall))]
internal sealed partial class StepsJsonContext : JsonSerializerContext;
