using System.Globalization;
using CouponAspire.Ordering;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CouponAspire.AppHost.Infrastructure;

/// <summary>
/// "Audit ordering" on the <c>kafka</c> resource, in the dashboard and as <c>aspire resource kafka audit-ordering</c>:
/// every policy decided so far judged against its partition of <c>coupon-events</c> and the stored outcomes
/// (<see cref="OrderingAudit"/>). The command answers with one line — policies, requests, violations — and writes the
/// table, a row per policy, to the resource's console.
/// </summary>
internal static class OrderingAuditCommand
{
    public const string Name = "audit-ordering";

    public static IResourceBuilder<IResourceWithConnectionString> WithOrderingAudit(
        this IResourceBuilder<IResourceWithConnectionString> kafka, IResourceBuilder<IResourceWithConnectionString> database) =>
        kafka.WithCommand(
            Name,
            "Audit ordering",
            context => AuditAsync(context, kafka.Resource, database.Resource),
            new CommandOptions
            {
                Description = "Judge every policy decided so far against its partition's log and the stored outcomes: first come, first served.",
                IconName = "CheckmarkStarburst",
                UpdateState = state => state.ResourceSnapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy
                    ? ResourceCommandState.Enabled
                    : ResourceCommandState.Disabled,
            });

    private static async Task<ExecuteCommandResult> AuditAsync(ExecuteCommandContext context, IResourceWithConnectionString kafka, IResourceWithConnectionString database)
    {
        var logger = context.Services.GetRequiredService<ResourceLoggerService>().GetLogger(kafka);
        try
        {
            var bootstrapServers = await kafka.ConnectionStringExpression.GetValueAsync(context.CancellationToken)
                                   ?? throw new InvalidOperationException("Kafka has no connection string yet.");
            var connectionString = await database.ConnectionStringExpression.GetValueAsync(context.CancellationToken)
                                   ?? throw new InvalidOperationException("The database has no connection string yet.");
            await using var dataSource = NpgsqlDataSource.Create(connectionString);

            // The log is read with a blocking Kafka client: off the orchestrator's threads.
            var report = await Task.Run(() => OrderingAudit.RunAsync(dataSource, bootstrapServers, context.CancellationToken), context.CancellationToken);
            Log(logger, report);
            var summary = $"Ordering audit: {report.Summary}";
            return report.Held ? CommandResults.Success(summary, summary, CommandResultFormat.Text) : CommandResults.Failure(summary);
        }
        catch (Exception e) when (e is NpgsqlException or Confluent.Kafka.KafkaException or TimeoutException or InvalidOperationException)
        {
            logger.LogError(e, "The ordering audit could not run");
            return CommandResults.Failure($"The ordering audit could not run: {e.Message}");
        }
    }

    private static void Log(ILogger logger, OrderingAuditReport report)
    {
        logger.LogInformation("Ordering audit: {Summary}", report.Summary);
        logger.LogInformation("{Header}", Row("policy", "partition", "in log", "decided", "issued", "verdict"));
        foreach (var policy in report.Policies)
        {
            var row = Row(
                Number(policy.PolicyId),
                policy.Partition is { } partition ? Number(partition) : "-",
                Number(policy.RequestsInLog),
                Number(policy.Decided),
                $"{Number(policy.Issued)}/{Number(policy.TotalQuantity)}",
                policy.Ok ? "ok" : "VIOLATED");
            if (policy.Ok)
            {
                logger.LogInformation("{Row}", row);
            }
            else
            {
                logger.LogWarning("{Row} {Violations}", row, policy.Detail);
            }
        }
    }

    private static string Row(string policy, string partition, string inLog, string decided, string issued, string verdict) =>
        $"{policy,8} {partition,9} {inLog,9} {decided,9} {issued,17}  {verdict}";

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
