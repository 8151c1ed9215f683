using System.Net.Sockets;

namespace Proxy.Pipeline;

/// <summary>
/// Recognises the gateway running out of file descriptors (EMFILE: this process at its limit; ENFILE: the whole
/// system), whatever wraps it: an HttpRequestException around the SocketException of a connect, or an IOException
/// from a file. Such a failure is the gateway's, never the upstream's or the client's.
/// </summary>
public static class ResourceExhaustion
{
    /// <summary>strerror(EMFILE); strerror(ENFILE) is "Too many open files in system" and contains it.</summary>
    private const string TooManyOpenFiles = "Too many open files";

    public static bool IsOutOfDescriptors(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            // The runtime maps both EMFILE and ENFILE to TooManyOpenSockets.
            if (e is SocketException { SocketErrorCode: SocketError.TooManyOpenSockets }) return true;
            if (e is IOException && e.Message.Contains(TooManyOpenFiles, StringComparison.Ordinal)) return true;
        }
        return false;
    }
}
