using System.Text.Json;
using CertFleet.Cli.Output;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;

namespace CertFleet.Cli.Tests.Fleet;

/// <summary>
/// RolloutJson writes every field of the messages it writes (the bytes it writes: Commands/Pinned), so that a field
/// added to admin.proto shows up in `-o json` as JsonFormatter would have shown it, with states and kinds as words.
/// </summary>
public sealed class RolloutJsonTests
{
    public static TheoryData<string> Messages => [nameof(Rollout), nameof(ListRolloutsResponse), nameof(RolloutPlan)];

    [Theory]
    [MemberData(nameof(Messages))]
    public void Write_EveryFieldSet_EveryFieldButTheDeprecatedTextsWrittenUnderItsJsonName(string name)
    {
        IMessage message = name switch
        {
            nameof(Rollout) => Filled(new Rollout()),
            nameof(ListRolloutsResponse) => Filled(new ListRolloutsResponse()),
            _ => Filled(new RolloutPlan()),
        };
        var output = new StringWriter();

        RolloutOutput.WriteJson(output, message);

        using var json = JsonDocument.Parse(output.ToString());
        AssertEveryField(message.Descriptor, json.RootElement);
    }

    [Fact]
    public void Write_StatesAndKinds_TheirWordsNeverTheirEnumNames()
    {
        var rollout = Filled(new Rollout());
        var output = new StringWriter();

        RolloutOutput.WriteJson(output, new ListRolloutsResponse { Rollouts = { rollout } });

        using var json = JsonDocument.Parse(output.ToString());
        var written = json.RootElement.GetProperty("rollouts")[0];
        Assert.Equal("rolled-back", written.GetProperty("state").GetString());
        // the samples are each enum's value 5: for StepKind that is a re-key's first step
        Assert.Equal(("new-ca", "rolled-back"), (written.GetProperty("steps")[0].GetProperty("kind").GetString(), written.GetProperty("steps")[0].GetProperty("state").GetString()));
        Assert.DoesNotContain("ROLLOUT_STATE", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("STEP_", output.ToString(), StringComparison.Ordinal);
    }

    private static void AssertEveryField(MessageDescriptor descriptor, JsonElement json)
    {
        var expected = descriptor.Fields.InFieldNumberOrder().Where(f => f.GetOptions()?.Deprecated != true).Select(f => f.JsonName).Order(StringComparer.Ordinal);
        Assert.Equal(expected, json.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach (var field in descriptor.Fields.InFieldNumberOrder().Where(f => f.FieldType == FieldType.Message && f.MessageType.File.Package != "google.protobuf"))
        {
            var value = json.GetProperty(field.JsonName);
            AssertEveryField(field.MessageType, field.IsRepeated ? value[0] : value);
        }
    }

    /// <summary>Every field set to something other than its default, messages and lists with one element filled the same way.</summary>
    private static T Filled<T>(T message) where T : IMessage
    {
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            var value = Sample(field);
            if (field.IsRepeated)
            {
                ((System.Collections.IList)field.Accessor.GetValue(message)).Add(value);
            }
            else
            {
                field.Accessor.SetValue(message, value);
            }
        }
        return message;
    }

    private static object Sample(FieldDescriptor field) => field.FieldType switch
    {
        FieldType.String => $"{field.Name} <&> \"quoted\"",
        FieldType.Bool => true,
        FieldType.Int32 => 7,
        FieldType.Int64 => 7L,
        FieldType.Enum => field.EnumType.FindValueByNumber(5)?.Number is { } n ? System.Enum.ToObject(field.EnumType.ClrType, n) : System.Enum.ToObject(field.EnumType.ClrType, 1),
        FieldType.Message when field.MessageType.FullName == Timestamp.Descriptor.FullName => Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch),
        FieldType.Message => Filled((IMessage)Activator.CreateInstance(field.MessageType.ClrType)!),
        _ => throw new NotSupportedException($"{field.FullName}: add a sample for {field.FieldType}"),
    };
}
