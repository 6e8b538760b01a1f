package dev.fathom.cli;

import dev.fathom.Fathom;
import dev.fathom.optim.Adam;
import dev.fathom.optim.Optimizer;
import dev.fathom.optim.SGD;
import dev.fathom.tensor.Generator;
import dev.fathom.text.CharLanguageModel;
import dev.fathom.text.LanguageModelCheckpoint;
import dev.fathom.text.LanguageModelTrainer;
import dev.fathom.text.NGramModel;
import dev.fathom.text.SequenceSampler;
import dev.fathom.text.TextCorpus;
import dev.fathom.text.TextGenerator;
import dev.fathom.text.Tokenizer;
import dev.fathom.text.Vocab;

import dev.fathom.train.MetricsCsv;
import dev.fathom.train.ProgressBar;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.jfree.data.xy.XYSeries;

/**
 * The language-model commands: {@code train --model char-rnn|char-gru|char-lstm}, {@code generate}
 * and {@code ngram}, run from the values that {@link TrainCommand}, {@link GenerateCommand} and
 * {@link NgramCommand} parsed and checked (plain static methods taking records).
 */
final class LanguageModelCommands {
  static final List<String> MODELS = List.of("char-rnn", "char-gru", "char-lstm");

  private LanguageModelCommands() {}

  /** Corpus options shared by train and ngram. maxChars 0 keeps the whole text. */
  record CorpusOptions(Path data, boolean joinLines, int maxChars) {
    /** --data (default: timemachine.txt in the data folder), --join-lines and --max-chars (>= 0), checked. */
    static CorpusOptions of(String command, String data, boolean joinLines, Integer maxChars) {
      return new CorpusOptions(Path.of(data != null ? data : Examples.defaultDataDir() + "/timemachine.txt"),
          joinLines, Checks.atLeast(command, "--max-chars", maxChars == null ? 0 : maxChars, 0));
    }
  }

  /** {@code train --model char-*} options; their meaning and defaults are in {@link TrainCommand}'s help. */
  record TrainOptions(String model, CorpusOptions corpus, SequenceSampler.Method sampling, int epochs,
      String optimizer, double lr, int hidden, int layers, int embedding, boolean gruPytorch, int steps, int batchSize,
      double clip, Path out, long seed, String prefix) {}

  record GenerateOptions(Path checkpoint, String prefix, int length, double temperature, long seed) {}

  record NgramOptions(CorpusOptions corpus, Tokenizer tokenizer, double k, double heldOut) {}

  // ------------------------------------------------------------------ running

  static String loadText(CorpusOptions c) {
    String text = TextCorpus.read(c.data());
    if (c.joinLines()) {
      text = TextCorpus.joinLines(text);
    }
    if (c.maxChars() > 0 && text.length() > c.maxChars()) {
      text = text.substring(0, text.offsetByCodePoints(0, Math.min(c.maxChars(), text.codePointCount(0,
          text.length()))));
    }
    return text;
  }

