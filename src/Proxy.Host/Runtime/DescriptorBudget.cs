using System.Globalization;
using Microsoft.Extensions.Logging;
using Proxy.Config;
using Proxy.Pipeline;

namespace Proxy.Host.Runtime;

/// <summary>
/// Turns the open-file limit into the automatic concurrency cap (<see cref="AdmissionGate.ForDescriptors"/>) and says
/// so once at start: the limit before and after raising it, the descriptors already open, the cap in force.
/// </summary>
internal static partial class DescriptorBudget
{
    /// <summary>Sets the gate's automatic cap from the limit and the descriptors open now; returns the limit read, if any.</summary>
    public static (long Soft, long Hard, int Open)? Measure(AdmissionGate gate)
    {
        if (DescriptorLimit.Read() is not { } limit || DescriptorLimit.OpenNow() is not { } open) return null;
        gate.AutomaticLimit = AdmissionGate.ForDescriptors(limit.Soft, open);
        return (limit.Soft, limit.Hard, open);
    }

    /// <summary>Measures again once the gateway listens (its listeners and libraries are open by then) and logs the outcome.</summary>
    public static void Report(AdmissionGate gate, ServerSettings server, (long Before, long After, long Hard, string? Error)? raised, ILogger logger)
    {
        if (raised is { Error: { } error }) LogRaiseFailed(logger, raised.Value.Before, raised.Value.Hard, error);
        if (Measure(gate) is not { } m)
        {
            LogUnknown(logger, Setting(server));
            return;
        }
        LogBudget(logger, raised?.Before ?? m.Soft, m.Soft, m.Hard, m.Open, gate.LimitFor(server), Setting(server), gate.AutomaticLimit);
        if (server.MaxConcurrentRequests is { } set && (set == 0 || set > gate.AutomaticLimit))
            LogCapTooHigh(logger, Setting(server), gate.AutomaticLimit);
    }

    private static string Setting(ServerSettings server) => server.MaxConcurrentRequests switch
    {
        null => "auto",
        0 => "unlimited",
        var n => n.Value.ToString(CultureInfo.InvariantCulture),
    };

    [LoggerMessage(30, LogLevel.Information,
        "Open-file limit {Soft} (was {Before} at start, hard limit {Hard}), {Open} open now: at most {Cap} concurrent requests " +
        "(server.max_concurrent_requests: {Setting}; from the open-file limit: {Automatic})")]
    private static partial void LogBudget(ILogger logger, long before, long soft, long hard, int open, int cap, string setting, int automatic);

    [LoggerMessage(31, LogLevel.Warning, "Could not raise the open-file limit from {Before} to the hard limit {Hard}: {Error}")]
    private static partial void LogRaiseFailed(ILogger logger, long before, long hard, string error);

    [LoggerMessage(32, LogLevel.Information,
        "The open-file limit cannot be read on this system: no automatic concurrency cap (server.max_concurrent_requests: {Setting})")]
    private static partial void LogUnknown(ILogger logger, string setting);

    [LoggerMessage(33, LogLevel.Warning,
        "server.max_concurrent_requests is {Setting}, more than the open-file limit holds ({Automatic}): past that, requests fail with " +
        "503 gateway_resources instead of being refused early with 503 gateway_overloaded")]
    private static partial void LogCapTooHigh(ILogger logger, string setting, int automatic);
}
