using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace CouponAspire.LocalInfrastructure;

/// <summary>
/// librdkafka's built-in mock Kafka cluster: real brokers speaking the Kafka protocol on 127.0.0.1, living inside
/// this process, usable by any Kafka client (in this or other processes) through <see cref="BootstrapServers"/>.
/// It has no admin API, so topics are created here; it has fault injection, exposed here for tests.
/// The mock is librdkafka's own test harness (an experimental API), not Apache Kafka.
/// </summary>
public sealed unsafe class MockKafkaCluster : IDisposable
{
    private readonly nint _handle;
    private readonly nint _cluster;
    private bool _disposed;

    private MockKafkaCluster(nint handle, nint cluster)
    {
        _handle = handle;
        _cluster = cluster;
        BootstrapServers = Marshal.PtrToStringUTF8(Native.ClusterBootstraps(cluster))
            ?? throw new InvalidOperationException("The mock cluster reported no bootstrap servers.");
    }

    /// <summary>Comma-separated <c>127.0.0.1:port</c> of every broker, as <c>bootstrap.servers</c> wants it.</summary>
    public string BootstrapServers { get; }

    /// <summary>
    /// Starts a cluster of <paramref name="brokers"/> brokers (ids 1..n). Broker 1 is made the controller so that
    /// admin requests fail at once with "not supported" instead of waiting for a controller, and a new consumer
    /// group rebalances after <paramref name="initialRebalanceDelay"/> (the mock's default is 3 s).
    /// </summary>
    public static MockKafkaCluster Start(int brokers = 3, TimeSpan? initialRebalanceDelay = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        var conf = Native.ConfNew();
        Native.Set(conf, "log_level", "3");
        var errors = stackalloc byte[512];
        var handle = Native.New(0 /* RD_KAFKA_PRODUCER */, conf, errors, 512);
        if (handle == 0)
        {
            throw new InvalidOperationException($"rd_kafka_new failed: {Marshal.PtrToStringUTF8((nint)errors)}");
        }

        var cluster = Native.ClusterNew(handle, brokers);
        if (cluster == 0)
        {
            Native.Destroy(handle);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed.");
        }

        var mock = new MockKafkaCluster(handle, cluster);
        Check(Native.SetControllerId(cluster, 1));
        Native.GroupInitialRebalanceDelayMs(cluster, (int)(initialRebalanceDelay ?? TimeSpan.FromMilliseconds(100)).TotalMilliseconds);
        return mock;
    }

    public void CreateTopic(string topic, int partitions) =>
        Check(Native.TopicCreate(_cluster, topic, partitions, replicationFactor: 1));

    /// <summary>Disconnects a broker (or all, with -1) and refuses new connections; leadership does not move.</summary>
    public void SetBrokerDown(int brokerId) => Check(Native.BrokerSetDown(_cluster, brokerId));

    public void SetBrokerUp(int brokerId) => Check(Native.BrokerSetUp(_cluster, brokerId));

    /// <summary>Adds a round-trip delay to a broker's (or all, with -1) responses.</summary>
    public void SetBrokerRoundTripTime(int brokerId, TimeSpan delay) =>
        Check(Native.BrokerSetRtt(_cluster, brokerId, (int)delay.TotalMilliseconds));

    /// <summary>Moves a partition's leadership (-1 leaves it without a leader).</summary>
    public void SetPartitionLeader(string topic, int partition, int brokerId) =>
        Check(Native.PartitionSetLeader(_cluster, topic, partition, brokerId));

    /// <summary>Makes a broker the coordinator of a consumer group (<paramref name="keyType"/> <c>group</c>) or of a transactional id.</summary>
    public void SetCoordinator(string keyType, string key, int brokerId) =>
        Check(Native.CoordSet(_cluster, keyType, key, brokerId));

    /// <summary>Makes the next requests of a protocol type fail, one error each, in order.</summary>
    public void PushRequestErrors(KafkaApiKey apiKey, params ErrorCode[] errors)
    {
        fixed (ErrorCode* codes = errors)
        {
            Native.PushRequestErrorsArray(_cluster, (short)apiKey, (nuint)errors.Length, (int*)codes);
        }
    }

    /// <summary>
    /// Makes a broker answer the next request of a protocol type with <paramref name="error"/> after <paramref name="roundTrip"/>;
    /// with <see cref="ErrorCode.NoError"/> the request is carried out, and only its answer is late.
    /// </summary>
    public void PushRequestError(int brokerId, KafkaApiKey apiKey, ErrorCode error, TimeSpan roundTrip) =>
        Check(Native.BrokerPushRequestErrorRtts(_cluster, brokerId, (short)apiKey, 1, (int)error, (int)roundTrip.TotalMilliseconds));

