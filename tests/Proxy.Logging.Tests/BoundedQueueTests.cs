namespace Proxy.Logging.Tests;

public class BoundedQueueTests
{
    [Fact]
    public void Full_queue_refuses_and_drained_queue_accepts_again()
    {
        var q = new BoundedQueue<string>(4);
        for (var i = 0; i < 4; i++)
        {
            Assert.True(q.TryEnqueue("x" + i));
        }

        Assert.False(q.TryEnqueue("overflow"));
        Assert.True(q.TryDequeue(out var first));
        Assert.Equal("x0", first);
        Assert.True(q.TryEnqueue("x4"));
        var rest = new List<string>();
        while (q.TryDequeue(out var s))
        {
            rest.Add(s);
        }

        Assert.Equal(["x1", "x2", "x3", "x4"], rest);
        Assert.True(q.IsEmpty);
    }

    [Fact]
    public async Task Concurrent_producers_deliver_every_item_exactly_once()
    {
        const int Producers = 4, PerProducer = 100_000;
        var q = new BoundedQueue<object>(1024);
        var items = Enumerable.Range(0, Producers * PerProducer).Select(i => (object)i).ToArray();
        var seen = new bool[items.Length];
        var received = 0;
        var consumer = Task.Run(() =>
        {
            while (received < items.Length)
            {
                if (q.TryDequeue(out var o))
                {
                    var i = (int)o;
                    Assert.False(seen[i]);
                    seen[i] = true;
                    received++;
                }
                else
                {
                    Thread.SpinWait(10);
                }
            }
        });
        var producers = Enumerable.Range(0, Producers).Select(p => Task.Run(() =>
        {
            for (var i = p * PerProducer; i < (p + 1) * PerProducer; i++)
            {
                while (!q.TryEnqueue(items[i]))
                {
                    Thread.SpinWait(10);
                }
            }
        })).ToArray();
        await Task.WhenAll([.. producers, consumer]).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(seen, Assert.True);
    }
}
