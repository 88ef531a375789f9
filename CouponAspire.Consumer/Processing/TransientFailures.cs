using System.Net.Sockets;
using Confluent.Kafka;
using Npgsql;

namespace CouponAspire.Consumer.Processing;

/// <summary>
/// Which failures are worth waiting out: PostgreSQL or Kafka unreachable, overloaded, shutting down, too slow, or a
/// lost race. A batch that fails this way is retried, never skipped.
/// </summary>
internal static class TransientFailures
{
    public static bool IsTransient(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.IsTransient || postgres.SqlState == PostgresErrorCodes.QueryCanceled,
        NpgsqlException => true, // raised by the client itself: connection refused, broken or timed out
        KafkaException => true,
        TimeoutException or IOException or SocketException => true,
        _ => false,
    };
}
