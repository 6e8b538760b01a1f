package dev.fathom.bench;

import dev.fathom.Fathom;
import dev.fathom.optim.SGD;
import dev.fathom.tensor.Generator;
import dev.fathom.text.CharLanguageModel;
import dev.fathom.text.LanguageModelTrainer;
import dev.fathom.text.SequenceSampler;
import dev.fathom.text.TextCorpus;
import dev.fathom.text.Tokenizer;
import dev.fathom.text.Vocab;
import dev.fathom.train.TrainListener;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Character language-model training throughput, measured the way
 * ../shared/bench/pytorch/train_charlm.py does: one-hot input, one recurrent
 * layer of 256, a linear head, batch 32 x 35 steps, sequential partitioning
 * with the state carried and detached, SGD lr 1, clipping to norm 1;
 * tokens/s = 32 * 35 / median iteration after 5 warm-up iterations. It runs
 * the library's own {@link LanguageModelTrainer}; an iteration is the time
 * between two batch ends (sampling a batch of indices is included; it is a
 * 32 x 35 int copy).
 */
public final class CharLmBenchmark {
  private CharLmBenchmark() {}

  /** Cells measured: PyTorch's three, with GRU in torch.nn.GRU's form, plus the notes' GRU. */
  public static final List<String> CELLS = List.of("rnn", "gru", "lstm", "gru-notes");

  public static void run(Path corpus, List<String> cells, int epochs, PrintStream out) {
    List<String> tokens = Tokenizer.CHAR.tokenize(TextCorpus.read(corpus));
    Vocab vocab = Vocab.build(tokens, 1, List.of());
    int[] ids = vocab.indices(tokens);
    int batch = 32;
    int steps = 35;
    for (String cell : cells) {
      if (!CELLS.contains(cell)) {
        throw new IllegalArgumentException("bench charlm: unknown cell '" + cell + "' (one of " + CELLS + ")");
      }
      boolean notesGru = cell.equals("gru-notes");
      CharLanguageModel.Config config = new CharLanguageModel.Config(
          CharLanguageModel.Cell.of(notesGru ? "gru" : cell), vocab.size(), 256, 1, 0, cell.equals("gru"));
      IterationTimer timer = new IterationTimer();
      double perplexity;
      try (CharLanguageModel model = new CharLanguageModel(config, new Generator(0));
          SGD sgd = new SGD(model.parameters(), 1.0)) {
        List<LanguageModelTrainer.EpochResult> history = LanguageModelTrainer.builder(model, sgd).epochs(epochs)
            .clipGradNorm(1).build().fit(SequenceSampler.sequential(ids, batch, steps, 0), List.of(timer));
        perplexity = history.get(history.size() - 1).perplexity();
      }
      List<Double> times = timer.afterWarmUp(5);
      Collections.sort(times);
      double median = times.get(times.size() / 2);
      out.printf(Locale.ROOT, "RESULT {\"bench\": \"fathom_charlm\", \"cell\": \"%s\", \"vocab\": %d, \"hidden\": 256, "
              + "\"batch\": %d, \"steps\": %d, \"threads\": %d, \"iters\": %d, \"iter_ms_median\": %.3f, "
              + "\"tok_per_s_median_iter\": %.1f, \"epochs\": %d, \"final_ppl\": %.4f}%n",
          cell, vocab.size(), batch, steps, Fathom.numThreads(), times.size(), median * 1e3,
          batch * steps / median, epochs, perplexity);
    }
  }

  /** Wall time between consecutive batch ends (the first from the epoch start). */
  private static final class IterationTimer implements TrainListener {
    private final List<Double> seconds = new ArrayList<>();
    private long last;

    @Override
    public void onEpochStart(int epoch) {
      last = System.nanoTime();
    }

    @Override
    public void onBatchEnd(int epoch, long batch, long batches, double loss, long examplesSeen) {
      long now = System.nanoTime();
      seconds.add((now - last) / 1e9);
      last = now;
    }

    List<Double> afterWarmUp(int warmUp) {
      if (seconds.size() <= warmUp) {
        throw new IllegalArgumentException("bench charlm: the corpus gives only " + seconds.size()
            + " iterations, need more than " + warmUp);
      }
      return new ArrayList<>(seconds.subList(warmUp, seconds.size()));
    }
  }
}
