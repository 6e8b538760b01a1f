package dev.fathom.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.data.NativeMemory;
import dev.fathom.io.Checkpoints;
import dev.fathom.io.SafeTensors;
import dev.fathom.optim.SGD;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The character language model, its training loop, generation and checkpoints, on tiny corpora. */
class LanguageModelTest {
  @TempDir
  Path dir;
  private long baseline;

  @BeforeEach
  void mark() {
    baseline = NativeMemory.baseline();
  }

  @AfterEach
  void noLeak() {
    NativeMemory.assertBackTo(baseline);
  }

  private static CharLanguageModel model(CharLanguageModel.Cell cell, int vocab, int hidden, int embedding, long seed) {
    return new CharLanguageModel(new CharLanguageModel.Config(cell, vocab, hidden, 1, embedding, false),
        new Generator(seed));
  }

  @Test
  void logitsAndStatesHaveTheDocumentedShapesAndNames() {
    try (Scope s = Scope.open(); CharLanguageModel lm = model(CharLanguageModel.Cell.LSTM, 7, 5, 0, 1);
        CharLanguageModel gru = model(CharLanguageModel.Cell.GRU, 7, 5, 3, 1)) {
      Tensor x = Tensor.fromArray(new long[] {1, 2, 3, 4, 5, 6}, 2, 3);   // (N=2, T=3)
      CharLanguageModel.Output out = lm.forward(x, null);
      assertArrayEquals(new long[] {6, 7}, out.logits().shape());
      assertArrayEquals(new long[] {1, 2, 5}, out.state().h().shape());
      assertArrayEquals(new long[] {1, 2, 5}, out.state().c().shape());
      assertEquals(List.of("rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
          "linear.weight", "linear.bias"), List.copyOf(lm.namedParameters().keySet()));
      assertArrayEquals(new long[] {20, 7}, lm.namedParameters().get("rnn.weight_ih_l0").shape());
      // Row t*N + n of the logits is token (n, t): the first sample's step 1 equals a run on it alone.
      Tensor alone = lm.forward(Tensor.fromArray(new long[] {1, 2}, 1, 2));
      assertArrayEquals(alone.narrow(0, 1, 1).toFloatArray(), out.logits().narrow(0, 2, 1).toFloatArray(), 1e-6f);

      CharLanguageModel.Output g = gru.forward(x, null);
      assertNull(g.state().c());
      assertArrayEquals(new long[] {7, 3}, gru.namedParameters().get("embedding.weight").shape());
      assertArrayEquals(new long[] {15, 3}, gru.namedParameters().get("rnn.weight_ih_l0").shape());
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> lm.forward(Tensor.fromArray(new long[] {7}, 1, 1), null));
      assertTrue(e.getMessage().contains("outside the vocabulary of 7"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> lm.forward(Tensor.zeros(2, 3), null));
    }
  }

  /**
   * "aab" repeated, one step per batch: after an 'a' the next token depends on the token before,
   * which only a carried state can know. Sequential sampling (state carried, detached) learns it;
   * random sampling (state reset every batch) cannot beat the bigram bound 2^(2/3) = 1.587.
   */
  @Test
  void sequentialSamplingCarriesTheStateAndRandomSamplingResetsIt() {
    int[] corpus = new int[240];
    for (int i = 0; i < corpus.length; i++) {
      corpus[i] = i % 3 == 2 ? 2 : 1;
    }
    double sequential = train(SequenceSampler.sequential(corpus, 4, 1, 3), 7);
    double random = train(SequenceSampler.random(corpus, 4, 1, 3), 7);
    assertTrue(sequential < 1.2, "sequential perplexity " + sequential);
    assertTrue(random > 1.55, "random perplexity " + random);
  }

  private double train(SequenceSampler sampler, int epochs) {
    try (CharLanguageModel lm = model(CharLanguageModel.Cell.GRU, 3, 8, 0, 5);
        SGD sgd = new SGD(lm.parameters(), 1)) {
      List<LanguageModelTrainer.EpochResult> h = LanguageModelTrainer.builder(lm, sgd).epochs(epochs).clipGradNorm(1)
          .build().fit(sampler, List.of());
      return h.get(h.size() - 1).perplexity();
    }
  }

