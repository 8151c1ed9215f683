namespace Proxy.Logging.Tests;

public class LocalDirectorySinkTests
{
    [Fact]
    public async Task Writes_atomically_creates_directories_and_overwrites_on_retry()
    {
        using var dir = new TempDir();
        var sink = new LocalDirectorySink(dir.Sink);
        await sink.UploadAsync("requests/2026/01/02/03/a-00000001.jsonl.gz", new byte[] { 1, 2, 3 }, default);
        await sink.UploadAsync("requests/2026/01/02/03/a-00000001.jsonl.gz", new byte[] { 4, 5 }, default);

        var file = Path.Combine(dir.Sink, "requests", "2026", "01", "02", "03", "a-00000001.jsonl.gz");
        Assert.Equal(new byte[] { 4, 5 }, await File.ReadAllBytesAsync(file));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(file)!)); // No temp files left behind.
    }

    [Fact]
    public async Task Refuses_names_that_escape_the_root()
    {
        using var dir = new TempDir();
        var sink = new LocalDirectorySink(dir.Sink);
        await Assert.ThrowsAsync<ArgumentException>(() => sink.UploadAsync("../evil.jsonl.gz", new byte[] { 1 }, default));
    }
}
