using System.Runtime.InteropServices;

namespace Proxy.Host.Runtime;

/// <summary>
/// The process's open-file limit (RLIMIT_NOFILE). Every client connection, upstream connection and open file is a
/// descriptor, and a proxied stream holds two; the soft limit is often 1,024 while the hard limit allows far more,
/// so the executable raises the soft limit to the hard one at start, as nginx's <c>worker_rlimit_nofile</c> and Go's
/// runtime do. Linux only (the constants below are Linux's); elsewhere the limit is left alone and reads as unknown.
/// </summary>
internal static partial class DescriptorLimit
{
    /// <summary>RLIMIT_NOFILE on Linux (x86-64 and arm64 alike: asm-generic).</summary>
    private const int RlimitNofile = 7;

    /// <summary>RLIM_INFINITY on Linux.</summary>
    private const ulong Infinity = ulong.MaxValue;

    /// <summary>The soft and hard limits; null where they cannot be read (not Linux, or the call failed).</summary>
    public static (long Soft, long Hard)? Read()
    {
        if (!OperatingSystem.IsLinux() || GetRLimit(RlimitNofile, out var limit) != 0) return null;
        return (Clamp(limit.Current), Clamp(limit.Max));
    }

    /// <summary>
    /// Raises the soft limit to the hard limit. Returns the limits before and after, and the error when the raise
    /// failed (the limit then stays as it was: the gateway runs, with a smaller automatic cap).
    /// </summary>
    public static (long Before, long After, long Hard, string? Error)? Raise()
    {
        if (!OperatingSystem.IsLinux() || GetRLimit(RlimitNofile, out var limit) != 0) return null;
        long before = Clamp(limit.Current);
        // An unlimited hard limit cannot be the soft one for descriptors (the kernel caps it at fs.nr_open).
        if (limit.Current >= limit.Max || limit.Max == Infinity) return (before, before, Clamp(limit.Max), null);
        var raised = new RLimit { Current = limit.Max, Max = limit.Max };
        if (SetRLimit(RlimitNofile, raised) != 0)
            return (before, before, Clamp(limit.Max), Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
        return Read() is { } now ? (before, now.Soft, now.Hard, null) : (before, before, Clamp(limit.Max), null);
    }

    /// <summary>Descriptors the process has open now (/proc/self/fd); null where that cannot be read.</summary>
    public static int? OpenNow()
    {
        try
        {
            // The enumeration holds one descriptor of its own while it runs; that one is not counted as in use.
            return Math.Max(0, Directory.EnumerateFileSystemEntries("/proc/self/fd").Count() - 1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long Clamp(ulong value) => value >= long.MaxValue ? long.MaxValue : (long)value;

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Max;
    }

    // "libc" is mapped to the C library's real name (libc.so.6 on glibc) by the runtime's loader, JIT and AOT alike.
    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);
}
