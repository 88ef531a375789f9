using CouponAspire.Data;

namespace CouponAspire.Consumer.Issuance;

/// <summary>Every statement the issuance engines run, in one place. Parameters are positional.</summary>
internal static class IssuanceSql
{
    // ---- Batched: two round trips per batch (read; write and commit) whatever its size. ----

    /// <summary>Locks the batch's policies in id order, so that concurrent engines queue instead of deadlocking.</summary>
    public const string LockPolicies = $"""
        SELECT {PolicySnapshot.Columns}
        FROM coupon_policies
        WHERE id = ANY($1)
        ORDER BY id
        FOR UPDATE
        """;

    /// <summary>Outcomes already recorded for the batch's request ids (redeliveries); read after the locks are held.</summary>
    public const string StoredOutcomes = """
        SELECT request_id, outcome, coupon_id, decided_at, remaining_quantity
        FROM request_outcomes
        WHERE request_id = ANY($1)
        """;

    /// <summary>Coupons already held by the batch's (policy, user) pairs.</summary>
    public const string HeldCoupons = """
        SELECT c.policy_id, c.user_id, c.id
        FROM coupons AS c
        JOIN unnest($1::bigint[], $2::bigint[]) AS k(policy_id, user_id)
          ON c.policy_id = k.policy_id AND c.user_id = k.user_id
        """;

    /// <summary>
    /// Writes a planned batch in one statement: the winners' coupons, the policies' counts, one outcome row per new
    /// request with the policy's quantity left after it (AlreadyIssued rows point at the coupon held, also when it was
    /// won earlier in the same batch).
    /// Returns the coupon id of every new outcome that has one.
    /// </summary>
    public const string RecordBatch = """
        WITH issued AS (
            INSERT INTO coupons (policy_id, user_id, request_id, issued_at)
            SELECT w.policy_id, w.user_id, w.request_id, $4
            FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS w(policy_id, user_id, request_id)
            RETURNING id, policy_id, user_id
        ), counted AS (
            UPDATE coupon_policies AS p
            SET issued_count = p.issued_count + d.issued
            FROM unnest($5::bigint[], $6::int[]) AS d(policy_id, issued)
            WHERE p.id = d.policy_id
        ), recorded AS (
            INSERT INTO request_outcomes
                (request_id, policy_id, user_id, outcome, coupon_id, kafka_partition, kafka_offset, requested_at, decided_at, remaining_quantity)
            SELECT r.request_id, r.policy_id, r.user_id, r.outcome,
                   CASE WHEN r.outcome IN ('Issued', 'AlreadyIssued') THEN coalesce(r.coupon_id, i.id) END,
                   r.kafka_partition, r.kafka_offset, r.requested_at, $4, r.remaining_quantity
            FROM unnest($7::text[], $8::bigint[], $9::bigint[], $10::text[], $11::bigint[], $12::int[], $13::bigint[], $14::timestamptz[], $15::int[])
                AS r(request_id, policy_id, user_id, outcome, coupon_id, kafka_partition, kafka_offset, requested_at, remaining_quantity)
            LEFT JOIN issued AS i ON i.policy_id = r.policy_id AND i.user_id = r.user_id
            RETURNING request_id, coupon_id
        )
        SELECT request_id, coupon_id FROM recorded WHERE coupon_id IS NOT NULL
        """;

    // ---- PerMessage: the seed's algorithm, one transaction per request. ----

    public const string StoredOutcome = """
        SELECT outcome, coupon_id, decided_at, remaining_quantity FROM request_outcomes WHERE request_id = $1
        """;

    public const string Policy = $"""
        SELECT {PolicySnapshot.Columns} FROM coupon_policies WHERE id = $1
        """;

    public const string HeldCoupon = """
        SELECT id FROM coupons WHERE policy_id = $1 AND user_id = $2
        """;

    /// <summary>The seed's conditional update: no row means no quantity left; else the quantity left after it.</summary>
    public const string TryIncrementIssuedCount = """
        UPDATE coupon_policies SET issued_count = issued_count + 1
        WHERE id = $1 AND issued_count < total_quantity
        RETURNING total_quantity - issued_count
        """;

    public const string InsertCoupon = """
        INSERT INTO coupons (policy_id, user_id, request_id, issued_at) VALUES ($1, $2, $3, $4) RETURNING id
        """;

    public const string InsertOutcome = """
        INSERT INTO request_outcomes
            (request_id, policy_id, user_id, outcome, coupon_id, kafka_partition, kafka_offset, requested_at, decided_at, remaining_quantity)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        """;
}
