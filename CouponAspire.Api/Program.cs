using CouponAspire.Api;
using CouponAspire.Api.Coupons;
using CouponAspire.Api.Policies;
using CouponAspire.Api.Requests;
using Scalar.AspNetCore;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddCouponApiServices();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();

app.MapOpenApi();
if (app.Environment.IsDevelopment())
{
    app.MapScalarApiReference();
}

app.MapCouponPoliciesApi();
app.MapCouponRequestsApi();
app.MapUserCouponsApi();
app.MapDefaultEndpoints();

app.Run();
