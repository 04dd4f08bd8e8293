using System.Globalization;

namespace BatchAspire.Bench;

/// <summary>
/// A headline figure of a benchmark beside the baseline measured in the same run. Printed as one tab-separated
/// line starting with <see cref="Marker"/>, so <c>scripts/bench.sh</c> can gather every benchmark's figures into
/// one table after their own, longer reports.
/// </summary>
internal static class BenchFigure
{
    public const string Marker = "bench-figure";

    /// <param name="benchmark">Which benchmark (issue 8 numbers them).</param>
    /// <param name="figure">What was measured, with its size.</param>
    /// <param name="measured">BatchAspire's figure, with its unit.</param>
    /// <param name="baseline">The baseline's figure from the same run, with its unit.</param>
    /// <param name="ratio">measured ÷ baseline, in the direction the goal states; null where the goal is an absolute bound.</param>
    /// <param name="goal">The goal, in words.</param>
    /// <param name="met">Whether the goal was met in this run; null for a figure given as context, with no goal.</param>
    public static void Print(string benchmark, string figure, string measured, string baseline, double? ratio, string goal, bool? met) =>
        Console.WriteLine(string.Join('\t', Marker, benchmark, figure, measured, baseline,
            ratio?.ToString("F2", CultureInfo.InvariantCulture) ?? "-", goal, met switch { true => "met", false => "not met", null => "-" }));
}
