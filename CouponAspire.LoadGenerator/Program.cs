using System.CommandLine;
using CouponAspire.LoadGenerator;

var api = new Option<string?>("--api") { Description = "Base address of the API. Else configuration services:api:http:0 (set by the AppHost), else .couponaspire/api-url." };
var signingKey = new Option<string?>("--signing-key") { Description = "The API's base64 token signing key. Else Authentication:Schemes:Bearer:SigningKeys:0:Value, else .couponaspire/signing-key." };
var issuer = new Option<string?>("--issuer") { Description = "Token issuer. Else Authentication:Schemes:Bearer:ValidIssuer, else couponaspire-dev." };
var audience = new Option<string?>("--audience") { Description = "Token audience. Else Authentication:Schemes:Bearer:ValidAudiences:0, else couponaspire-api." };
var policies = new Option<int>("--policies") { Description = "Policies on sale at once; users are spread over them.", DefaultValueFactory = _ => 1 };
var quantity = new Option<int>("--quantity") { Description = "Coupons per policy.", DefaultValueFactory = _ => 1_000 };
var requests = new Option<int>("--requests") { Description = "Issue requests in all.", DefaultValueFactory = _ => 20_000 };
var users = new Option<int>("--users") { Description = "Distinct users; each asks at least once, a fifth of them again.", DefaultValueFactory = _ => 10_000 };
var concurrency = new Option<int>("--concurrency") { Description = "Requests in flight at full speed.", DefaultValueFactory = _ => 64 };
var ramp = new Option<double>("--ramp-seconds") { Description = "Time over which concurrency grows linearly to its target.", DefaultValueFactory = _ => 1 };
var pollConcurrency = new Option<int>("--poll-concurrency") { Description = "Outcome reads in flight.", DefaultValueFactory = _ => 16 };
var decisionTimeout = new Option<double>("--decision-timeout-seconds") { Description = "Longest an accepted request may wait for its decision.", DefaultValueFactory = _ => 60 };
var firstUserId = new Option<long>("--first-user-id") { Description = "Users are this id and the ones after it.", DefaultValueFactory = _ => 1 };
var seed = new Option<int>("--seed") { Description = "Seed of the order of clicks.", DefaultValueFactory = _ => 1 };
var json = new Option<FileInfo?>("--json") { Description = "Also write the report as JSON to this file." };
var plain = new Option<bool>("--plain") { Description = "Plain progress lines even on a terminal (the default when output is redirected)." };
var quick = new Option<bool>("--quick") { Description = "A smoke run of a few seconds: 500 requests, 300 users, 50 coupons, concurrency 16 (explicit options still win)." };
foreach (var positive in new[] { policies, quantity, requests, users, concurrency, pollConcurrency })
{
    positive.Validators.Add(result => { if (result.GetValueOrDefault<int>() < 1) { result.AddError($"{result.Option.Name} must be at least 1."); } });
}

var root = new RootCommand("Drives a running CouponAspire API with a flash sale and reports whether it held. Exit code 0: every invariant held; 1: one broke; 2: could not run.")
{
    api, signingKey, issuer, audience, policies, quantity, requests, users, concurrency, ramp, pollConcurrency, decisionTimeout, firstUserId, seed, json, plain, quick,
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
        Pick(concurrency, 16),
        TimeSpan.FromSeconds(Pick(ramp, 0.25)),
        result.GetValue(pollConcurrency),
        TimeSpan.FromSeconds(result.GetValue(decisionTimeout)),
        result.GetValue(firstUserId),
        result.GetValue(seed),
        result.GetValue(json),
        result.GetValue(plain));
    var target = new TargetOptions(result.GetValue(api), result.GetValue(signingKey), result.GetValue(issuer), result.GetValue(audience));
    return FlashSaleRunner.RunAsync(settings, target, cancellationToken);
});

var parsed = root.Parse(args);
var exitCode = await parsed.InvokeAsync();
return parsed.Errors.Count > 0 ? ExitCodes.CouldNotRun : exitCode;
