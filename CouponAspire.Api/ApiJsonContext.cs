using System.Text.Json;
using System.Text.Json.Serialization;
using CouponAspire.Api.Coupons;
using CouponAspire.Api.Policies;
using CouponAspire.Api.Requests;

namespace CouponAspire.Api;

/// <summary>Serialization code for the HTTP contract, generated at build time rather than reflected on per type at run time.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CreatePolicyRequest))]
[JsonSerializable(typeof(PolicyResponse))]
[JsonSerializable(typeof(PolicyRemaining))]
[JsonSerializable(typeof(IssueCouponRequest))]
[JsonSerializable(typeof(CouponRequestAccepted))]
[JsonSerializable(typeof(CouponRequestStatus))]
[JsonSerializable(typeof(UserCoupon[]))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
