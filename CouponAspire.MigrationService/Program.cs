using CouponAspire.Data;
using CouponAspire.MigrationService;

var builder = Host.CreateApplicationBuilder(args);

builder.AddServiceDefaults();
builder.AddCouponDatabase();
builder.Services.AddHostedService<DatabaseMigrator>();

builder.Build().Run();