  @Test
  void trainsWritesMetricsGeneratesAndReloads() throws IOException {
    String text = "hello world ".repeat(40);
    List<String> tokens = Tokenizer.CHAR.tokenize(text);
    Vocab vocab = Vocab.build(tokens, 1, List.of());
    int[] ids = vocab.indices(tokens);
    Path csv = dir.resolve("run/metrics.csv");
    List<LanguageModelTrainer.EpochResult> history;
    String greedy;
    try (CharLanguageModel lm = model(CharLanguageModel.Cell.LSTM, vocab.size(), 24, 0, 2);
        SGD sgd = new SGD(lm.parameters(), 1); PerplexityCsv metrics = new PerplexityCsv(csv)) {
      history = LanguageModelTrainer.builder(lm, sgd).epochs(25).clipGradNorm(1).build()
          .fit(SequenceSampler.sequential(ids, 4, 8, 1), List.of(), metrics);
      greedy = TextGenerator.generate(lm, vocab, Tokenizer.CHAR, "hel", 21, 0, 0);
      LanguageModelCheckpoint.save(dir.resolve("ckpt"), lm, vocab, Tokenizer.CHAR);
    }
    LanguageModelTrainer.EpochResult first = history.get(0);
    LanguageModelTrainer.EpochResult last = history.get(history.size() - 1);
    assertEquals(Math.exp(last.trainLoss()), last.perplexity(), 1e-12);
    assertTrue(first.perplexity() > 4, "first epoch perplexity " + first.perplexity());
    assertTrue(last.perplexity() < 1.3, "last epoch perplexity " + last.perplexity());
    assertEquals("hello world hello world", greedy.substring(0, 23));

    List<String> lines = Files.readAllLines(csv);
    assertEquals(PerplexityCsv.HEADER, lines.get(0));
    assertEquals(26, lines.size());
    String[] row = lines.get(25).split(",");
    assertEquals("25", row[0]);
    assertEquals(last.perplexity(), Double.parseDouble(row[2]), 1e-5);

    try (LanguageModelCheckpoint.Loaded lm = LanguageModelCheckpoint.load(dir.resolve("ckpt"))) {
      assertEquals(vocab.tokens(), lm.vocab().tokens());
      assertEquals(greedy, TextGenerator.generate(lm.model(), lm.vocab(), lm.tokenizer(), "hel", 21, 0, 0));
      String sampled = TextGenerator.generate(lm.model(), lm.vocab(), lm.tokenizer(), "hel", 40, 1.0, 9);
      assertEquals(sampled, TextGenerator.generate(lm.model(), lm.vocab(), lm.tokenizer(), "hel", 40, 1.0, 9));
      assertEquals(43, sampled.length());
      // A near-zero temperature is greedy.
      assertEquals(greedy, TextGenerator.generate(lm.model(), lm.vocab(), lm.tokenizer(), "hel", 21, 1e-4, 3));
    }
  }

  @Test
  void aCheckpointIsOneSelfContainedFile() throws IOException {
    Vocab vocab = Vocab.build(Tokenizer.CHAR.tokenize("abcab"), 1, List.of());
    Path file = dir.resolve("lm.safetensors");
    String greedy;
    try (CharLanguageModel lm = model(CharLanguageModel.Cell.GRU, vocab.size(), 4, 3, 2)) {
      LanguageModelCheckpoint.save(file, lm, vocab, Tokenizer.CHAR);
      LanguageModelCheckpoint.save(dir.resolve("run"), lm, vocab, Tokenizer.CHAR);
      greedy = TextGenerator.generate(lm, vocab, Tokenizer.CHAR, "ab", 8, 0, 0);
    }
    // A directory gets model.safetensors and nothing else; both load the same model.
    try (Stream<Path> files = Files.list(dir.resolve("run"))) {
      assertEquals(List.of("model.safetensors"), files.map(f -> f.getFileName().toString()).toList());
    }
    for (Path p : List.of(file, dir.resolve("run"), dir.resolve("run/model.safetensors"))) {
      try (LanguageModelCheckpoint.Loaded lm = LanguageModelCheckpoint.load(p)) {
        assertEquals(vocab.tokens(), lm.vocab().tokens());
        assertEquals(CharLanguageModel.Cell.GRU, lm.model().config().cell());
        assertEquals(greedy, TextGenerator.generate(lm.model(), lm.vocab(), lm.tokenizer(), "ab", 8, 0, 0));
      }
    }
    // It is a plain safetensors file: any reader sees the weights under PyTorch's names.
    assertTrue(SafeTensors.readInfo(file).containsKey("rnn.weight_ih_l0"));
  }

