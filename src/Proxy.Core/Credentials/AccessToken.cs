namespace Proxy.Credentials;

/// <summary>A bearer token and the moment it stops being accepted.</summary>
public sealed record AccessToken(string Token, DateTimeOffset ExpiresOn)
{
    // Never print the token: records print every member by default.
    public override string ToString() => $"token(expires {ExpiresOn:O})";
}
