using Npgsql;

namespace CouponAspire.Data;

/// <summary>Positional parameters (<c>$1</c>, <c>$2</c>, …) for the product's hand-written SQL, added in order.</summary>
public static class SqlParameters
{
    /// <summary>One typed parameter: no boxing, and the type says how Npgsql writes it (arrays for <c>unnest</c>).</summary>
    public static NpgsqlCommand With<T>(this NpgsqlCommand command, T value)
    {
        command.Parameters.Add(new NpgsqlParameter<T> { TypedValue = value });
        return command;
    }

    /// <inheritdoc cref="With{T}(NpgsqlCommand, T)"/>
    public static NpgsqlBatchCommand With<T>(this NpgsqlBatchCommand command, T value)
    {
        command.Parameters.Add(new NpgsqlParameter<T> { TypedValue = value });
        return command;
    }

    /// <summary>Parameters whose types Npgsql infers from the values; null is SQL NULL.</summary>
    public static NpgsqlCommand WithValues(this NpgsqlCommand command, params object?[] values)
    {
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }
}
