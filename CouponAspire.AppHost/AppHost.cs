using CouponAspire.AppHost;

var builder = DistributedApplication.CreateBuilder(args);
builder.AddCouponAspire();
builder.Build().Run();
