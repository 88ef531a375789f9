namespace CouponAspire.Tests.Faults;

/// <summary>
/// The heavy fault tests run one at a time (beside the lighter tests of other collections), so that on two cores they
/// do not starve each other of the time their faults and recoveries need.
/// </summary>
[CollectionDefinition(Name)]
public sealed class FaultCollection
{
    public const string Name = "Faults";
}
