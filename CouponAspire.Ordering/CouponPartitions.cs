using System.Buffers.Binary;
using System.Text;
using CouponAspire.Contracts.Events;

namespace CouponAspire.Ordering;

/// <summary>
/// Which partition of <c>coupon-events</c> a policy's requests are on: what Kafka's default partitioner does with a
/// keyed message — murmur2 of the key, made positive, modulo the partitions — in the Java client and in librdkafka's
/// <c>murmur2</c> partitioners alike (the API publishes with <c>murmur2_random</c>). Lets a tool choose policies that
/// cover every partition before it sends anything.
/// </summary>
public static class CouponPartitions
{
    public static int Of(long policyId, int partitions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        return (int)((Murmur2(Encoding.UTF8.GetBytes(CouponTopics.KeyFor(policyId))) & 0x7fffffff) % (uint)partitions);
    }

    /// <summary>MurmurHash2, 32 bits, with the seed Kafka uses.</summary>
    private static uint Murmur2(ReadOnlySpan<byte> data)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        var h = 0x9747b28c ^ (uint)data.Length;
        var whole = data.Length & ~3;
        for (var i = 0; i < whole; i += 4)
        {
            var k = BinaryPrimitives.ReadUInt32LittleEndian(data[i..]) * m;
            k ^= k >> r;
            h = (h * m) ^ (k * m);
        }

        var tail = data[whole..];
        if (tail.Length > 0)
        {
            for (var i = tail.Length - 1; i >= 0; i--)
            {
                h ^= (uint)tail[i] << (8 * i);
            }

            h *= m;
        }

        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return h;
    }
}
