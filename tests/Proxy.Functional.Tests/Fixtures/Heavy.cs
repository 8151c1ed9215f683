namespace Proxy.Functional.Tests.Fixtures;

/// <summary>
/// Tests that load the machine on purpose (hundreds of concurrent streams, a gateway process filled to its
/// descriptor limit) run alone, after the parallel ones: on 2 shared cores they would otherwise slow the tests
/// that measure timeouts, and be slowed by them.
/// </summary>
[CollectionDefinition(nameof(Heavy), DisableParallelization = true)]
public sealed class Heavy;
