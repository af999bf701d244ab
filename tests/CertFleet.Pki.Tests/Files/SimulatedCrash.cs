namespace CertFleet.Pki.Tests.Files;

/// <summary>Thrown by a test's fault-point hook; the code under test does not catch it, as it cannot catch SIGKILL.</summary>
internal sealed class SimulatedCrash(string point) : Exception($"simulated crash at {point}");
