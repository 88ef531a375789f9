using CouponAspire.Consumer.Issuance;
using CouponAspire.Data;

namespace CouponAspire.Tests.Issuance;

/// <summary>Both strategies, on random streams, against the reference model, request by request.</summary>
public sealed class IssuanceEngineModelTests(PostgresFixture postgres)
{
    public static TheoryData<IssuanceStrategy> Strategies() => [IssuanceStrategy.Batched, IssuanceStrategy.PerMessage];

    public static TheoryData<IssuanceStrategy, int> StrategiesAndSeeds()
    {
        var data = new TheoryData<IssuanceStrategy, int>();
        foreach (var strategy in Enum.GetValues<IssuanceStrategy>())
        {
            for (var seed = 1; seed <= 30; seed++)
            {
                data.Add(strategy, seed);
            }
        }

        return data;
    }

    [Theory(Timeout = Timeouts.System)]
    [MemberData(nameof(StrategiesAndSeeds))]
    public async Task Every_decision_matches_the_reference_model(IssuanceStrategy strategy, int seed)
    {
        var scenario = RandomScenario.FromSeed(seed);
        await using var database = await postgres.CreateDatabaseAsync();
        await scenario.CreatePoliciesAsync(database);
        await using var engine = IssuanceEngineRegistration.Create(strategy, database.DataSource, TimeProvider.System);
        var model = new FcfsModel(scenario.Policies);

        var position = 0;
        foreach (var batch in scenario.Batches)
        {
            var decisions = await engine.DecideAsync(batch, TestContext.Current.CancellationToken);

            decisions.Count.ShouldBe(batch.Length);
            for (var i = 0; i < batch.Length; i++, position++)
            {
                var (outcome, replayed) = model.Decide(batch[i]);
                var decision = decisions[i];
                decision.RequestId.ShouldBe(batch[i].RequestId);
                decision.Outcome.ShouldBe(outcome, $"seed {seed}, request #{position} ({batch[i]})");
                decision.Replayed.ShouldBe(replayed, $"seed {seed}, request #{position}");
                (decision.CouponId is not null).ShouldBe(outcome is IssuanceOutcome.Issued or IssuanceOutcome.AlreadyIssued);
            }
        }

        await AssertDatabaseAgreesAsync(database, scenario, model);
    }

