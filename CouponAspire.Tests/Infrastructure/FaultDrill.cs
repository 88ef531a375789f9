using Npgsql;

namespace CouponAspire.Tests.Infrastructure;

/// <summary>Where a sale stood when a fault was injected: answers so far, and requests decided.</summary>
public sealed record FaultMoment(int Answered, int Accepted, long Decided, bool SaleFinished)
{
    public override string ToString() => $"{Answered} answered, {Accepted} accepted, {Decided} decided{(SaleFinished ? ", the sale over" : "")}";
}

/// <summary>What a drill found: the sale's answers, and where it stood when the fault struck.</summary>
public sealed record FaultDrillResult(FlashSaleResult Sale, FaultMoment Injected);

/// <summary>
/// The skeleton of a fault test: a flash sale starts and goes on until the drill is over; once it reaches the state the
/// fault needs (<c>injectWhen</c>), the fault is injected; once the system shows that the fault met the work
/// (<c>hasStruck</c>), it is healed; the system is seen to work again (<c>recovered</c>, by default: more requests
/// decided); the sale stops, and every invariant is checked. Each step waits for state, never for the clock; the
/// sale's seed is printed. One of the sale's policies should have more coupons than the sale has users: it never sells
/// out, so requests are still taken after the fault, and the drill can see the system work again.
/// </summary>
/// <param name="perSecond">The sale's pace: enough to keep every consumer busy, and few enough that a drill of minutes stays
/// within what the mock cluster keeps of a partition.</param>
public sealed class FaultDrill(CouponSystem system, IReadOnlyList<long> policies, int users, int concurrency = 16, int perSecond = 400, int? seed = null)
{
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    public int Seed { get; } = seed ?? Random.Shared.Next();

    /// <summary>The running sale, for conditions about its answers.</summary>
    public SaleProgress Sale { get; } = new();

    public async Task<FaultDrillResult> RunAsync(
        Func<FaultMoment, Task<bool>> injectWhen,
        Func<FaultMoment, Task> inject,
        string struck,
        Func<Task<bool>> hasStruck,
        Func<Task>? heal = null,
        Func<FaultMoment, FaultMoment, bool>? recovered = null)
    {
        var sale = FlashSale.RunAsync(system, policies, count: null, users, concurrency, Seed, Sale, perSecond, unavailableAllowed: true);
        try
        {
            FaultMoment moment = null!;
            await Eventually.UntilAsync(
                async () => await injectWhen(moment = await MomentAsync()),
                "the moment to inject the fault",
                Patience,
                () => Task.FromResult($"The sale: {moment}."));
            var mark = system.Log.Mark;
            await inject(moment);
            TestContext.Current.TestOutputHelper?.WriteLine($"Fault injected at: {moment}");

            await Eventually.UntilAsync(hasStruck, struck, Patience, DescribeAsync);
            if (heal is not null)
            {
                await heal();
            }

            // Where the sale stands once healed; the database may still be coming back.
            FaultMoment? healed = null;
            await Eventually.UntilAsync(async () => (healed = await TryMomentAsync()) is not null, "the database to answer after the fault", Patience, DescribeAsync);

            // Past the fault, requests are taken and decided again: by default 200 more of each than when it struck.
            recovered ??= (at, now) => now.Accepted >= at.Accepted + 200 && now.Decided >= at.Decided + 200;
            await Eventually.UntilAsync(async () => recovered(healed!, await MomentAsync()), "the system to work again after the fault", Patience, DescribeAsync);
            Sale.Stop();
            var result = await sale;
            await Invariants.AssertAllHoldAsync(system, result.Accepted, Patience);
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"Since the fault: {system.Log.PartitionChanges("revoked", mark)} partition(s) revoked, {system.Log.PartitionChanges("lost", mark)} lost, "
                + $"{system.Log.Retries(mark)} batch(es) retried, {system.Log.Replayed(mark)} redelivered request(s) answered from their stored outcome; "
                + $"the sale: {result.Accepted.Count} accepted, {Sale.Unavailable} answered 503.");
            return new FaultDrillResult(result, moment);
        }
        finally
        {
            Sale.Stop();
            await sale.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>Where the sale stands, for a failure's message: the database may be the fault.</summary>
    private async Task<string> DescribeAsync() => $"The sale: {(await TryMomentAsync())?.ToString() ?? $"{Sale}, decisions unknown (the database does not answer)"}.";

    private async Task<FaultMoment?> TryMomentAsync()
    {
        try
        {
            return await MomentAsync();
        }
        catch (NpgsqlException)
        {
            return null;
        }
    }

    public async Task<FaultMoment> MomentAsync()
    {
        var decided = await system.Database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes WHERE outcome <> 'Withdrawn'");
        return new FaultMoment(Sale.Answered, Sale.Accepted, decided, Sale.Finished);
    }
}
