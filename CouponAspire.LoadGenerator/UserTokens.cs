using CouponAspire.LocalInfrastructure;

namespace CouponAspire.LoadGenerator;

/// <summary>
/// Each user's own bearer token, minted the first time the user sends a request and kept for their next click: a sale
/// of a quarter of a million users does not wait for a quarter of a million tokens before its first request, and
/// minting one costs a few microseconds (<see cref="UserTokenMinter"/>).
/// </summary>
internal sealed class UserTokens(DevelopmentTokens tokens, long firstUserId, int users)
{
    private readonly UserTokenMinter _minter = tokens.UserMinter();
    private readonly string?[] _authorizations = new string?[users];

    public long UserId(int user) => firstUserId + user;

    /// <summary>The <c>Authorization</c> header of a user (an index of the plan). Two workers minting one user's token at once each mint a valid one.</summary>
    public string AuthorizationOf(int user) => _authorizations[user] ??= "Bearer " + _minter.ForUser(UserId(user));
}
