using System.Net.Sockets;
using Confluent.Kafka;
using Npgsql;

namespace CouponAspire.Consumer.Consuming;

/// <summary>
/// Which failures are worth waiting out: PostgreSQL or Kafka unreachable, overloaded, shutting down, too slow, a lost
/// race, or PostgreSQL refusing the work for a reason other than the data (permissions, a missing table, a read-only
/// server after a failover: an operator fixes those, and skipping would lose the requests). A batch that fails this way
/// is retried, never skipped. Only data that PostgreSQL refuses is set aside, message by message.
/// </summary>
internal static class TransientFailures
{
    public static bool IsTransient(Exception exception) => exception switch
    {
        PostgresException postgres => !IsRefusedData(postgres),
        NpgsqlException => true, // raised by the client itself: connection refused, broken or timed out
        KafkaException kafka => !kafka.Error.IsFatal,
        TimeoutException or IOException or SocketException => true,
        _ => false,
    };

    /// <summary>PostgreSQL refused the data itself: a data exception (class 22) or a constraint it breaks (class 23).</summary>
    public static bool IsRefusedData(PostgresException exception) =>
        exception.SqlState.StartsWith("22", StringComparison.Ordinal) || exception.SqlState.StartsWith("23", StringComparison.Ordinal);
}
