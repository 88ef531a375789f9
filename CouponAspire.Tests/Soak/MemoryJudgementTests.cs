using CouponAspire.Soak;

namespace CouponAspire.Tests.Soak;

/// <summary>The soak's memory verdict: flat after the first minute, within 10 %, per service.</summary>
public sealed class MemoryJudgementTests
{
    [Fact(Timeout = Timeouts.System)]
    public void A_service_that_settles_after_the_first_minute_is_flat_and_one_that_keeps_growing_is_not()
    {
        // Ten minutes sampled every 10 s: the API climbs for a minute then holds; the consumer grows 2 % a minute throughout.
        var samples = Samples(TimeSpan.FromMinutes(10), at => [
            Memory("api", at < TimeSpan.FromMinutes(1) ? 100 + at.TotalSeconds : 160),
            Memory("consumer", 200 * Math.Pow(1.02, at.TotalMinutes)),
        ]);

        var growths = MemoryJudgement.Judge(samples).ToDictionary(g => g.Service);

        growths["api"].Growth.ShouldBe(0, 0.001);
        growths["consumer"].Growth.ShouldBeGreaterThan(MemoryJudgement.Limit);
        MemoryJudgement.Flat(growths.Values).ShouldBeFalse();
        MemoryJudgement.Flat([growths["api"]]).ShouldBeTrue();
    }

    [Fact(Timeout = Timeouts.System)]
    public void Replicas_coming_and_going_are_judged_as_one_service_and_the_dashboard_not_at_all()
    {
        // Two replicas at 200 MB; every three minutes one is replaced by a new process at 150 MB that grows back to 200.
        var samples = Samples(TimeSpan.FromMinutes(10), at => [
            Memory("dashboard", 100 + at.TotalSeconds),
            Memory("consumer", 200),
            Memory("consumer", 150 + Math.Min(50, at.TotalSeconds % 180)),
        ]);

        var growths = MemoryJudgement.Judge(samples);

        growths.Select(g => g.Service).ShouldBe(["consumer"]);
        MemoryJudgement.Flat(growths).ShouldBeTrue();
    }

    [Fact(Timeout = Timeouts.System)]
    public void Growth_a_service_is_allowed_by_design_is_taken_off_before_judging()
    {
        // The mock cluster filling its partitions: +60 MB over the run, within the 60 MB its partitions may hold.
        var samples = Samples(TimeSpan.FromMinutes(10), at => [Memory("kafka", 100 + Math.Min(60, at.TotalMinutes * 10))]);

        MemoryJudgement.Flat(MemoryJudgement.Judge(samples)).ShouldBeFalse();
        MemoryJudgement.Flat(MemoryJudgement.Judge(samples, new Dictionary<string, double> { ["kafka"] = 60 })).ShouldBeTrue();
    }

    private static List<Sample> Samples(TimeSpan length, Func<TimeSpan, ProcessMemory[]> memory) =>
        [.. Enumerable.Range(1, (int)(length / Sampler.Interval)).Select(i => i * Sampler.Interval).Select(at => new Sample(at, 1000, 50, 0, memory(at)))];

    private static ProcessMemory Memory(string service, double megabytes) => new($"{service} 1", service, (long)(megabytes * 1048576), null);
}
