using System.Collections.Concurrent;

namespace CouponAspire.Api.Decisions;

/// <summary>
/// A value shared by everyone interested in a key, kept while at least one of them is: the clients waiting for one
/// request's decision, the sale pages watching one policy. Bounded by the interest, not by the traffic.
/// </summary>
internal sealed class SharedByKey<TKey, TValue>(Func<TValue> create) where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Entry> _entries = new();

    public int Count => _entries.Count;

    /// <summary>Joins those interested in <paramref name="key"/>; disposing the lease leaves.</summary>
    public Lease Join(TKey key)
    {
        while (true)
        {
            var entry = _entries.GetOrAdd(key, static (_, create) => new Entry(create()), create);
            if (entry.TryJoin())
            {
                return new Lease(this, key, entry);
            }
        }
    }

    /// <summary>The value of a key someone is interested in.</summary>
    public bool TryGet(TKey key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out TValue value)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            value = entry.Value;
            return true;
        }

        value = default;
        return false;
    }

    private void Leave(TKey key, Entry entry)
    {
        if (entry.Leave())
        {
            _entries.TryRemove(new KeyValuePair<TKey, Entry>(key, entry));
        }
    }

    public sealed class Lease(SharedByKey<TKey, TValue> owner, TKey key, Entry entry) : IDisposable
    {
        private int _disposed;

        public TValue Value => entry.Value;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Leave(key, entry);
            }
        }
    }

    public sealed class Entry(TValue value)
    {
        private readonly Lock _lock = new();
        private int _count;
        private bool _gone;

        public TValue Value { get; } = value;

        public bool TryJoin()
        {
            lock (_lock)
            {
                if (_gone)
                {
                    return false;
                }

                _count++;
                return true;
            }
        }

        /// <summary>True when the last one left: the entry is gone, and a new one is made for whoever comes next.</summary>
        public bool Leave()
        {
            lock (_lock)
            {
                _gone = --_count == 0;
                return _gone;
            }
        }
    }
}
