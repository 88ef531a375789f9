namespace CouponAspire.Api;

/// <summary>What the streams write besides their events.</summary>
internal static class ServerSentEvents
{
    private static readonly byte[] KeepAliveComment = ": keep-alive\n\n"u8.ToArray();

    /// <summary>
    /// A comment line, which clients ignore and proxies see as traffic. Written by an event source between two events:
    /// the result asks for the next event only once it has written and flushed the one before, so the two never overlap.
    /// </summary>
    public static async Task KeepAliveAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(KeepAliveComment, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
