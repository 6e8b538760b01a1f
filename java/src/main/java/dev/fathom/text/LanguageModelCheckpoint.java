package dev.fathom.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fathom.io.Checkpoints;
import dev.fathom.tensor.Generator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A trained language model as a directory: model.safetensors (the state dict, PyTorch's names),
 * vocab.json ({@link Vocab#save}) and model.json (architecture and tokenizer). Every file is
 * validated on load; a directory that does not fit together is refused with the reason.
 *
 * <pre>{@code
 * LanguageModelCheckpoint.save(Path.of("runs/char-lstm"), model, vocab, Tokenizer.CHAR);
 * try (LanguageModelCheckpoint.Loaded lm = LanguageModelCheckpoint.load(Path.of("runs/char-lstm"))) {
 *   System.out.println(TextGenerator.generate(lm.model(), lm.vocab(), lm.tokenizer(), "the ", 50, 0, 0));
 * }
 * }</pre>
 */
public final class LanguageModelCheckpoint {
  public static final String WEIGHTS = "model.safetensors";
  public static final String VOCAB = "vocab.json";
  public static final String CONFIG = "model.json";
  private static final String FORMAT = "fathom-language-model";
  private static final long MAX_CONFIG_BYTES = 1 << 20;
  // Refused beyond these: a hostile config must not make us allocate terabytes.
  private static final int MAX_HIDDEN = 1 << 16;
  private static final int MAX_LAYERS = 64;
  private static final ObjectMapper JSON = new ObjectMapper();

  private LanguageModelCheckpoint() {}

  /** A loaded model with its vocabulary and tokenizer; closing it frees the weights. */
  public record Loaded(CharLanguageModel model, Vocab vocab, Tokenizer tokenizer) implements AutoCloseable {
    @Override
    public void close() {
      model.close();
    }
  }

  public static void save(Path dir, CharLanguageModel model, Vocab vocab, Tokenizer tokenizer) {
    CharLanguageModel.Config c = model.config();
    if (vocab.size() != c.vocabSize()) {
      throw new IllegalArgumentException("checkpoint: vocabulary of " + vocab.size() + " does not fit a model of "
          + c.vocabSize());
    }
    ObjectNode root = JSON.createObjectNode().put("format", FORMAT).put("version", 1)
        .put("cell", c.cell().id()).put("gru_variant", c.gruPytorch() ? "pytorch" : "notes")
        .put("vocab_size", c.vocabSize()).put("hidden", c.hidden()).put("layers", c.layers())
        .put("embedding", c.embeddingDim()).put("tokenizer", tokenizer.id());
    try {
      Files.createDirectories(dir);
      Checkpoints.save(model, dir.resolve(WEIGHTS));
      vocab.save(dir.resolve(VOCAB));
      Path tmp = Files.createTempFile(dir, CONFIG, ".tmp");
      Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root), StandardCharsets.UTF_8);
      Files.move(tmp, dir.resolve(CONFIG), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("checkpoint: cannot write " + dir + ": " + e.getMessage(), e);
    }
  }

  public static Loaded load(Path dir) {
    Path configFile = dir.resolve(CONFIG);
    JsonNode root;
    try {
      if (!Files.isRegularFile(configFile)) {
        throw invalid(dir, "has no " + CONFIG + " (not a language-model checkpoint directory)");
      }
      if (Files.size(configFile) > MAX_CONFIG_BYTES) {
        throw invalid(dir, CONFIG + " is larger than " + MAX_CONFIG_BYTES + " bytes");
      }
      root = JSON.readTree(Files.readString(configFile, StandardCharsets.UTF_8));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw invalid(dir, CONFIG + " is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UncheckedIOException("checkpoint: cannot read " + configFile + ": " + e.getMessage(), e);
    }
    if (root == null || !root.isObject() || !FORMAT.equals(root.path("format").asText(null))
        || root.path("version").asInt(-1) != 1) {
      throw invalid(dir, CONFIG + " is not a version 1 " + FORMAT + " file");
    }
    CharLanguageModel.Config config;
    Tokenizer tokenizer;
    try {
      String variant = text(root, "gru_variant");
      if (!variant.equals("notes") && !variant.equals("pytorch")) {
        throw new IllegalArgumentException("gru_variant must be notes or pytorch, got '" + variant + "'");
      }
      config = new CharLanguageModel.Config(CharLanguageModel.Cell.of(text(root, "cell")),
          integer(root, "vocab_size", Vocab.MAX_TOKENS), integer(root, "hidden", MAX_HIDDEN),
          integer(root, "layers", MAX_LAYERS), integer(root, "embedding", MAX_HIDDEN), variant.equals("pytorch"));
      tokenizer = Tokenizer.of(text(root, "tokenizer"));
    } catch (IllegalArgumentException e) {
      throw invalid(dir, CONFIG + ": " + e.getMessage());
    }
    Vocab vocab = Vocab.load(dir.resolve(VOCAB));
    if (vocab.size() != config.vocabSize()) {
      throw invalid(dir, VOCAB + " has " + vocab.size() + " tokens but " + CONFIG + " says " + config.vocabSize());
    }
    Path weights = dir.resolve(WEIGHTS);
    long weightBytes;
    try {
      weightBytes = Files.size(weights);
    } catch (IOException e) {
      throw new UncheckedIOException("checkpoint: cannot read " + weights + ": " + e.getMessage(), e);
    }
    // Allocate nothing the weights file could not fill: a forged config must not exhaust memory.
    if (4 * parameterCount(config) > weightBytes) {
      throw invalid(dir, CONFIG + " describes " + parameterCount(config) + " float32 parameters but " + WEIGHTS
          + " has only " + weightBytes + " bytes");
    }
    CharLanguageModel model = new CharLanguageModel(config, new Generator(0));
    try {
      Checkpoints.load(model, weights);
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
    return new Loaded(model, vocab, tokenizer);
  }

  /** Number of scalars the model of `c` has (its state dict's size, in elements). */
  static long parameterCount(CharLanguageModel.Config c) {
    long g = switch (c.cell()) {
      case RNN -> 1;
      case GRU -> 3;
      case LSTM -> 4;
    };
    long h = c.hidden();
    long v = c.vocabSize();
    long in = c.embeddingDim() == 0 ? v : c.embeddingDim();
    long n = v * c.embeddingDim() + h * v + v;
    for (int k = 0; k < c.layers(); k++) {
      n += g * h * ((k == 0 ? in : h) + h + 2);
    }
    return n;
  }

  private static String text(JsonNode root, String field) {
    JsonNode n = root.get(field);
    if (n == null || !n.isTextual()) {
      throw new IllegalArgumentException("\"" + field + "\" must be a string");
    }
    return n.asText();
  }

  private static int integer(JsonNode root, String field, int max) {
    JsonNode n = root.get(field);
    if (n == null || !n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() < 0 || n.asInt() > max) {
      throw new IllegalArgumentException("\"" + field + "\" must be an integer in [0, " + max + "], got " + n);
    }
    return n.asInt();
  }

  private static UncheckedIOException invalid(Path dir, String what) {
    String msg = "checkpoint " + dir + ": " + what;
    return new UncheckedIOException(msg, new IOException(msg));
  }
}
