using System.Text.Json.Serialization;

namespace Proxy.Core.Tests;

[JsonSerializable(typeof(string))]
internal sealed partial class TestJson : JsonSerializerContext;
