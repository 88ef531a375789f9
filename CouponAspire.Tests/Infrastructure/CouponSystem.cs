using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Confluent.Kafka;
using CouponAspire.Api.Coupons;
using CouponAspire.Api.Policies;
using CouponAspire.Api.Requests;
using CouponAspire.Consumer.Consuming;
using CouponAspire.Contracts.Events;
using CouponAspire.LocalInfrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CouponAspire.Tests.Infrastructure;

/// <summary>
/// One test's running system: a mock Kafka cluster with the topics, a database of its own, the API, and consumers
/// that can be added and stopped while it runs. Everything talks Kafka protocol and PostgreSQL for real.
/// </summary>
public sealed class CouponSystem : IAsyncDisposable
{
    private readonly Dictionary<string, string?> _settings;
    private readonly ITestOutputHelper? _output;
    private readonly Action<IServiceCollection>? _configureServices;
    private readonly List<ServiceFactory<CouponConsumerOptions>> _consumers = [];
    private readonly ConcurrentDictionary<long, string> _userTokens = new();
    private int _consumersStarted;

    private CouponSystem(
        MockKafkaCluster kafka, TestDatabase database, DevelopmentTokens tokens, Dictionary<string, string?> settings, ITestOutputHelper? output, bool kestrel, Action<IServiceCollection>? configureServices)
    {
        _configureServices = configureServices;
        Kafka = kafka;
        Database = database;
        Tokens = tokens;
        _settings = settings;
        _output = output;
        ApiFactory = new ServiceFactory<PolicyResponse>(settings, output, configureServices, "api", Log);
        if (kestrel)
        {
            ApiFactory.UseKestrel(0);
        }

        Api = ApiFactory.CreateClient();
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.ForAdmin());
    }

    /// <summary>What every service of this system logged: the consumers' group changes, retries, redeliveries.</summary>
    public ServiceLog Log { get; } = new();

    /// <summary>Mints tokens the API trusts: the admin's (the <see cref="Api"/> client's) and each user's.</summary>
    public DevelopmentTokens Tokens { get; }

    public MockKafkaCluster Kafka { get; }
    public TestDatabase Database { get; }
    public ServiceFactory<PolicyResponse> ApiFactory { get; }
    /// <summary>A client of the API with an administrator's token.</summary>
    public HttpClient Api { get; }
    public int Partitions { get; private set; }
    public IReadOnlyList<ServiceFactory<CouponConsumerOptions>> Consumers => _consumers;

    /// <param name="settings">More configuration for every service (the same keys a deployment would set).</param>
    /// <param name="kestrel">Host the API on a real Kestrel server on a free port, rather than the in-memory test server.</param>
    /// <param name="configureServices">Changes to every service's container (test exporters, for example).</param>
    /// <param name="database">A database of the test's own (on a server it controls); by default one from <paramref name="postgres"/>.</param>
    public static async Task<CouponSystem> StartAsync(
        PostgresFixture postgres,
        int partitions = 6,
        int consumers = 2,
        IReadOnlyDictionary<string, string?>? settings = null,
        bool kestrel = false,
        Action<IServiceCollection>? configureServices = null,
        TestDatabase? database = null)
    {
        var kafka = LocalKafka.Start(partitions);
        database ??= await postgres.CreateDatabaseAsync();
        var tokens = new DevelopmentTokens(DevelopmentTokens.NewSigningKey());
        var all = ServiceSettings.For(kafka.BootstrapServers, database.ConnectionString, tokens, partitions, fetchWaitMaxMs: 50);
        all["Aspire:Confluent:Kafka:Consumer:Config:AutoCommitIntervalMs"] = "200";
        all["Logging:LogLevel:Default"] = "Warning";
        all["Logging:LogLevel:CouponAspire"] = "Information";
        // Every batch's line: the tests count batches and redeliveries from them.
        all["Logging:LogLevel:CouponAspire.Consumer.Consuming.CouponBatchProcessor"] = "Debug";
        // Test crowds are few users asking many times; the per-user limit has tests of its own.
        all["CouponApi:RateLimit:PermitsPerPeriod"] = "100000";
        all["CouponApi:RateLimit:Burst"] = "100000";
        // Every trace, for the telemetry tests; sampling has tests of its own.
        all["Telemetry:TracesPerSecond"] = "0";
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var system = new CouponSystem(kafka, database, tokens, all, TestContext.Current.TestOutputHelper, kestrel, configureServices) { Partitions = partitions };
        for (var i = 0; i < consumers; i++)
        {
            system.AddConsumer();
        }

        return system;
    }

    /// <summary>Starts one more consumer process's worth of services: a new member of the group, <c>consumer-N</c> in <see cref="Log"/>.</summary>
    public ServiceFactory<CouponConsumerOptions> AddConsumer()
    {
        var name = $"consumer-{Interlocked.Increment(ref _consumersStarted)}";
        var consumer = new ServiceFactory<CouponConsumerOptions>(_settings, _output, _configureServices, name, Log);
        _ = consumer.Services; // starts the host
        _consumers.Add(consumer);
        return consumer;
    }

    /// <summary>
    /// Waits until the group has formed: the <paramref name="members"/> (by default the in-process consumers) share every
    /// partition between them, each holding some. The mock holds each rebalance for up to a session timeout, so a
    /// group of several members takes a few seconds to settle.
    /// </summary>
    public Task WaitForGroupAsync(params string[] members)
    {
        members = members.Length > 0 ? members : [.. _consumers.Select(c => c.Name)];
        return Eventually.UntilAsync(
            () => ConsumerAssignment.Shared([.. members.Select(Log.Assignment)], Partitions),
            $"{string.Join(", ", members)} to share the {Partitions} partitions",
            TimeSpan.FromMinutes(1),
            () => $"They hold: {string.Join(" | ", members.Select(m => $"{m}: {string.Join(',', Log.Assignment(m).Order())}"))}.");
    }

    /// <summary>Stops a consumer the way a deployment does: it finishes its batch, commits and leaves the group.</summary>
    public async Task StopConsumerAsync(ServiceFactory<CouponConsumerOptions> consumer)
    {
        _consumers.Remove(consumer);
        await consumer.DisposeAsync();
    }

    public async Task<long> CreatePolicyAsync(int totalQuantity, string name = "Flash sale", DateTimeOffset? startsAt = null, DateTimeOffset? endsAt = null)
    {
        var response = await Api.PostAsJsonAsync("/api/coupon-policies", new { name, totalQuantity, startsAt, endsAt });
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<PolicyResponse>())!.Id;
    }

    /// <summary>
    /// Starts a consumer as a process of its own (the built CouponAspire.Consumer.dll), configured through environment
    /// variables like a deployment: it can be killed outright, which an in-process host cannot. Its output goes to
    /// <see cref="Log"/> under <paramref name="name"/>.
    /// </summary>
    /// <param name="settings">Settings of this process alone, over the system's.</param>
    public ServiceProcess StartConsumerProcess(string name, IReadOnlyDictionary<string, string?>? settings = null) =>
        StartServiceProcess(name, "CouponAspire.Consumer.dll", "http://127.0.0.1:0", settings);

    /// <summary>
    /// Starts the API as a process of its own (the built CouponAspire.Api.dll) on <paramref name="port"/>, configured like
    /// the in-process one: it can be killed outright with requests in flight. Its output goes to <see cref="Log"/>.
    /// </summary>
    public ServiceProcess StartApiProcess(string name, int port) =>
        StartServiceProcess(name, "CouponAspire.Api.dll", $"http://127.0.0.1:{port}", null);

    private ServiceProcess StartServiceProcess(string name, string assembly, string urls, IReadOnlyDictionary<string, string?>? settings)
    {
        var environment = new Dictionary<string, string?>(_settings);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            environment[key] = value;
        }

        environment["ASPNETCORE_URLS"] = urls;
        environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        var output = _output;
        return ServiceProcess.Start(name, Path.Combine(AppContext.BaseDirectory, assembly), environment, line =>
        {
            Log.Add(name, line);
            if (line.Contains("warn", StringComparison.Ordinal) || line.Contains("fail", StringComparison.Ordinal) || line.Contains("crit", StringComparison.Ordinal))
            {
                try
                {
                    output?.WriteLine(line);
                }
                catch (InvalidOperationException)
                {
                }
            }
        });
    }

    /// <summary>Sends an issue request as the user (their own token, the user id taken from it).</summary>
    /// <param name="query">Appended to the path as it is (<c>?wait=N</c>).</param>
    /// <param name="prefer">A <c>Prefer</c> header (<c>wait=N</c>); none when null.</param>
    public Task<HttpResponseMessage> SendRequestAsync(long policyId, long userId, string query = "", string? prefer = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/coupon-policies/{policyId}/requests{query}") { Content = JsonContent.Create(new { }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _userTokens.GetOrAdd(userId, id => Tokens.ForUser(id)));
        if (prefer is not null)
        {
            request.Headers.TryAddWithoutValidation("Prefer", prefer);
        }

        return Api.SendAsync(request);
    }

    /// <summary>Asks for a coupon as the user: the request id when accepted (202), null when refused with 409.</summary>
    public async Task<string?> RequestAsync(long policyId, long userId)
    {
        var (status, requestId) = await TryRequestAsync(policyId, userId);
        status.ShouldBeOneOf(HttpStatusCode.Accepted, HttpStatusCode.Conflict);
        return requestId;
    }

    /// <summary>Asks for a coupon as the user: the answer's status, and the request id when it was 202.</summary>
    public async Task<(HttpStatusCode Status, string? RequestId)> TryRequestAsync(long policyId, long userId)
    {
        var response = await SendRequestAsync(policyId, userId);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            return (response.StatusCode, null);
        }

        var accepted = (await response.Content.ReadFromJsonAsync<CouponRequestAccepted>())!;
        response.Headers.Location!.ToString().ShouldBe($"/api/coupon-requests/{accepted.RequestId}");
        return (response.StatusCode, accepted.RequestId);
    }

    /// <summary>
    /// Reads a request through the API, null when unknown. The API learns a decision from <c>coupon-decisions</c>, which
    /// is published after the consumer's commit: a test that saw the outcome in the database asks with
    /// <paramref name="waitSeconds"/>, as a client would, rather than expecting the API to have read it already.
    /// </summary>
    public async Task<CouponRequestStatus?> GetRequestAsync(string requestId, int? waitSeconds = null)
    {
        var response = await Api.GetAsync(waitSeconds is { } wait ? $"/api/coupon-requests/{requestId}?wait={wait}" : $"/api/coupon-requests/{requestId}");
        return response.StatusCode == HttpStatusCode.NotFound ? null : await response.Content.ReadFromJsonAsync<CouponRequestStatus>();
    }

    /// <summary>Every setting the services of this system run with; a test's own service may start from them.</summary>
    public IReadOnlyDictionary<string, string?> Settings => _settings;

    /// <summary>Waits until every one of <paramref name="requestIds"/> has its outcome in the database.</summary>
    public Task WaitUntilDecidedAsync(IReadOnlyCollection<string> requestIds, TimeSpan? timeout = null) =>
        Decisions.WaitUntilDecidedAsync(Database, Kafka.BootstrapServers, requestIds, timeout);

    /// <summary>Every request published to <c>coupon-events</c>, read back from the broker and decoded, in offset order per partition.</summary>
    public List<CouponRequested> PublishedRequests() =>
        [.. ReadRequestLog().Select(m => CouponRequestedCodec.TryDecode(m.Message.Key, m.Message.Value, out var request, out var error)
            ? request
            : throw new InvalidOperationException($"An undecodable message in the log: {error}"))];

    /// <summary>Every message of <c>coupon-events</c>, read back from the broker, in offset order per partition.</summary>
    public List<ConsumeResult<string, byte[]>> ReadRequestLog() => KafkaLog.ReadAll(Kafka.BootstrapServers, CouponTopics.Requests);

    public async ValueTask DisposeAsync()
    {
        foreach (var consumer in _consumers.ToArray())
        {
            await consumer.DisposeAsync();
        }

        Api.Dispose();
        await ApiFactory.DisposeAsync();
        Kafka.Dispose();
        await Database.DisposeAsync();
    }
}