  static int train(TrainOptions o, PrintStream out, PrintStream err) {
    String text = loadText(o.corpus());
    List<String> tokens = Tokenizer.CHAR.tokenize(text);
    Vocab vocab = Vocab.build(tokens, 1, List.of());
    int[] ids = vocab.indices(tokens);
    CharLanguageModel.Cell cell = CharLanguageModel.Cell.of(o.model().substring("char-".length()));
    CharLanguageModel.Config config = new CharLanguageModel.Config(cell, vocab.size(), o.hidden(), o.layers(),
        o.embedding(), o.gruPytorch());
    SequenceSampler sampler = SequenceSampler.of(o.sampling(), ids, o.batchSize(), o.steps(), o.seed());
    String prefix = o.prefix() != null ? o.prefix() : firstWords(text);
    err.printf(Locale.ROOT, "fathom train: model=%s data=%s (%d chars, vocabulary %d) sampling=%s epochs=%d "
            + "optimizer=%s lr=%s hidden=%d layers=%d input=%s steps=%d batch=%d clip=%s seed=%d threads=%d out=%s%n",
        o.model(), o.corpus().data(), tokens.size(), vocab.size(), o.sampling().name().toLowerCase(Locale.ROOT),
        o.epochs(), o.optimizer(), o.lr(), o.hidden(), o.layers(),
        o.embedding() == 0 ? "one-hot" : "embedding " + o.embedding(), o.steps(), o.batchSize(), o.clip(),
        o.seed(), Fathom.numThreads(), o.out());
    long start = System.nanoTime();
    try (CharLanguageModel model = new CharLanguageModel(config, new Generator(o.seed()));
        Optimizer opt = o.optimizer().equals("adam") ? new Adam(model.parameters(), o.lr(), 0.9, 0.999, 1e-8, 0)
            : new SGD(model.parameters(), o.lr());
        MetricsCsv.Table<LanguageModelTrainer.EpochResult> csv = MetricsCsv.table(o.out().resolve("metrics.csv"),
            LanguageModelTrainer.EpochResult.CSV_COLUMNS)) {
      LanguageModelTrainer trainer = LanguageModelTrainer.builder(model, opt).epochs(o.epochs())
          .clipGradNorm(o.clip()).build();
      XYSeries lossCurve = new XYSeries("train loss");
      XYSeries perplexityCurve = new XYSeries("perplexity");
      List<LanguageModelTrainer.EpochResult> history = trainer.fit(sampler, List.of(new ProgressBar()), csv, r -> {
        LanguageModelCheckpoint.save(o.out(), model, vocab, Tokenizer.CHAR);
        lossCurve.add(r.epoch(), r.trainLoss());
        perplexityCurve.add(r.epoch(), r.perplexity());
        CurvesPlot.write(o.out().resolve("curves.png"), o.model() + ", " + o.corpus().data().getFileName(),
            List.of(new CurvesPlot.Panel("cross-entropy", List.of(lossCurve), false),
                new CurvesPlot.Panel("perplexity", List.of(perplexityCurve), false)));
        String sample = TextGenerator.generate(model, vocab, Tokenizer.CHAR, prefix, 50, 0, 0);
        err.printf(Locale.ROOT, "epoch %d/%d: loss %.4f perplexity %.3f | %.1f s (%.0f tokens/s) | %s%n", r.epoch(),
            o.epochs(), r.trainLoss(), r.perplexity(), r.seconds(), r.tokensPerSecond(), oneLine(sample));
      });
      LanguageModelTrainer.EpochResult last = history.get(history.size() - 1);
      out.printf(Locale.ROOT, "%s: perplexity %.3f after %d epochs (%.0f tokens/s, %.1f s in all); metrics in %s, "
              + "checkpoint in %s%n", o.model(), last.perplexity(), last.epoch(), last.tokensPerSecond(),
          (System.nanoTime() - start) / 1e9, o.out().resolve("metrics.csv"), LanguageModelCheckpoint.file(o.out()));
      out.println("greedy:  " + oneLine(TextGenerator.generate(model, vocab, Tokenizer.CHAR, prefix, 100, 0, 0)));
      out.println("sampled: " + oneLine(TextGenerator.generate(model, vocab, Tokenizer.CHAR, prefix, 100, 0.8,
          o.seed())));
    }
    return 0;
  }

  static int generate(GenerateOptions o, PrintStream out) {
    try (LanguageModelCheckpoint.Loaded lm = LanguageModelCheckpoint.load(o.checkpoint())) {
      out.println(TextGenerator.generate(lm.model(), lm.vocab(), lm.tokenizer(), o.prefix(), o.length(),
          o.temperature(), o.seed()));
    }
    return 0;
  }

  static int ngram(NgramOptions o, PrintStream out) {
    String text = loadText(o.corpus());
    List<String> tokens = o.tokenizer().tokenize(text);
    Vocab vocab = Vocab.build(tokens, 1, List.of());
    int[] ids = vocab.indices(tokens);
    int split = (int) Math.round(ids.length * (1 - o.heldOut()));
    int[] train = Arrays.copyOfRange(ids, 0, split);
    int[] test = Arrays.copyOfRange(ids, split, ids.length);
    if (train.length < 3 || test.length < 3) {
      throw new IllegalArgumentException("ngram: " + ids.length + " tokens are too few to hold out "
          + o.heldOut() + " of them");
    }
    NGramModel model = NGramModel.count(train, 3, vocab.size());
    out.printf(Locale.ROOT, "%s: %d %s tokens (vocabulary %d); %d counted, %d held out; add-k smoothing k=%s%n",
        o.corpus().data(), ids.length, o.tokenizer().id(), vocab.size(), train.length, test.length, o.k());
    out.printf(Locale.ROOT, "order,held_out_perplexity,train_perplexity%n");
    for (int n = 1; n <= 3; n++) {
      out.printf(Locale.ROOT, "%d,%.4f,%.4f%n", n, model.perplexity(test, n, o.k()), model.perplexity(train, n, o.k()));
    }
    double[] lambdas = {0.1, 0.3, 0.6};
    out.printf(Locale.ROOT, "interpolated %s,%.4f,%.4f%n", Arrays.toString(lambdas),
        model.interpolatedPerplexity(test, lambdas, o.k()), model.interpolatedPerplexity(train, lambdas, o.k()));
    return 0;
  }

  /** The first two words of the corpus (d2l uses "time traveller"), as the default prefix. */
  private static String firstWords(String text) {
    List<String> words = Tokenizer.WORD.tokenize(text.length() > 200 ? text.substring(0, 200) : text);
    return words.isEmpty() ? text.substring(0, 1) : String.join(" ", words.subList(0, Math.min(2, words.size())));
  }

  private static String oneLine(String s) {
    return s.replace("\n", "\\n").replace("\r", "\\r");
  }
}