    /// <summary>From now on the cluster records every request it receives (see <see cref="Requests"/>).</summary>
    public void StartRequestTracking() => Native.StartRequestTracking(_cluster);

    /// <summary>The requests received since tracking started, in the order they came: which broker, which request type.</summary>
    public IReadOnlyList<MockRequest> Requests()
    {
        nuint count = 0;
        var requests = Native.GetRequests(_cluster, &count);
        try
        {
            var list = new MockRequest[(int)count];
            for (var i = 0; i < list.Length; i++)
            {
                list[i] = new MockRequest(Native.RequestBrokerId(requests[i]), (KafkaApiKey)Native.RequestApiKey(requests[i]));
            }

            return list;
        }
        finally
        {
            Native.DestroyRequests(requests, count);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Native.ClusterDestroy(_cluster);
        Native.Destroy(_handle);
    }

    private static void Check(int error)
    {
        if (error != 0)
        {
            throw new KafkaException((ErrorCode)error);
        }
    }

    /// <summary>
    /// The exports used, bound at run time from the librdkafka that Confluent.Kafka ships. On some Linux images the
    /// package's default build fails to load (it needs libsasl2.so.3); like Confluent.Kafka, fall back to the
    /// other builds in the same folder.
    /// </summary>
    private static class Native
    {
        private static readonly nint Library = Load();

        public static readonly delegate* unmanaged<nint> ConfNew = (delegate* unmanaged<nint>)Export("rd_kafka_conf_new");
        public static readonly delegate* unmanaged<nint, byte*, byte*, byte*, nuint, int> ConfSet = (delegate* unmanaged<nint, byte*, byte*, byte*, nuint, int>)Export("rd_kafka_conf_set");
        public static readonly delegate* unmanaged<int, nint, byte*, nuint, nint> New = (delegate* unmanaged<int, nint, byte*, nuint, nint>)Export("rd_kafka_new");
        public static readonly delegate* unmanaged<nint, void> Destroy = (delegate* unmanaged<nint, void>)Export("rd_kafka_destroy");
        public static readonly delegate* unmanaged<nint, int, nint> ClusterNew = (delegate* unmanaged<nint, int, nint>)Export("rd_kafka_mock_cluster_new");
        public static readonly delegate* unmanaged<nint, void> ClusterDestroy = (delegate* unmanaged<nint, void>)Export("rd_kafka_mock_cluster_destroy");
        public static readonly delegate* unmanaged<nint, nint> ClusterBootstraps = (delegate* unmanaged<nint, nint>)Export("rd_kafka_mock_cluster_bootstraps");
        public static readonly delegate* unmanaged<nint, int, int> SetControllerId = (delegate* unmanaged<nint, int, int>)Export("rd_kafka_mock_set_controller_id");
        public static readonly delegate* unmanaged<nint, int, void> GroupInitialRebalanceDelayMs = (delegate* unmanaged<nint, int, void>)Export("rd_kafka_mock_group_initial_rebalance_delay_ms");
        public static readonly delegate* unmanaged<nint, int, int> BrokerSetDown = (delegate* unmanaged<nint, int, int>)Export("rd_kafka_mock_broker_set_down");
        public static readonly delegate* unmanaged<nint, int, int> BrokerSetUp = (delegate* unmanaged<nint, int, int>)Export("rd_kafka_mock_broker_set_up");
        public static readonly delegate* unmanaged<nint, int, int, int> BrokerSetRtt = (delegate* unmanaged<nint, int, int, int>)Export("rd_kafka_mock_broker_set_rtt");
        public static readonly delegate* unmanaged<nint, void> StartRequestTracking = (delegate* unmanaged<nint, void>)Export("rd_kafka_mock_start_request_tracking");
        public static readonly delegate* unmanaged<nint, nuint*, nint*> GetRequests = (delegate* unmanaged<nint, nuint*, nint*>)Export("rd_kafka_mock_get_requests");
        public static readonly delegate* unmanaged<nint*, nuint, void> DestroyRequests = (delegate* unmanaged<nint*, nuint, void>)Export("rd_kafka_mock_request_destroy_array");
        public static readonly delegate* unmanaged<nint, int> RequestBrokerId = (delegate* unmanaged<nint, int>)Export("rd_kafka_mock_request_id");
        public static readonly delegate* unmanaged<nint, short> RequestApiKey = (delegate* unmanaged<nint, short>)Export("rd_kafka_mock_request_api_key");
        // Variadic in C (pairs of error and round trip after the count): one pair, passed as the fixed arguments it lands in.
        public static readonly delegate* unmanaged<nint, int, short, nuint, int, int, int> BrokerPushRequestErrorRtts = (delegate* unmanaged<nint, int, short, nuint, int, int, int>)Export("rd_kafka_mock_broker_push_request_error_rtts");
        public static readonly delegate* unmanaged<nint, short, nuint, int*, void> PushRequestErrorsArray = (delegate* unmanaged<nint, short, nuint, int*, void>)Export("rd_kafka_mock_push_request_errors_array");

        private static readonly delegate* unmanaged<nint, byte*, int, int, int> TopicCreateExport = (delegate* unmanaged<nint, byte*, int, int, int>)Export("rd_kafka_mock_topic_create");
        private static readonly delegate* unmanaged<nint, byte*, byte*, int, int> CoordSetExport = (delegate* unmanaged<nint, byte*, byte*, int, int>)Export("rd_kafka_mock_coordinator_set");
        private static readonly delegate* unmanaged<nint, byte*, int, int, int> PartitionSetLeaderExport = (delegate* unmanaged<nint, byte*, int, int, int>)Export("rd_kafka_mock_partition_set_leader");

        public static int TopicCreate(nint cluster, string topic, int partitions, int replicationFactor)
        {
            fixed (byte* name = Utf8(topic))
            {
                return TopicCreateExport(cluster, name, partitions, replicationFactor);
            }
        }

        public static int CoordSet(nint cluster, string keyType, string key, int brokerId)
        {
            fixed (byte* type = Utf8(keyType), name = Utf8(key))
            {
                return CoordSetExport(cluster, type, name, brokerId);
            }
        }

        public static int PartitionSetLeader(nint cluster, string topic, int partition, int brokerId)
        {
            fixed (byte* name = Utf8(topic))
            {
                return PartitionSetLeaderExport(cluster, name, partition, brokerId);
            }
        }

        public static void Set(nint conf, string name, string value)
        {
            var errors = stackalloc byte[512];
            fixed (byte* n = Utf8(name), v = Utf8(value))
            {
                if (ConfSet(conf, n, v, errors, 512) != 0 /* RD_KAFKA_CONF_OK */)
                {
                    throw new InvalidOperationException(Marshal.PtrToStringUTF8((nint)errors));
                }
            }
        }

        private static byte[] Utf8(string value) => System.Text.Encoding.UTF8.GetBytes(value + '\0');

        private static nint Export(string name) => NativeLibrary.GetExport(Library, name);

        private static nint Load()
        {
            var tried = new List<string>();
            foreach (var path in Candidates())
            {
                tried.Add(path);
                if (NativeLibrary.TryLoad(path, out var library) && NativeLibrary.TryGetExport(library, "rd_kafka_mock_cluster_new", out _))
                {
                    return library;
                }
            }

            throw new DllNotFoundException("No loadable librdkafka with the mock cluster was found. Tried: " + string.Join(", ", tried));
        }

        private static IEnumerable<string> Candidates()
        {
            var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
            var rid = $"{os}-{RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}";
            var folders = new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(IProducer<,>).Assembly.Location) ?? "" }
                .Where(f => f.Length > 0)
                .Distinct()
                .Select(f => Path.Combine(f, "runtimes", rid, "native"));
            string[] names = OperatingSystem.IsWindows() ? ["librdkafka.dll"]
                : OperatingSystem.IsMacOS() ? ["librdkafka.dylib"]
                : ["librdkafka.so", "centos8-librdkafka.so", "alpine-librdkafka.so"];
            return folders.SelectMany(folder => names.Select(name => Path.Combine(folder, name)));
        }
    }
}

/// <summary>A request a mock broker received.</summary>
public readonly record struct MockRequest(int BrokerId, KafkaApiKey ApiKey);

/// <summary>Kafka protocol request types, for <see cref="MockKafkaCluster.PushRequestErrors"/>.</summary>
public enum KafkaApiKey : short
{
    Produce = 0,
    Fetch = 1,
    ListOffsets = 2,
    Metadata = 3,
    OffsetCommit = 8,
    OffsetFetch = 9,
    FindCoordinator = 10,
    JoinGroup = 11,
    Heartbeat = 12,
    LeaveGroup = 13,
    SyncGroup = 14,
    InitProducerId = 22,
}
