using Proxy.Keys;

namespace Proxy.Host.Cli;

/// <summary><c>proxy keys new [--id NAME] [--routes a,b]</c>: prints a new key once, and the config lines holding only its hash.</summary>
internal static class KeysCommand
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0 || args[0] != "new")
        {
            error.WriteLine("usage: proxy keys new [--id NAME] [--routes ROUTE,ROUTE...]");
            return 2;
        }
        string id = "key-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture);
        string? routes = null;
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--id" && i + 1 < args.Length) id = args[++i];
            else if (args[i] == "--routes" && i + 1 < args.Length) routes = args[++i];
            else
            {
                error.WriteLine($"unknown option '{args[i]}'; usage: proxy keys new [--id NAME] [--routes ROUTE,ROUTE...]");
                return 2;
            }
        }
        var key = KeyGenerator.NewKey();
        output.WriteLine("New virtual key (shown once: give it to the client and store it as a secret; the gateway keeps only its hash):");
        output.WriteLine();
        output.WriteLine("  " + key);
        output.WriteLine();
        output.WriteLine("Add this under 'keys:' in the config file:");
        output.WriteLine();
        output.WriteLine($"  - id: {id}");
        output.WriteLine($"    hash: {KeyHash.Of(key)}");
        if (routes is not null) output.WriteLine($"    routes: [{string.Join(", ", routes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))}]");
        return 0;
    }
}
