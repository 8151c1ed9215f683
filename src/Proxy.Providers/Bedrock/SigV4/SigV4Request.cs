namespace Proxy.Providers.Bedrock.SigV4;

/// <summary>One header as it goes on the wire; a name may appear more than once (its values are joined with ',').</summary>
public readonly record struct SigV4Header(string Name, string Value);

/// <summary>What a signature covers: the request as it will be sent.</summary>
public readonly ref struct SigV4Request
{
    public required string Method { get; init; }

    /// <summary>The path exactly as it goes on the wire (already percent-escaped once).</summary>
    public required string Path { get; init; }

    /// <summary>The raw query without '?'; empty when there is none.</summary>
    public string Query { get; init; }

    /// <summary>Every header to sign, host and x-amz-date included.</summary>
    public required ReadOnlySpan<SigV4Header> Headers { get; init; }

    /// <summary>Lower-case hex SHA-256 of the body.</summary>
    public required string PayloadHash { get; init; }

    /// <summary>Remove dot segments and repeated slashes from the path first (every service but S3).</summary>
    public bool NormalizePath { get; init; }
}

/// <summary>Where and when a signature is valid: the credential scope.</summary>
public readonly record struct SigV4Scope(string Region, string Service, DateTimeOffset SignedAt);