  @Test
  void checkpointsThatDoNotFitAreRefused() throws IOException {
    Vocab vocab = Vocab.build(Tokenizer.CHAR.tokenize("abcab"), 1, List.of());
    Path ckpt = dir.resolve("ckpt.safetensors");
    try (CharLanguageModel lm = model(CharLanguageModel.Cell.RNN, vocab.size(), 4, 0, 2)) {
      LanguageModelCheckpoint.save(ckpt, lm, vocab, Tokenizer.CHAR);
    }
    String config = SafeTensors.readMetadata(ckpt).get(LanguageModelCheckpoint.CONFIG_KEY);
    String vocabJson = SafeTensors.readMetadata(ckpt).get(LanguageModelCheckpoint.VOCAB_KEY);
    rewrite(ckpt, config.replace("\"hidden\":4", "\"hidden\":60000"), vocabJson);
    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> LanguageModelCheckpoint.load(ckpt));
    assertTrue(e.getMessage().contains("float32 parameters but ckpt.safetensors has only"), e.getMessage());
    rewrite(ckpt, config.replace("\"hidden\":4", "\"hidden\":3"), vocabJson);
    IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
        () -> LanguageModelCheckpoint.load(ckpt));
    assertTrue(shape.getMessage().contains("does not fit CharLanguageModel"), shape.getMessage());
    rewrite(ckpt, config.replace("\"rnn\"", "\"transformer\""), vocabJson);
    e = assertThrows(UncheckedIOException.class, () -> LanguageModelCheckpoint.load(ckpt));
    assertTrue(e.getMessage().contains("cell must be rnn, gru or lstm"), e.getMessage());
    rewrite(ckpt, config.replace("\"vocab_size\":4", "\"vocab_size\":5"), vocabJson);
    e = assertThrows(UncheckedIOException.class, () -> LanguageModelCheckpoint.load(ckpt));
    assertTrue(e.getMessage().contains("fathom.vocab has 4 tokens but fathom.language_model says 5"), e.getMessage());
    rewrite(ckpt, config, "{\"format\":\"fathom-vocab\",\"version\":1,\"tokens\":[\"<unk>\",\"a\",\"a\"]}");
    e = assertThrows(UncheckedIOException.class, () -> LanguageModelCheckpoint.load(ckpt));
    assertTrue(e.getMessage().contains("appears twice"), e.getMessage());
    // An image-model checkpoint is named as such.
    try (CharLanguageModel lm = model(CharLanguageModel.Cell.RNN, vocab.size(), 4, 0, 2)) {
      Checkpoints.save(lm, Map.of("fathom.model", "lenet"), ckpt);
    }
    e = assertThrows(UncheckedIOException.class, () -> LanguageModelCheckpoint.load(ckpt));
    assertTrue(e.getMessage().contains("has no fathom.language_model metadata (not a language-model checkpoint; "
        + "it holds the image model 'lenet')"), e.getMessage());
    e = assertThrows(UncheckedIOException.class, () -> LanguageModelCheckpoint.load(dir));
    assertTrue(e.getMessage().contains("has neither model.safetensors nor model.json"), e.getMessage());
    e = assertThrows(UncheckedIOException.class, () -> LanguageModelCheckpoint.load(dir.resolve("absent")));
    assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
  }

  private static void rewrite(Path file, String config, String vocab) {
    try (SafeTensors.Contents c = SafeTensors.read(file)) {
      SafeTensors.save(c.tensors(), Map.of(LanguageModelCheckpoint.CONFIG_KEY, config,
          LanguageModelCheckpoint.VOCAB_KEY, vocab), file);
    }
  }

  /** The three-file directories of earlier versions still load, and are still validated. */
  @Test
  void legacyCheckpointDirectoriesStillLoad() throws IOException {
    Vocab vocab = Vocab.build(Tokenizer.CHAR.tokenize("abcab"), 1, List.of());
    Path ckpt = dir.resolve("ckpt");
    String greedy;
    try (CharLanguageModel lm = model(CharLanguageModel.Cell.RNN, vocab.size(), 4, 0, 2)) {
      Checkpoints.save(lm, ckpt.resolve("model.safetensors"));
      vocab.save(ckpt.resolve("vocab.json"));
      greedy = TextGenerator.generate(lm, vocab, Tokenizer.CHAR, "ab", 8, 0, 0);
    }
    String config = "{\"format\" : \"fathom-language-model\", \"version\" : 1, \"cell\" : \"rnn\", "
        + "\"gru_variant\" : \"notes\", \"vocab_size\" : 4, \"hidden\" : 4, \"layers\" : 1, \"embedding\" : 0, "
        + "\"tokenizer\" : \"char\"}";
    Files.writeString(ckpt.resolve("model.json"), config);
    try (LanguageModelCheckpoint.Loaded lm = LanguageModelCheckpoint.load(ckpt)) {
      assertEquals(greedy, TextGenerator.generate(lm.model(), lm.vocab(), lm.tokenizer(), "ab", 8, 0, 0));
    }
    Files.writeString(ckpt.resolve("model.json"), config.replace("\"hidden\" : 4", "\"hidden\" : 60000"));
    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> LanguageModelCheckpoint.load(ckpt));
    assertTrue(e.getMessage().contains("float32 parameters but model.safetensors has only"), e.getMessage());
    Files.writeString(ckpt.resolve("model.json"), config.replace("\"vocab_size\" : 4", "\"vocab_size\" : 5"));
    e = assertThrows(UncheckedIOException.class, () -> LanguageModelCheckpoint.load(ckpt));
    assertTrue(e.getMessage().contains("vocab.json has 4 tokens but model.json says 5"), e.getMessage());
    Files.writeString(ckpt.resolve("model.json"), "{");
    e = assertThrows(UncheckedIOException.class, () -> LanguageModelCheckpoint.load(ckpt));
    assertTrue(e.getMessage().contains("model.json is not valid JSON"), e.getMessage());
    // Saving over a legacy directory writes the single file, which then wins.
    try (CharLanguageModel lm = model(CharLanguageModel.Cell.RNN, vocab.size(), 4, 0, 2)) {
      LanguageModelCheckpoint.save(ckpt, lm, vocab, Tokenizer.CHAR);
    }
    try (LanguageModelCheckpoint.Loaded lm = LanguageModelCheckpoint.load(ckpt)) {
      assertEquals(greedy, TextGenerator.generate(lm.model(), lm.vocab(), lm.tokenizer(), "ab", 8, 0, 0));
    }
  }

  @Test
  void temperatureSamplingFollowsTheSoftmax() {
    double[] logits = {Math.log(0.2), Math.log(0.5), 5, Math.log(0.3)};   // index 2 is banned (unk)
    SplittableRandom rng = new SplittableRandom(4);
    int[] counts = new int[4];
    int draws = 20000;
    for (int i = 0; i < draws; i++) {
      counts[TextGenerator.pick(logits, 1.0, rng, 2)]++;
    }
    assertEquals(0, counts[2]);
    assertEquals(0.2, counts[0] / (double) draws, 0.015);
    assertEquals(0.5, counts[1] / (double) draws, 0.015);
    assertEquals(0.3, counts[3] / (double) draws, 0.015);
    // Temperature 2 flattens: p ~ sqrt(p) renormalised.
    counts = new int[4];
    for (int i = 0; i < draws; i++) {
      counts[TextGenerator.pick(logits, 2.0, rng, 2)]++;
    }
    double z = Math.sqrt(0.2) + Math.sqrt(0.5) + Math.sqrt(0.3);
    assertEquals(Math.sqrt(0.2) / z, counts[0] / (double) draws, 0.015);
    assertEquals(1, TextGenerator.pick(logits, 0, rng, 2));
    assertEquals(2, TextGenerator.pick(logits, 0, rng, -1), "without a banned index the argmax is 2");
  }
}
