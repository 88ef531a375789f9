using System.Diagnostics;
using System.Net;

namespace CouponAspire.LoadGenerator;

/// <summary>What happened to each issue request, indexed like the plan; preallocated so that sending allocates little.</summary>
internal sealed class SaleRecording(int requests, int policies)
{
    /// <summary>The status of a request that got no HTTP answer.</summary>
    public const short NoAnswer = 0;

    public long[] LatencyTicks { get; } = new long[requests];
    public short[] Status { get; } = new short[requests];

    /// <summary>The id of an accepted request, or of a 503 whose outcome the API could not tell.</summary>
    public string?[] RequestIds { get; } = new string?[requests];

    /// <summary>An accepted request's outcome as its client learnt it (null: not decided by the deadline).</summary>
    public RequestStatusView?[] Results { get; } = new RequestStatusView?[requests];

    /// <summary>From sending the request to knowing its outcome, in <see cref="Stopwatch"/> ticks (0: not known).</summary>
    public long[] ClickToResultTicks { get; } = new long[requests];

    /// <summary>When the client learnt the outcome, by this machine's clock.</summary>
    public DateTimeOffset[] ResultAt { get; } = new DateTimeOffset[requests];

    /// <summary>The <c>reason</c> of a 409, or what went wrong when there was no answer.</summary>
    public string?[] Details { get; } = new string?[requests];

    /// <summary>Per policy, when the first 409 SoldOut came back (a <see cref="Stopwatch"/> timestamp; 0 if none).</summary>
    public long[] FirstSoldOutRefusal { get; } = new long[policies];

    /// <summary>Requests sent: the first this many of the plan (all of it, unless the time ran out first).</summary>
    public int Sent { get; set; }

    public DateTimeOffset StartedAt { get; set; }
    public long StartTimestamp { get; set; }
    public TimeSpan Duration { get; set; }

    /// <summary>CPU this process used while sending: tells whether the generator, not the API, set the pace.</summary>
    public TimeSpan ProcessorTime { get; set; }

    /// <summary>Answered 202, or 201 with its outcome when the client waited on the request itself.</summary>
    public bool IsAccepted(int index) => Status[index] is (short)HttpStatusCode.Accepted or (short)HttpStatusCode.Created && RequestIds[index] is not null;
}
