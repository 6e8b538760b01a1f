package dev.fathom.text;

import java.util.HashMap;
import java.util.Map;

/**
 * The notes' n-gram language model, P(w_t | w_{t-n+1} .. w_{t-1}), counted over token indices for
 * n = 1 .. order (order <= 3), as the baseline for the recurrent models. Smoothing:
 * <ul>
 *   <li>add-k: P(w | h) = (c(h w) + k) / (c(h .) + k V), c(h .) = sum over w' of c(h w'); an unseen
 *   history gives the uniform 1/V;</li>
 *   <li>interpolated: P(w | h) = sum_n lambda_n P_n(w | last n-1 tokens of h), each P_n add-k.</li>
 * </ul>
 * Perplexity = exp(-mean log P) over every token of the held-out sequence that has order-1 tokens
 * of history inside it, so all orders are compared on the same tokens.
 *
 * <pre>{@code
 * NGramModel ngram = NGramModel.count(trainIds, 3, vocab.size());
 * double ppl = ngram.perplexity(heldOutIds, 2, 1.0);   // add-one bigram
 * }</pre>
 */
public final class NGramModel {
  private final int order;
  private final int vocabSize;
  /** counts.get(n - 1): n-gram (packed base V) -> count; contexts.get(n - 1): history -> c(h .). */
  private final java.util.List<Map<Long, Long>> counts = new java.util.ArrayList<>();
  private final java.util.List<Map<Long, Long>> contexts = new java.util.ArrayList<>();
  private final long tokens;

  private NGramModel(int[] corpus, int order, int vocabSize) {
    if (order < 1 || order > 3) {
      throw new IllegalArgumentException("NGramModel: order=" + order + " must be 1, 2 or 3");
    }
    if (vocabSize < 1 || Math.pow(vocabSize, order) >= Long.MAX_VALUE) {
      throw new IllegalArgumentException("NGramModel: vocabSize=" + vocabSize + " is out of range for order " + order);
    }
    this.order = order;
    this.vocabSize = vocabSize;
    this.tokens = corpus.length;
    for (int v : corpus) {
      if (v < 0 || v >= vocabSize) {
        throw new IllegalArgumentException("NGramModel: token " + v + " outside [0, " + vocabSize + ")");
      }
    }
    for (int n = 1; n <= order; n++) {
      Map<Long, Long> c = new HashMap<>();
      Map<Long, Long> h = new HashMap<>();
      for (int i = n - 1; i < corpus.length; i++) {
        long history = pack(corpus, i - n + 1, n - 1);
        c.merge(history * vocabSize + corpus[i], 1L, Long::sum);
        h.merge(history, 1L, Long::sum);
      }
      counts.add(c);
      contexts.add(h);
    }
  }

  /** Counts every n-gram of `corpus` for n = 1 .. order; tokens must lie in [0, vocabSize). */
  public static NGramModel count(int[] corpus, int order, int vocabSize) {
    return new NGramModel(corpus, order, vocabSize);
  }

  public int order() {
    return order;
  }

  /** How often the n-gram `gram` (length 1 .. order) occurs in the counted corpus. */
  public long count(int... gram) {
    if (gram.length < 1 || gram.length > order) {
      throw new IllegalArgumentException("NGramModel: n-gram length " + gram.length + " outside [1, " + order + "]");
    }
    return counts.get(gram.length - 1).getOrDefault(pack(gram, 0, gram.length), 0L);
  }

  /** Add-k P(token | history) with history = the last n-1 tokens before position `at` of `seq`. */
  public double probability(int[] seq, int at, int n, double k) {
    if (n < 1 || n > order || at < n - 1 || at >= seq.length) {
      throw new IllegalArgumentException("NGramModel: cannot score position " + at + " of " + seq.length
          + " tokens with an n-gram of n=" + n + " (order " + order + ")");
    }
    if (!(k > 0) || Double.isInfinite(k)) {
      throw new IllegalArgumentException("NGramModel: k=" + k + " must be > 0 (add-k smoothing)");
    }
    int token = seq[at];
    if (token < 0 || token >= vocabSize) {
      throw new IllegalArgumentException("NGramModel: token " + token + " outside [0, " + vocabSize + ")");
    }
    long history = pack(seq, at - n + 1, n - 1);
    long joint = counts.get(n - 1).getOrDefault(history * vocabSize + token, 0L);
    long context = contexts.get(n - 1).getOrDefault(history, 0L);
    return (joint + k) / (context + k * vocabSize);
  }

  /** Perplexity of `heldOut` under the add-k n-gram of order n. */
  public double perplexity(int[] heldOut, int n, double k) {
    double[] lambdas = new double[n];
    lambdas[n - 1] = 1;
    return interpolatedPerplexity(heldOut, lambdas, k);
  }

  /** Perplexity with P = sum_n lambdas[n-1] P_n (add-k each); lambdas are non-negative and sum to 1. */
  public double interpolatedPerplexity(int[] heldOut, double[] lambdas, double k) {
    if (lambdas.length < 1 || lambdas.length > order) {
      throw new IllegalArgumentException("NGramModel: " + lambdas.length + " weights for a model of order " + order);
    }
    double sum = 0;
    for (double l : lambdas) {
      if (!(l >= 0)) {
        throw new IllegalArgumentException("NGramModel: interpolation weights must be >= 0");
      }
      sum += l;
    }
    if (Math.abs(sum - 1) > 1e-9) {
      throw new IllegalArgumentException("NGramModel: interpolation weights sum to " + sum + ", not 1");
    }
    if (heldOut.length < order) {
      throw new IllegalArgumentException("NGramModel: held-out text of " + heldOut.length
          + " tokens has nothing to score with order " + order);
    }
    double logSum = 0;
    for (int i = order - 1; i < heldOut.length; i++) {
      double p = 0;
      for (int n = 1; n <= lambdas.length; n++) {
        if (lambdas[n - 1] > 0) {
          p += lambdas[n - 1] * probability(heldOut, i, n, k);
        }
      }
      logSum += Math.log(p);
    }
    return Math.exp(-logSum / (heldOut.length - order + 1));
  }

  /** Tokens counted. */
  public long tokens() {
    return tokens;
  }

  private long pack(int[] seq, int from, int length) {
    long key = 0;
    for (int i = from; i < from + length; i++) {
      key = key * vocabSize + seq[i];
    }
    return key;
  }
}
