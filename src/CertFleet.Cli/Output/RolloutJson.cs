using CertFleet.Protocol.V1;
using Google.Protobuf;

namespace CertFleet.Cli.Output;

/// <summary>
/// `rollout list|show|resume|abort -o json`, `rollback -o json` (and a plan): what Google.Protobuf's JsonFormatter
/// printed of these messages while states and kinds were strings, which scripts parse. Field for field in the same
/// order and layout, every value but states and kinds written by JsonFormatter itself; states and kinds as their
/// words ("halted", "renew-ca"), never as enum names (ROLLOUT_STATE_HALTED); the deprecated text fields the
/// coordinator still fills for older CLIs left out. A field added to these messages must be added here
/// (RolloutJsonTests fails until it is).
/// </summary>
internal static class RolloutJson
{
    private const string Indentation = "  ";

    private static readonly JsonFormatter Values = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithIndentation(Indentation));

    public static void Write(TextWriter output, Rollout rollout) => WriteLine(output, (writer, level) => WriteRollout(writer, rollout, level));

    public static void Write(TextWriter output, ListRolloutsResponse list) => WriteLine(output, (writer, level) =>
    {
        var json = new JsonObject(writer, level);
        json.List("rollouts", list.Rollouts, WriteRollout);
        json.Value("nextPageToken", list.NextPageToken);
        json.End();
    });

    public static void Write(TextWriter output, RolloutPlan plan) => WriteLine(output, (writer, level) =>
    {
        var json = new JsonObject(writer, level);
        json.Value("certificates", plan.Certificates);
        json.Value("refused", plan.Refused);
        json.List("steps", plan.Steps, (w, step, l) =>
        {
            var s = new JsonObject(w, l);
            s.Value("sequence", step.Sequence);
            s.Value("batch", step.Batch);
            s.Value("kind", step.Kind.ToText());
            s.Value("node", step.Node);
            s.Value("unit", step.Unit);
            // a re-key's: only on a step that writes files, so that every other plan prints as it always did
            if (step.Files.Count > 0)
            {
                s.Value("files", step.Files);
            }
            s.End();
        });
        json.Value("warnings", plan.Warnings);
        json.Value("nextPageToken", plan.NextPageToken);
        json.End();
    });

    private static void WriteRollout(TextWriter writer, Rollout rollout, int level)
    {
        var json = new JsonObject(writer, level);
        json.Value("id", rollout.Id);
        json.Value("state", rollout.State.ToText());
        json.Value("automatic", rollout.Automatic);
        json.ValueIfSet("createdAt", rollout.CreatedAt);
        json.ValueIfSet("finishedAt", rollout.FinishedAt);
        json.Value("haltReason", rollout.HaltReason);
        json.ValueIfSet("request", WithoutPrivateKey(rollout.Request));
        json.List("steps", rollout.Steps, WriteStep);
        json.Value("refused", rollout.Refused);
        json.End();
    }

    /// <summary>
    /// The request less a re-key's --new-ca-key, should a coordinator send it back: the coordinator keeps that key out
    /// of its database, and a private key has no place on a terminal or in a script's log either.
    /// </summary>
    private static RolloutRequest? WithoutPrivateKey(RolloutRequest? request)
    {
        if (request?.RekeyCa is not { NewCaKeyPem.Length: > 0 })
        {
            return request;
        }
        var shown = request.Clone();
        shown.RekeyCa.NewCaKeyPem = "(not shown: a private key)";
        return shown;
    }

    private static void WriteStep(TextWriter writer, RolloutStep step, int level)
    {
        var json = new JsonObject(writer, level);
        json.Value("sequence", step.Sequence);
        json.Value("batch", step.Batch);
        json.Value("kind", step.Kind.ToText());
        json.Value("node", step.Node);
        json.Value("unit", step.Unit);
        json.Value("state", step.State.ToText());
        json.Value("message", step.Message);
        json.Value("probeOutput", step.ProbeOutput);
        json.ValueIfSet("startedAt", step.StartedAt);
        json.ValueIfSet("finishedAt", step.FinishedAt);
        json.End();
    }

    private static void WriteLine(TextWriter output, Action<TextWriter, int> write)
    {
        var text = new StringWriter { NewLine = "\n" };
        write(text, 0);
        output.WriteLine(text.ToString());
    }

    /// <summary>An object laid out as JsonFormatter lays one out with indentation: a field a line, "{}" when empty.</summary>
    private sealed class JsonObject
    {
        private readonly TextWriter _writer;
        private readonly int _level;
        private bool _empty = true;

        public JsonObject(TextWriter writer, int level)
        {
            _writer = writer;
            _level = level;
            writer.Write('{');
        }

        /// <summary>A field JsonFormatter writes even at its default (a proto3 scalar, string or list).</summary>
        public void Value(string name, object value)
        {
            Name(name);
            Values.WriteValue(_writer, value, _level + 1);
        }

        /// <summary>A message field: JsonFormatter leaves it out when it is not set.</summary>
        public void ValueIfSet(string name, IMessage? value)
        {
            if (value is not null)
            {
                Value(name, value);
            }
        }

        public void List<T>(string name, IReadOnlyList<T> items, Action<TextWriter, T, int> write)
        {
            Name(name);
            _writer.Write('[');
            for (var i = 0; i < items.Count; i++)
            {
                _writer.Write(i == 0 ? "\n" : ",\n");
                Indent(_level + 2);
                write(_writer, items[i], _level + 2);
            }
            if (items.Count > 0)
            {
                _writer.Write('\n');
                Indent(_level + 1);
            }
            _writer.Write(']');
        }

        public void End()
        {
            if (!_empty)
            {
                _writer.Write('\n');
                Indent(_level);
            }
            _writer.Write('}');
        }

        private void Name(string name)
        {
            _writer.Write(_empty ? "\n" : ",\n");
            _empty = false;
            Indent(_level + 1);
            Values.WriteValue(_writer, name, 0);
            _writer.Write(": ");
        }

        private void Indent(int level)
        {
            for (var i = 0; i < level; i++)
            {
                _writer.Write(Indentation);
            }
        }
    }
}