    [Theory(Timeout = Timeouts.System)]
    [MemberData(nameof(Strategies))]
    public async Task A_request_already_decided_gets_its_stored_outcome_back_unchanged(IssuanceStrategy strategy)
    {
        await using var database = await postgres.CreateDatabaseAsync();
        var (policy, engine) = await PolicyAndEngineAsync(database, strategy, totalQuantity: 1);
        var winner = Request(policy.Id, userId: 1, offset: 0);
        var loser = Request(policy.Id, userId: 2, offset: 1);

        var first = await engine.DecideAsync([winner, loser], TestContext.Current.CancellationToken);
        var again = await engine.DecideAsync([loser, winner, winner], TestContext.Current.CancellationToken);

        first.Select(d => (d.Outcome, d.Replayed)).ShouldBe([(IssuanceOutcome.Issued, false), (IssuanceOutcome.SoldOut, false)]);
        again.Select(d => (d.Outcome, d.Replayed)).ShouldBe([(IssuanceOutcome.SoldOut, true), (IssuanceOutcome.Issued, true), (IssuanceOutcome.Issued, true)]);
        again[1].CouponId.ShouldBe(first[0].CouponId);
        (await database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes")).ShouldBe(2);
        (await database.ScalarAsync<int>("SELECT issued_count FROM coupon_policies WHERE id = $1", policy.Id)).ShouldBe(1);
    }

    [Theory(Timeout = Timeouts.System)]
    [MemberData(nameof(Strategies))]
    public async Task A_repeat_request_of_a_holder_points_at_the_coupon_held(IssuanceStrategy strategy)
    {
        await using var database = await postgres.CreateDatabaseAsync();
        var (policy, engine) = await PolicyAndEngineAsync(database, strategy, totalQuantity: 5);

        var decisions = await engine.DecideAsync(
            [Request(policy.Id, userId: 7, offset: 0), Request(policy.Id, userId: 7, offset: 1)],
            TestContext.Current.CancellationToken);
        var later = await engine.DecideAsync([Request(policy.Id, userId: 7, offset: 2)], TestContext.Current.CancellationToken);

        decisions[0].Outcome.ShouldBe(IssuanceOutcome.Issued);
        decisions[1].Outcome.ShouldBe(IssuanceOutcome.AlreadyIssued);
        decisions[1].CouponId.ShouldBe(decisions[0].CouponId);
        later[0].Outcome.ShouldBe(IssuanceOutcome.AlreadyIssued);
        later[0].CouponId.ShouldBe(decisions[0].CouponId);
    }

    private static IssuanceRequest Request(long policyId, long userId, long offset) =>
        new(Guid.NewGuid().ToString(), policyId, userId, 0, offset, DateTimeOffset.UtcNow);

    private static async Task AssertDatabaseAgreesAsync(TestDatabase database, RandomScenario scenario, FcfsModel model)
    {
        foreach (var policy in scenario.Policies)
        {
            var expected = model.Issued.GetValueOrDefault(policy.Id);
            (await database.ScalarAsync<int>("SELECT issued_count FROM coupon_policies WHERE id = $1", policy.Id)).ShouldBe(expected);
            (await database.ScalarAsync<long>("SELECT count(*) FROM coupons WHERE policy_id = $1", policy.Id)).ShouldBe(expected);
        }

        var distinctRequests = scenario.Stream.Select(r => r.RequestId).Distinct().Count();
        (await database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes")).ShouldBe(distinctRequests);
        (await database.ScalarAsync<long>(
            """
            SELECT count(*) FROM request_outcomes o
            LEFT JOIN coupons c ON c.id = o.coupon_id AND c.policy_id = o.policy_id AND c.user_id = o.user_id
            WHERE o.outcome IN ('Issued', 'AlreadyIssued') AND c.id IS NULL
            """)).ShouldBe(0, "every Issued/AlreadyIssued outcome points at the coupon of its policy and user");
        (await database.ScalarAsync<long>(
            "SELECT count(*) FROM request_outcomes o JOIN coupons c ON c.request_id = o.request_id WHERE o.outcome <> 'Issued'")).ShouldBe(0);
    }

    [Theory(Timeout = Timeouts.System)]
    [MemberData(nameof(Strategies))]
    public async Task Warming_up_runs_the_decision_and_leaves_nothing_behind(IssuanceStrategy strategy)
    {
        await using var database = await postgres.CreateDatabaseAsync();
        var (policy, engine) = await PolicyAndEngineAsync(database, strategy, totalQuantity: 3);

        await engine.WarmUpAsync(batchSize: 500, TestContext.Current.CancellationToken);
        await engine.WarmUpAsync(batchSize: 500, TestContext.Current.CancellationToken);

        (await database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes")).ShouldBe(0);
        (await database.ScalarAsync<long>("SELECT count(*) FROM coupons")).ShouldBe(0);
        (await database.ScalarAsync<int>("SELECT issued_count FROM coupon_policies WHERE id = $1", policy.Id)).ShouldBe(0);
        (await engine.DecideAsync([new IssuanceRequest("after", policy.Id, 1, 0, 0, DateTimeOffset.UtcNow)], TestContext.Current.CancellationToken))
            .ShouldHaveSingleItem().Outcome.ShouldBe(IssuanceOutcome.Issued, "a warmed-up engine decides as before");
    }

    private static async Task<(CouponPolicy Policy, IIssuanceEngine Engine)> PolicyAndEngineAsync(TestDatabase database, IssuanceStrategy strategy, int totalQuantity) =>
        (await database.CreatePolicyAsync(totalQuantity), IssuanceEngineRegistration.Create(strategy, database.DataSource, TimeProvider.System));
}
