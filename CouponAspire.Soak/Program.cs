using System.CommandLine;
using CouponAspire.Soak;

var minutes = new Option<double>("--minutes") { Description = "How long the soak runs (hours work).", DefaultValueFactory = _ => 10 };
var rate = new Option<double>("--rate") { Description = "The steady load, requests a second (about half the API's top rate under the AppHost).", DefaultValueFactory = _ => 1500 };
var saleSeconds = new Option<double>("--sale-seconds") { Description = "Each sale's length; its policies sell out about halfway.", DefaultValueFactory = _ => 45 };
var policies = new Option<int>("--policies") { Description = "New policies each sale.", DefaultValueFactory = _ => 4 };
var restartEvery = new Option<double>("--restart-every-seconds") { Description = "A consumer replica stopped and started again this often.", DefaultValueFactory = _ => 60 };
var output = new Option<DirectoryInfo>("--out") { Description = "Where the samples (CSV), the chart (PNG) and each sale's report go.", DefaultValueFactory = _ => new DirectoryInfo("soak-results") };
var aspire = new Option<string>("--aspire") { Description = "The Aspire CLI.", DefaultValueFactory = _ => "aspire" };

var root = new RootCommand(
    "Soaks the system the AppHost runs: steady sales one after another, each judged by the load generator; a consumer replica stopped and started every minute and the API restarted once, through the Aspire CLI; sampled every 10 s; charted. Exit code 0: every sale held and memory stayed flat; 1: not; 2: could not run.")
{
    minutes, rate, saleSeconds, policies, restartEvery, output, aspire,
};
root.SetAction((result, cancellationToken) => new SoakRun(new SoakSettings(
    TimeSpan.FromMinutes(result.GetValue(minutes)),
    result.GetValue(rate),
    TimeSpan.FromSeconds(result.GetValue(saleSeconds)),
    result.GetValue(policies),
    TimeSpan.FromSeconds(result.GetValue(restartEvery)),
    result.GetValue(output)!,
    result.GetValue(aspire)!)).RunAsync(cancellationToken));

return await root.Parse(args).InvokeAsync();
