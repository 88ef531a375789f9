namespace CouponAspire.Consumer.Issuance;

/// <summary>Options of the <c>Issuance</c> configuration section.</summary>
public sealed class IssuanceOptions
{
    public const string SectionName = "Issuance";

    /// <summary><c>Issuance:Strategy</c>: <see cref="IssuanceStrategy.Batched"/> (default) or <see cref="IssuanceStrategy.PerMessage"/>.</summary>
    public IssuanceStrategy Strategy { get; set; } = IssuanceStrategy.Batched;
}
