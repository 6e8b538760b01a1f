package dev.fathom.text;

import dev.fathom.nn.Embedding;
import dev.fathom.nn.GRU;
import dev.fathom.nn.LSTM;
import dev.fathom.nn.Linear;
import dev.fathom.nn.Module;
import dev.fathom.nn.RNN;
import dev.fathom.nn.RNNBase;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.RnnResult;
import dev.fathom.tensor.Tensor;
import java.util.Arrays;
import java.util.Locale;

/**
 * A token-level recurrent language model, d2l's RNNModel (train_charlm.py): token indices ->
 * one-hot vectors (or a learned {@link Embedding}) -> RNN, GRU or LSTM -> Linear to vocabulary
 * logits at every step. Children are named "rnn", "linear" (and "embedding"), so the state dict
 * uses PyTorch's names (rnn.weight_ih_l0, linear.weight, ...).
 *
 * <pre>{@code
 * CharLanguageModel lm = new CharLanguageModel(new CharLanguageModel.Config(Cell.LSTM, vocab.size(), 256, 1, 0, false), gen);
 * CharLanguageModel.Output out = lm.forward(x, null);   // x int64 (N, T) -> logits (T*N, V), final state
 * }</pre>
 */
public final class CharLanguageModel extends Module {
  /** The recurrent cell. */
  public enum Cell {
    RNN, GRU, LSTM;

    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Cell of(String id) {
      for (Cell c : values()) {
        if (c.id().equals(id)) {
          return c;
        }
      }
      throw new IllegalArgumentException("cell must be rnn, gru or lstm, got '" + id + "'");
    }
  }

  /**
   * Architecture. embeddingDim 0 feeds one-hot vectors (d2l, train_charlm.py); gruPytorch selects
   * torch.nn.GRU's cell instead of the notes' (GRU only).
   */
  public record Config(Cell cell, int vocabSize, int hidden, int layers, int embeddingDim, boolean gruPytorch) {
    public Config {
      if (cell == null || vocabSize < 2 || hidden < 1 || layers < 1 || embeddingDim < 0) {
        throw new IllegalArgumentException("CharLanguageModel: invalid config cell=" + cell + " vocabSize="
            + vocabSize + " hidden=" + hidden + " layers=" + layers + " embeddingDim=" + embeddingDim);
      }
      if (gruPytorch && cell != Cell.GRU) {
        throw new IllegalArgumentException("CharLanguageModel: gruPytorch applies to the GRU cell only");
      }
    }
  }

  /** Hidden state (layers, N, H) and, for LSTM, cell state; carried between calls. */
  public record State(Tensor h, Tensor c) implements AutoCloseable {
    /** The same values cut from the graph (truncated BPTT), owned by the caller (no scope). */
    public State detach() {
      return new State(h.detach().unscope(), c == null ? null : c.detach().unscope());
    }

    @Override
    public void close() {
      h.close();
      if (c != null) {
        c.close();
      }
    }
  }

  /** Logits (T*N, V), time-major rows (row t*N + n), and the final state. */
  public record Output(Tensor logits, State state) {}

  private final Config config;
  private final Embedding embedding;
  private final RNNBase rnn;
  private final Linear linear;

  public CharLanguageModel(Config config, Generator gen) {
    this.config = config;
    long in = config.embeddingDim() == 0 ? config.vocabSize() : config.embeddingDim();
    this.embedding = config.embeddingDim() == 0 ? null
        : registerModule("embedding", new Embedding(config.vocabSize(), config.embeddingDim(), gen));
    this.rnn = registerModule("rnn", switch (config.cell()) {
      case RNN -> RNN.builder(in, config.hidden()).numLayers(config.layers()).generator(gen).build();
      case GRU -> {
        GRU.Builder b = GRU.builder(in, config.hidden()).numLayers(config.layers()).generator(gen);
        yield (config.gruPytorch() ? b.pytorchCompatible() : b).build();
      }
      case LSTM -> LSTM.builder(in, config.hidden()).numLayers(config.layers()).generator(gen).build();
    });
    this.linear = registerModule("linear", new Linear(config.hidden(), config.vocabSize(), true, gen));
  }

  public Config config() {
    return config;
  }

  /** Logits for int64 tokens (N, T) from a zero state. */
  @Override
  public Tensor forward(Tensor tokens) {
    Output out = forward(tokens, null);
    out.state().close();
    return out.logits();
  }

  /** Logits for tokens (N, T) int64 starting from `state` (null: zeros), and the state after the last step. */
  public Output forward(Tensor tokens, State state) {
    if (tokens.dim() != 2 || tokens.dtype() != DType.INT64) {
      throw new IllegalArgumentException("CharLanguageModel: tokens must be int64 (N, T), got "
          + Arrays.toString(tokens.shape()) + " " + tokens.dtype());
    }
    Tensor timeMajor = tokens.t();   // (T, N)
    DType type = linear.weight().dtype();
    Tensor x;
    if (embedding == null) {
      try {
        x = Tensor.oneHot(timeMajor, config.vocabSize()).to(type);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("CharLanguageModel: a token lies outside the vocabulary of "
            + config.vocabSize() + ": " + e.getMessage(), e);
      }
    } else {
      x = embedding.forward(timeMajor);
    }
    RnnResult r = rnn.forward(x, state == null ? null : state.h(), state == null ? null : state.c());
    long steps = tokens.size(1) * tokens.size(0);
    Tensor logits = linear.forward(r.output().reshape(steps, config.hidden()));
    return new Output(logits, new State(r.hn(), r.cn()));
  }

  @Override
  protected String extraRepr() {
    return "cell=" + config.cell().id() + ", vocab=" + config.vocabSize() + ", hidden=" + config.hidden()
        + (config.embeddingDim() == 0 ? ", one-hot input" : ", embedding=" + config.embeddingDim());
  }
}
