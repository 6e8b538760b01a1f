package dev.fathom.text;

import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Continues a prefix with a trained {@link CharLanguageModel} (d2l predict_ch8): the prefix warms
 * up the state, then each step feeds the last token and picks the next one, greedily (temperature
 * 0: the most likely token) or by sampling from softmax(logits / temperature) with a seeded
 * generator. The unknown token {@code <unk>} is never produced.
 *
 * <pre>{@code
 * String text = TextGenerator.generate(model, vocab, Tokenizer.CHAR, "time traveller", 50, 0, 0);
 * }</pre>
 */
public final class TextGenerator {
  private TextGenerator() {}

  /** The prefix followed by `length` generated tokens, joined by the tokenizer. */
  public static String generate(CharLanguageModel model, Vocab vocab, Tokenizer tokenizer, String prefix,
      int length, double temperature, long seed) {
    if (vocab.size() != model.config().vocabSize()) {
      throw new IllegalArgumentException("generate: vocabulary of " + vocab.size() + " tokens does not fit a model of "
          + model.config().vocabSize());
    }
    if (length < 0 || !(temperature >= 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("generate: length=" + length + " must be >= 0 and temperature="
          + temperature + " finite and >= 0");
    }
    List<String> tokens = new ArrayList<>(tokenizer.tokenize(prefix));
    if (tokens.isEmpty()) {
      throw new IllegalArgumentException("generate: the prefix must contain at least one token");
    }
    SplittableRandom rng = new SplittableRandom(seed);
    boolean wasTraining = model.isTraining();
    model.eval();
    try (GradMode.Guard g = GradMode.disable(); Scope outer = Scope.open()) {
      int[] ids = vocab.indices(tokens);
      long[] prefixIds = new long[ids.length];
      for (int i = 0; i < ids.length; i++) {
        prefixIds[i] = ids[i];
      }
      CharLanguageModel.Output out = model.forward(Tensor.fromArray(prefixIds, 1, ids.length), null);
      double[] logits = lastRow(out.logits());
      CharLanguageModel.State state = out.state();
      for (int i = 0; i < length; i++) {
        int next = pick(logits, temperature, rng, vocab.unk());
        tokens.add(vocab.token(next));
        if (i == length - 1) {
          break;
        }
        try (Scope step = Scope.open()) {
          out = model.forward(Tensor.fromArray(new long[] {next}, 1, 1), state);
          logits = lastRow(out.logits());
          state = new CharLanguageModel.State(step.keep(out.state().h()),
              out.state().c() == null ? null : step.keep(out.state().c()));
        }
      }
    } finally {
      model.train(wasTraining);
    }
    return tokenizer.join(tokens);
  }

  private static double[] lastRow(Tensor logits) {
    long v = logits.size(1);
    return logits.narrow(0, logits.size(0) - 1, 1).reshape(v).toDoubleArray();
  }

  /** Argmax (temperature 0) or a draw from softmax(logits / temperature), skipping `banned`. */
  static int pick(double[] logits, double temperature, SplittableRandom rng, int banned) {
    int best = -1;
    for (int i = 0; i < logits.length; i++) {
      if (i != banned && (best < 0 || logits[i] > logits[best])) {
        best = i;
      }
    }
    if (temperature == 0) {
      return best;
    }
    double[] p = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      p[i] = i == banned ? 0 : Math.exp((logits[i] - logits[best]) / temperature);   // max subtracted: no overflow
      sum += p[i];
    }
    double u = rng.nextDouble() * sum;
    for (int i = 0; i < p.length; i++) {
      u -= p[i];
      if (u < 0 && p[i] > 0) {
        return i;
      }
    }
    return best;   // rounding left u >= 0
  }
}
