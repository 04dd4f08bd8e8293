using System.Collections.Frozen;

namespace BatchAspire.Sandbox.Executors;

/// <summary>
/// A small lexicon classifier: word scores, negation (a negated word counts half, reversed) and a
/// dead zone, so "It's okay, nothing special." stays neutral while "would not recommend" is negative.
/// </summary>
public static class SentimentLexicon
{
    private static readonly FrozenDictionary<string, double> Scores = new Dictionary<string, double>
    {
        // positive
        ["love"] = 3, ["loved"] = 3, ["loves"] = 3, ["amazing"] = 3, ["awesome"] = 3, ["excellent"] = 3, ["fantastic"] = 3,
        ["best"] = 3, ["perfect"] = 3, ["outstanding"] = 3, ["wonderful"] = 3, ["brilliant"] = 3, ["superb"] = 3,
        ["incredible"] = 3, ["delighted"] = 3, ["flawless"] = 3, ["exceptional"] = 3, ["masterpiece"] = 3,
        ["great"] = 2, ["good"] = 2, ["happy"] = 2, ["recommend"] = 2, ["recommended"] = 2, ["like"] = 1, ["liked"] = 2,
        ["nice"] = 2, ["pleased"] = 2, ["enjoy"] = 2, ["enjoyed"] = 2, ["beautiful"] = 2, ["impressive"] = 2, ["satisfied"] = 2,
        ["reliable"] = 2, ["helpful"] = 2, ["friendly"] = 2, ["fast"] = 1, ["quick"] = 1, ["easy"] = 1, ["worth"] = 2,
        ["glad"] = 2, ["favorite"] = 2, ["favourite"] = 2, ["thanks"] = 1, ["thank"] = 1, ["fun"] = 2, ["solid"] = 1,
        ["special"] = 1, ["smooth"] = 1, ["comfortable"] = 2, ["affordable"] = 1, ["win"] = 2, ["works"] = 1, ["better"] = 1,
        ["cool"] = 1, ["lovely"] = 3, ["gorgeous"] = 3, ["superior"] = 2, ["quality"] = 1,
        // negative
        ["terrible"] = -3, ["awful"] = -3, ["horrible"] = -3, ["worst"] = -3, ["hate"] = -3, ["hated"] = -3, ["disgusting"] = -3,
        ["useless"] = -3, ["garbage"] = -3, ["trash"] = -3, ["scam"] = -3, ["pathetic"] = -3, ["atrocious"] = -3,
        ["bad"] = -2, ["poor"] = -2, ["waste"] = -2, ["wasted"] = -2, ["disappointing"] = -2, ["disappointed"] = -2,
        ["broken"] = -2, ["broke"] = -2, ["slow"] = -1, ["rude"] = -2, ["refund"] = -1, ["annoying"] = -2, ["angry"] = -2,
        ["sad"] = -2, ["boring"] = -2, ["cheap"] = -1, ["overpriced"] = -2, ["defective"] = -2, ["faulty"] = -2,
        ["fail"] = -2, ["failed"] = -2, ["fails"] = -2, ["problem"] = -1, ["problems"] = -1, ["issue"] = -1, ["issues"] = -1,
        ["unhappy"] = -2, ["mediocre"] = -1, ["worse"] = -2, ["regret"] = -2, ["avoid"] = -2,
        ["complaint"] = -2, ["hard"] = -1, ["difficult"] = -1, ["ugly"] = -2, ["lousy"] = -2, ["flimsy"] = -2, ["unusable"] = -3,
        // neutral markers (scored 0, listed so they are recognised)
        ["okay"] = 0, ["ok"] = 0, ["fine"] = 0, ["average"] = 0, ["decent"] = 0.5, ["meh"] = 0, ["alright"] = 0,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenSet<string> Negators = new[]
    {
        "not", "no", "never", "nothing", "none", "neither", "nor", "hardly", "barely", "without", "cannot", "cant",
        "dont", "doesnt", "didnt", "isnt", "wasnt", "wont", "wouldnt", "shouldnt", "couldnt", "arent", "aint",
    }.ToFrozenSet(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, double>.AlternateLookup<ReadOnlySpan<char>> ScoreLookup =
        Scores.GetAlternateLookup<ReadOnlySpan<char>>();

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> NegatorLookup =
        Negators.GetAlternateLookup<ReadOnlySpan<char>>();

    public static string Classify(ReadOnlySpan<char> text)
    {
        double score = 0;
        var negateWithin = 0;   // words left that a recent negator still applies to
        Span<char> word = stackalloc char[32];
        var i = 0;
        while (i < text.Length)
        {
            if (!char.IsLetter(text[i]))
            {
                if (text[i] is '.' or '!' or '?' or ',' or ';') negateWithin = 0;
                i++;
                continue;
            }
            var length = 0;
            while (i < text.Length && (char.IsLetter(text[i]) || text[i] is '\'' or '’'))
            {
                if (char.IsLetter(text[i]) && length < word.Length) word[length++] = char.ToLowerInvariant(text[i]);
                i++;
            }
            var w = word[..length];
            if (NegatorLookup.Contains(w))
            {
                negateWithin = 3;
                continue;
            }
            if (ScoreLookup.TryGetValue(w, out var value))
            {
                score += negateWithin > 0 ? -0.5 * value : value;
            }
            if (negateWithin > 0) negateWithin--;
        }
        return score >= 1 ? "positive" : score <= -1 ? "negative" : "neutral";
    }
}
