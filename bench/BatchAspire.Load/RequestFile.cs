using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace BatchAspire.Load;

/// <summary>
/// The benchmark's input: one JSONL file of sentiment-classification chat requests, ids <c>req-{i}</c>. Every
/// user prompt is a distinct review (it ends with an order number made from the index), so no cache on either
/// side can answer one line from another; its words are picked by a hash of the index, so neighbouring lines
/// differ too and a run is repeatable.
/// </summary>
internal sealed record RequestFile(string Path, int Lines, long Bytes, IReadOnlyList<long> LineOffsets)
{
    private static readonly string[] Products =
    [
        "wireless headphones", "coffee maker", "running shoes", "laptop stand", "air fryer", "desk lamp", "backpack",
        "phone case", "electric kettle", "yoga mat", "bluetooth speaker", "office chair", "blender", "smart watch",
        "vacuum cleaner", "water bottle", "mechanical keyboard", "winter jacket", "camping tent", "toaster",
    ];

    private static readonly string[] Adjectives =
    [
        "new", "compact", "stainless steel", "budget", "premium", "lightweight", "black", "refurbished",
        "cordless", "oversized", "travel", "two-pack", "bamboo", "waterproof", "kids'", "foldable",
    ];

    // {0}: adjective and product, {1}: a small number.
    private static readonly string[] Openers =
    [
        "Bought the {0} {1} weeks ago.", "I have been using this {0} for {1} days now.", "My {0} arrived {1} days after ordering.",
        "Got the {0} as a gift, {1} months in.", "This {0} replaced one I had for {1} years.", "Took the {0} on {1} trips so far.",
    ];

    private static readonly string[] Verdicts =
    [
        "Honestly the best purchase I made this year, I love it.", "Works great, excellent quality for the price.",
        "Really happy with it, would recommend.", "Amazing value, easy to set up and reliable.",
        "Terrible quality, it broke within a week.", "Complete waste of money, I regret buying it.",
        "Very disappointed: it failed and the refund took ages.", "Flimsy and overpriced, avoid.",
        "It's okay, does the job but nothing special.", "Fine for the price, about what I expected.",
        "Average overall.", "It does what the listing says.",
    ];

    private static readonly string[] Details =
    [
        "Shipping was quick.", "The box was a bit dented.", "Setup took ten minutes.", "Battery life could be better.",
        "My kids use it every day.", "Darker than in the photos.", "Support replied the same day.", "The manual is too small.",
    ];

    // The relaxed encoder writes "It's" as a client would, not as "It\u0027s".
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The review of line <paramref name="index"/>: about 60 to 200 characters.</summary>
    public static string Review(int index)
    {
        var h = Mix((ulong)index);
        int Next(int choices)
        {
            var choice = (int)(h % (ulong)choices);
            h /= (ulong)choices;
            return choice;
        }
        var opener = Openers[Next(Openers.Length)];
        var item = $"{Adjectives[Next(Adjectives.Length)]} {Products[Next(Products.Length)]}";
        var review = new StringBuilder(256)
            .AppendFormat(CultureInfo.InvariantCulture, opener, item, 2 + Next(9))
            .Append(' ').Append(Verdicts[Next(Verdicts.Length)]);
        for (var details = Next(3); details > 0; details--)
        {
            review.Append(' ').Append(Details[Next(Details.Length)]);
        }
        return review.Append(CultureInfo.InvariantCulture, $" (order #{1_000_000 + index})").ToString();
    }

    public static async Task<RequestFile> CreateAsync(int lines)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"batchaspire-load-{Guid.NewGuid():N}.jsonl");
        var offsets = new List<long>(lines + 1);
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        var line = new StringBuilder(512);
        for (var i = 0; i < lines; i++)
        {
            offsets.Add(file.Position);
            line.Clear()
                .Append("{\"custom_id\":\"req-").Append(i)
                .Append("\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-5-nano\",\"messages\":[")
                .Append("{\"role\":\"system\",\"content\":\"Classify sentiment as: positive, negative, or neutral\"},")
                .Append("{\"role\":\"user\",\"content\":").Append(JsonSerializer.Serialize(Review(i), Json)).Append("}],\"max_tokens\":10}}\n");
            file.Write(Encoding.UTF8.GetBytes(line.ToString()));
        }
        offsets.Add(file.Position);
        return new RequestFile(path, lines, file.Position, offsets);
    }

    /// <summary>SplitMix64's finaliser: every bit of the index moves every word choice.</summary>
    private static ulong Mix(ulong x)
    {
        x = unchecked(x + 0x9E3779B97F4A7C15);
        x = unchecked((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9);
        x = unchecked((x ^ (x >> 27)) * 0x94D049BB133111EB);
        return x ^ (x >> 31);
    }

    /// <summary>A read-only view of lines [first, first + count).</summary>
    public Stream OpenLines(int first, int count)
    {
        var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        stream.Position = LineOffsets[first];
        return new RangeStream(stream, LineOffsets[first + count] - LineOffsets[first]);
    }

    private sealed class RangeStream(Stream inner, long length) : Stream
    {
        private long _read;
        private long Remaining => length - _read;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            if (Remaining <= 0) return 0;
            var read = inner.Read(buffer[..(int)Math.Min(buffer.Length, Remaining)]);
            _read += read;
            return read;
        }
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Remaining <= 0) return 0;
            var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, Remaining)], cancellationToken);
            _read += read;
            return read;
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
