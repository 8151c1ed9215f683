using Proxy.Config;
using Proxy.Host;
using Proxy.Host.Cli;

const string Usage = """
    usage:
      proxy --config FILE [--urls URL]     run the gateway (PROXY_CONFIG=FILE works too)
      proxy config check FILE             validate a config file and exit (0 valid, 2 invalid)
      proxy keys new [--id NAME] [--routes A,B]
                                          make a virtual key; prints it once and the config lines with its hash
      proxy db migrate --config FILE      apply the control plane's schema migrations (also done at start)
      proxy admin export --config FILE    print the control plane's providers, routes, teams and keys
      proxy admin apply OBJECTS --config FILE [--dry-run]
                                          make the control plane hold exactly what OBJECTS declares (prints the diff)
      proxy --version
    """;

if (args.Length > 0)
{
    switch (args[0])
    {
        case "keys":
            return KeysCommand.Run(args[1..], Console.Out, Console.Error);
        case "db":
            return ControlPlaneCommands.Db(args[1..], Console.Out, Console.Error);
        case "admin":
            return ControlPlaneCommands.Admin(args[1..], Console.Out, Console.Error);
        case "config" when args.Length == 3 && args[1] == "check":
            return CheckConfig(args[2]);
        case "--version":
            Console.WriteLine(typeof(GatewayApp).Assembly.GetName().Version);
            return 0;
        case "--help" or "-h" or "help":
            Console.WriteLine(Usage);
            return 0;
    }
}

var configPath = FindConfigPath(args) ?? Environment.GetEnvironmentVariable("PROXY_CONFIG");
if (string.IsNullOrEmpty(configPath))
{
    Console.Error.WriteLine("proxy: no config file. Pass --config FILE (a sample is samples/gateway.yaml).");
    Console.Error.WriteLine(Usage);
    return 2;
}

WebApplication app;
try
{
    app = GatewayApp.Build(args, configPath, ownsProcess: true);
}
catch (ConfigException e)
{
    Console.Error.WriteLine("proxy: " + e.Message);
    return 2;
}
app.Run();
return 0;

static string? FindConfigPath(string[] args)
{
    for (int i = 0; i < args.Length - 1; i++)
    {
        if (args[i] is "--config" or "-c") return args[i + 1];
    }
    return args.FirstOrDefault(a => a.StartsWith("--config=", StringComparison.Ordinal))?["--config=".Length..];
}

static int CheckConfig(string path)
{
    try
    {
        var config = new ConfigLoader(GatewayApp.ProviderKinds).Load(path);
        Console.WriteLine($"{path}: valid ({config.Providers.Count} providers, {config.Routes.Count} routes, {config.Keys.Count} keys)");
        foreach (var p in config.Providers.Values) p.Adapter.Dispose();
        return 0;
    }
    catch (ConfigException e)
    {
        Console.Error.WriteLine(e.Message);
        return 2;
    }
}
