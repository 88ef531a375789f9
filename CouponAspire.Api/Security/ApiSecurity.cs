using System.Globalization;
using System.Threading.RateLimiting;
using CouponAspire.Contracts.Security;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.RateLimiting;

namespace CouponAspire.Api.Security;

/// <summary>Who may call what, and how often.</summary>
internal static class ApiSecurity
{
    /// <summary>
    /// JWT bearer tokens with ASP.NET Core's standard handler, configured from <c>Authentication:Schemes:Bearer</c>
    /// (<see cref="BearerTokens.SettingsSection"/>: issuer, audiences, signing keys — what <c>dotnet user-jwts</c> writes in
    /// Development); the subject is the user id and the <c>role</c> claim carries <see cref="BearerTokens.AdminRole"/>.
    /// </summary>
    public static IServiceCollection AddApiSecurity(this IServiceCollection services)
    {
        services.AddAuthentication().AddJwtBearer(jwt =>
        {
            jwt.MapInboundClaims = false;
            jwt.TokenValidationParameters.NameClaimType = BearerTokens.SubjectClaim;
            jwt.TokenValidationParameters.RoleClaimType = BearerTokens.RoleClaim;
        });

        // The standard handler, remembering valid tokens briefly: a client sends the same token with every request.
        services.AddSingleton<CachingJsonWebTokenHandler>();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<CachingJsonWebTokenHandler>((jwt, handler) =>
        {
            handler.MapInboundClaims = false;
            jwt.TokenHandlers.Clear();
            jwt.TokenHandlers.Add(handler);
        });

        // The keys bound from configuration come as a lazy sequence that would read the configuration and build new key
        // objects for every request (and defeat the signature providers' cache): read them once.
        services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, jwt =>
            jwt.TokenValidationParameters.IssuerSigningKeys = jwt.TokenValidationParameters.IssuerSigningKeys?.ToList());
        services.AddAuthorizationBuilder()
            .AddPolicy(CallerIdentity.AdminPolicy, policy => policy.RequireRole(BearerTokens.AdminRole));

        // Per-user limits on the endpoints marked PerUserRateLimitAttribute, by the middleware's global limiter.
        services.AddSingleton<PerUserRateLimiter>();
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = OnRejectedAsync;
        });
        services.AddOptions<RateLimiterOptions>().Configure<PerUserRateLimiter>((limiter, perUser) => limiter.GlobalLimiter = perUser);
        return services;
    }

    private static async ValueTask OnRejectedAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var response = context.HttpContext.Response;
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        context.HttpContext.RequestServices.GetRequiredService<ApiMetrics>().Rejected("RateLimited");
        await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context.HttpContext,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = $"Too many coupon requests from this user; try again in {response.Headers.RetryAfter} s.",
            },
        });
    }
}
