using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Renewal;

namespace CertFleet.Pki.Tests.Renewal;

/// <summary>Scan, plan and apply, as `certfleet renew --local` does.</summary>
internal static class RenewalRun
{
    public static RenewalResult Renew(string root, bool authorities)
    {
        var time = TimeProvider.System;
        using var inventory = new NodeScanner(time).Scan(new NodeRoot(root));
        var options = new RenewalOptions { RenewAuthorities = authorities };
        var plan = new RenewalPlanner(time).Plan(inventory, options);
        return new LocalRenewal(time).Apply(inventory, plan, options);
    }
}
