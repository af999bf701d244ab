using CertFleet.Pki;
using CertFleet.Protocol.V1;

namespace CertFleet.Agent.Handlers;

/// <summary>Maps each coordinator request to its handler and the answer to an AgentMessage with the same correlation id.</summary>
internal sealed class MessageDispatcher(
    InventoryHandler inventory,
    CsrHandler csrs,
    InstallHandler install,
    RestartHandler restart,
    RollbackHandler rollback,
    VerifyHandler verify,
    RekeyHandler rekey,
    GateHandler gate)
{
    public async Task<AgentMessage> DispatchAsync(CoordinatorMessage message, CancellationToken cancellationToken)
    {
        var answer = new AgentMessage { CorrelationId = message.CorrelationId };
        try
        {
            switch (message.BodyCase)
            {
                case CoordinatorMessage.BodyOneofCase.InventoryRequest:
                    answer.Inventory = inventory.Handle();
                    break;
                case CoordinatorMessage.BodyOneofCase.CsrRequest:
                    answer.Csrs = csrs.Handle(message.CsrRequest);
                    break;
                case CoordinatorMessage.BodyOneofCase.Install:
                    answer.StepResult = install.Handle(message.Install);
                    break;
                case CoordinatorMessage.BodyOneofCase.Restart:
                    answer.StepResult = await restart.HandleAsync(message.Restart, cancellationToken);
                    break;
                case CoordinatorMessage.BodyOneofCase.Rollback:
                    answer.StepResult = await rollback.HandleAsync(message.Rollback, cancellationToken);
                    break;
                case CoordinatorMessage.BodyOneofCase.Verify:
                    answer.Verification = verify.Handle(message.Verify);
                    break;
                case CoordinatorMessage.BodyOneofCase.Rekey when message.Rekey.Preview:
                    answer.RekeyPreview = rekey.Preview(message.Rekey);
                    break;
                case CoordinatorMessage.BodyOneofCase.Rekey:
                    answer.StepResult = await rekey.HandleAsync(message.Rekey, cancellationToken);
                    break;
                case CoordinatorMessage.BodyOneofCase.Gate:
                    answer.StepResult = await gate.HandleAsync(message.Gate, cancellationToken);
                    break;
                default:
                    answer.StepResult = new StepResult { Ok = false, Message = $"this agent does not know the request {message.BodyCase}; upgrade it" };
                    break;
            }
        }
        catch (PkiException e)
        {
            answer = Failure(message, e.Message);
        }
        return answer;
    }

    /// <summary>A request the node could not serve (e.g. --root vanished): answered in the request's own shape.</summary>
    private static AgentMessage Failure(CoordinatorMessage message, string error)
    {
        var answer = new AgentMessage { CorrelationId = message.CorrelationId };
        switch (message.BodyCase)
        {
            case CoordinatorMessage.BodyOneofCase.InventoryRequest:
                answer.Inventory = new InventoryReport { Errors = { new ReportedError { Path = "/", Message = error } } };
                break;
            case CoordinatorMessage.BodyOneofCase.CsrRequest:
                answer.Csrs = new CsrResponse();
                answer.Csrs.Csrs.Add(message.CsrRequest.Fingerprints.Select(f => new GeneratedCsr { Fingerprint = f, Error = error }));
                break;
            case CoordinatorMessage.BodyOneofCase.Verify:
                answer.Verification = new VerifyResponse { Passed = false, Problems = { new Protocol.V1.VerificationProblem { Path = "/", Problem = error } } };
                break;
            case CoordinatorMessage.BodyOneofCase.Rekey when message.Rekey.Preview:
                answer.RekeyPreview = new RekeyPreview { Problems = { new ReportedError { Path = "/", Message = error } } };
                break;
            default:
                answer.StepResult = new StepResult { StepId = StepId(message), Ok = false, Message = error };
                break;
        }
        return answer;
    }

    private static string StepId(CoordinatorMessage message) => message.BodyCase switch
    {
        CoordinatorMessage.BodyOneofCase.Install => message.Install.StepId,
        CoordinatorMessage.BodyOneofCase.Restart => message.Restart.StepId,
        CoordinatorMessage.BodyOneofCase.Rollback => message.Rollback.StepId,
        CoordinatorMessage.BodyOneofCase.Rekey => message.Rekey.StepId,
        CoordinatorMessage.BodyOneofCase.Gate => message.Gate.StepId,
        _ => "",
    };
}
