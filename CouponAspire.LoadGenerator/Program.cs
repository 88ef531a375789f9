using System.CommandLine;
using CouponAspire.LoadGenerator;
using Microsoft.Extensions.Configuration;


var api = new Option<string?>("--api") { Description = "Base address of the API. Else configuration services:api:http:0 (set by the AppHost), else .couponaspire/api-url." };
var kafka = new Option<string?>("--kafka") { Description = "Kafka's bootstrap servers, to judge each policy's order against coupon-events. Else configuration ConnectionStrings:kafka (set by the AppHost), else .couponaspire/kafka." };
var signingKey = new Option<string?>("--signing-key") { Description = "The API's base64 token signing key. Else Authentication:Schemes:Bearer:SigningKeys:0:Value, else .couponaspire/signing-key." };
var issuer = new Option<string?>("--issuer") { Description = "Token issuer. Else Authentication:Schemes:Bearer:ValidIssuer, else couponaspire-dev." };
var audience = new Option<string?>("--audience") { Description = "Token audience. Else Authentication:Schemes:Bearer:ValidAudiences:0, else couponaspire-api." };
var policies = new Option<int?>("--policies") { Description = "Policies on sale at once, chosen so that they cover every partition of coupon-events. Default: one per partition (8 when Kafka is not known)." };
var quantity = new Option<int>("--quantity") { Description = "Coupons per policy.", DefaultValueFactory = _ => 1_000 };
var requests = new Option<int>("--requests") { Description = "Issue requests in all (with --duration: at most).", DefaultValueFactory = _ => 20_000 };
var users = new Option<int>("--users") { Description = "Distinct users; each asks at least once, a fifth of them again. As many as --requests: a fresh user per request.", DefaultValueFactory = _ => 10_000 };
var duration = new Option<double?>("--duration") { Description = "Send for this many seconds at full speed (or until --requests are sent)." };
var rate = new Option<double?>("--rate") { Description = "Requests a second at most, paced evenly (a steady load rather than a stampede). Default: as fast as the workers go." };
var concurrency = new Option<int>("--concurrency") { Description = "Requests in flight at full speed (its workers: on a busy machine each request spends a while in this process too, so it takes more workers than a native client's connections to keep as many at the API).", DefaultValueFactory = _ => 256 };
var ramp = new Option<double>("--ramp-seconds") { Description = "Time over which concurrency grows linearly to its target.", DefaultValueFactory = _ => 1 };
var resultMode = new Option<ResultMode>("--result") { Description = "How each client learns its outcome: wait (the request itself with Prefer: wait, answered 201 with the outcome), get (the 202, then GET with Prefer: wait), events (the request's server-sent events) or poll (GET every 250 ms).", DefaultValueFactory = _ => ResultMode.Wait };
var pollConcurrency = new Option<int>("--poll-concurrency") { Description = "Reads in flight of the outcomes the clients did not learn (503s whose outcome was unknown).", DefaultValueFactory = _ => 32 };
var decisionTimeout = new Option<double>("--decision-timeout-seconds") { Description = "Longest an accepted request may wait for its decision.", DefaultValueFactory = _ => 60 };
var firstUserId = new Option<long>("--first-user-id") { Description = "Users are this id and the ones after it. Default: from the clock, so that every run has users of its own." };
var seed = new Option<int>("--seed") { Description = "Seed of the order of clicks.", DefaultValueFactory = _ => 1 };
var reportJson = new Option<FileInfo?>("--report-json", "--json") { Description = "Also write the report as JSON to this file." };
var plain = new Option<bool>("--plain") { Description = "Plain progress lines even on a terminal (the default when output is redirected)." };
var noOrdering = new Option<bool>("--no-ordering") { Description = "Do not judge the order against coupon-events (when Kafka cannot be reached from here)." };
var quick = new Option<bool>("--quick") { Description = "A smoke run of a few seconds: 500 requests, 300 users, 50 coupons, one policy, concurrency 16 (explicit options still win)." };
foreach (var positive in new[] { quantity, requests, users, concurrency, pollConcurrency })
{
    positive.Validators.Add(result => { if (result.GetValueOrDefault<int>() < 1) { result.AddError($"{result.Option.Name} must be at least 1."); } });
}

policies.Validators.Add(result => { if (result.GetValueOrDefault<int?>() is < 1) { result.AddError("--policies must be at least 1."); } });
duration.Validators.Add(result => { if (result.GetValueOrDefault<double?>() is <= 0) { result.AddError("--duration must be positive."); } });
rate.Validators.Add(result => { if (result.GetValueOrDefault<double?>() is <= 0) { result.AddError("--rate must be positive."); } });

var root = new RootCommand(
    "Drives a running CouponAspire API with a flash sale, then judges it: every invariant a client can see, and each policy's order against coupon-events. Exit code 0: it held; 1: something broke; 2: could not run.")
{
    api, kafka, signingKey, issuer, audience, policies, quantity, requests, users, duration, rate, concurrency, ramp, resultMode, pollConcurrency, decisionTimeout, firstUserId, seed, reportJson, plain,
    noOrdering, quick,
};
root.SetAction((result, cancellationToken) =>
{
    var smoke = result.GetValue(quick);
    T Pick<T>(Option<T> option, T quickValue) => smoke && result.GetResult(option) is null or { Implicit: true } ? quickValue : result.GetValue(option)!;
    var settings = new FlashSaleSettings(
        Pick(policies, 1),
        Pick(quantity, 50),
        Pick(requests, 500),
        Pick(users, 300),
        result.GetValue(duration) is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
        result.GetValue(rate),
        Pick(concurrency, 16),
        TimeSpan.FromSeconds(Pick(ramp, 0.25)),
        result.GetValue(resultMode),
        result.GetValue(pollConcurrency),
        TimeSpan.FromSeconds(result.GetValue(decisionTimeout)),
        result.GetResult(firstUserId) is null or { Implicit: true } ? FlashSaleSettings.FirstUserIdFromClock() : result.GetValue(firstUserId),
        result.GetValue(seed),
        result.GetValue(reportJson),
        result.GetValue(plain),
        !result.GetValue(noOrdering));
    var target = new TargetOptions(result.GetValue(api), result.GetValue(kafka), result.GetValue(signingKey), result.GetValue(issuer), result.GetValue(audience));
    return FlashSaleRunner.RunAsync(settings, target, cancellationToken);
});

var parsed = root.Parse(args);
var exitCode = await parsed.InvokeAsync();
return parsed.Errors.Count > 0 ? ExitCodes.CouldNotRun : exitCode;
