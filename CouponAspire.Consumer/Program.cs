using CouponAspire.Consumer;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddCouponConsumerServices();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
