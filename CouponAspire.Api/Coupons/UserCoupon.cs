namespace CouponAspire.Api.Coupons;

/// <summary>A coupon a user holds.</summary>
public sealed record UserCoupon(long CouponId, long PolicyId, string PolicyName, long UserId, string RequestId, DateTimeOffset IssuedAt);
