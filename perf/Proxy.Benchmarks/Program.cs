using BenchmarkDotNet.Running;
using Proxy.Benchmarks;

// dotnet run -c Release --project perf/Proxy.Benchmarks -- --filter '*'   (see perf/README.md)
BenchmarkSwitcher.FromAssembly(typeof(InProcessGateway).Assembly).Run(args);
