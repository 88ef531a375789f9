using System.Globalization;
using CouponAspire.AppHost;
using Microsoft.Extensions.Configuration;

var builder = DistributedApplication.CreateBuilder(args);

// Demo settings: appsettings.json, the command line (-- --ConsumerReplicas=5) or environment variables.
var consumerReplicas = builder.Configuration.GetValue("ConsumerReplicas", 3);
var partitions = builder.Configuration.GetValue("Partitions", 12).ToString(CultureInfo.InvariantCulture);
var issuanceStrategy = builder.Configuration.GetValue("IssuanceStrategy", "Batched");

var kafka = builder.AddKafka("kafka")
    .WithKafkaUI();

var postgres = builder.AddPostgres("postgres")
    .WithPgWeb();
var couponDb = postgres.AddDatabase("coupondb");

// Signs the bearer tokens the API accepts and the load generator mints. Generated on the first run and kept in the
// AppHost's user secrets; 44 letters and digits are valid base64 (33 bytes, enough for HS256). Secret, so a published
// manifest says only how to generate it, never a value.
var tokenSigningKey = builder.AddParameter(
    "token-signing-key",
    new GenerateParameterDefault { MinLength = 44, Special = false },
    secret: true,
    persist: true);

var api = builder.AddProject<Projects.CouponAspire_Api>("api")
    .WithReference(kafka).WaitFor(kafka)
    .WithReference(couponDb).WaitFor(couponDb)
    .WithEnvironment("CouponEvents__Partitions", partitions)
    .WithBearerTokenSettings(tokenSigningKey)
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.CouponAspire_Consumer>("consumer")
    .WithReference(kafka).WaitFor(kafka)
    .WithReference(couponDb).WaitFor(couponDb)
    .WithEnvironment("CouponEvents__Partitions", partitions)
    .WithEnvironment("Issuance__Strategy", issuanceStrategy)
    // A stopped replica's partitions move to the others after 10 s instead of Kafka's default 45 s.
    .WithEnvironment("Aspire__Confluent__Kafka__Consumer__Config__SessionTimeoutMs", "10000")
    .WithReplicas(consumerReplicas)
    .WithHttpHealthCheck("/health");

// A demo tool, started from the dashboard and never deployed.
builder.AddProject<Projects.CouponAspire_LoadGenerator>("loadgen")
    .WithReference(api).WaitFor(api)
    .WithBearerTokenSettings(tokenSigningKey)
    .WithExplicitStart()
    .ExcludeFromManifest();

builder.Build().Run();
