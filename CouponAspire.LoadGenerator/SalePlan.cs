namespace CouponAspire.LoadGenerator;

/// <summary>
/// Who clicks when. Every user asks once (as far as the requests go); the requests left over are repeated clicks of a
/// fifth of the users, shared out evenly (a few eager users, not one user hammering); then the whole sequence is
/// shuffled. User <c>u</c> (an index, 0-based) asks for policy <c>u % policies</c>.
/// </summary>
internal sealed class SalePlan
{
    /// <summary>The share of users who click more than once when there are more requests than users.</summary>
    private const double RepeaterShare = 0.2;

    private SalePlan(int[] userOfRequest, int users, int policies)
    {
        UserOfRequest = userOfRequest;
        Users = users;
        Policies = policies;
    }

    /// <summary>The user index of each request, in sending order.</summary>
    public int[] UserOfRequest { get; }

    /// <summary>Users who send at least one request.</summary>
    public int Users { get; }

    public int Policies { get; }

    public int Requests => UserOfRequest.Length;

    public int PolicyOf(int user) => user % Policies;

    public static SalePlan Create(int requests, int users, int policies, int seed)
    {
        var random = new Random(seed);
        var active = Math.Min(users, requests);
        var order = new int[requests];
        for (var i = 0; i < active; i++)
        {
            order[i] = i;
        }

        var repeaters = Enumerable.Range(0, active).ToArray();
        random.Shuffle(repeaters);
        var repeaterCount = Math.Max(1, (int)(active * RepeaterShare));
        for (var i = active; i < requests; i++)
        {
            order[i] = repeaters[(i - active) % repeaterCount];
        }

        random.Shuffle(order);
        return new SalePlan(order, active, policies);
    }
}
