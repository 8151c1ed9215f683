using BenchmarkDotNet.Running;

// dotnet run -c Release --project perf/Proxy.Benchmarks -- --filter '*'   (see perf/README.md)
BenchmarkSwitcher.FromAssembly(typeof(Proxy.Benchmarks.InProcessGateway).Assembly).Run(args);
