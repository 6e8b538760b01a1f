package dev.fathom.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fathom.io.Checkpoints;
import dev.fathom.io.SafeTensors;
import dev.fathom.tensor.Generator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A trained language model in one safetensors file, the same format as every other Fathom
 * checkpoint: the state dict under PyTorch's names, with the architecture and tokenizer
 * ({@value #CONFIG_KEY}) and the vocabulary ({@value #VOCAB_KEY}) as JSON strings in the
 * header's metadata. One file is one atomic write: a crash mid-save leaves the previous
 * checkpoint whole, and weights never pair with another run's vocabulary. Every part is
 * validated on load; a file that does not fit together is refused with the reason.
 *
 * <p>Directories written by earlier versions (model.safetensors, vocab.json and model.json
 * side by side) still load.
 *
 * <pre>{@code
 * LanguageModelCheckpoint.save(Path.of("runs/char-lstm"), model, vocab, Tokenizer.CHAR);  // runs/char-lstm/model.safetensors
 * try (LanguageModelCheckpoint.Loaded lm = LanguageModelCheckpoint.load(Path.of("runs/char-lstm"))) {
 *   System.out.println(TextGenerator.generate(lm.model(), lm.vocab(), lm.tokenizer(), "the ", 50, 0, 0));
 * }
 * }</pre>
 */
public final class LanguageModelCheckpoint {
  /** The file name a checkpoint gets inside a directory. */
  public static final String WEIGHTS = "model.safetensors";
  /** Metadata key of the architecture and tokenizer (the JSON object model.json used to hold). */
  public static final String CONFIG_KEY = "fathom.language_model";
  /** Metadata key of the vocabulary ({@link Vocab#toJson()}). */
  public static final String VOCAB_KEY = "fathom.vocab";
  /** Legacy directory layout: the vocabulary file. */
  public static final String VOCAB = "vocab.json";
  /** Legacy directory layout: the architecture file. */
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

  /**
   * Writes the checkpoint atomically to `path` if it names a {@code .safetensors} file,
   * otherwise to {@value #WEIGHTS} inside the directory `path` (created if missing).
   */
  public static void save(Path path, CharLanguageModel model, Vocab vocab, Tokenizer tokenizer) {
    CharLanguageModel.Config c = model.config();
    if (vocab.size() != c.vocabSize()) {
      throw new IllegalArgumentException("checkpoint: vocabulary of " + vocab.size() + " does not fit a model of "
          + c.vocabSize());
    }
    ObjectNode root = JSON.createObjectNode().put("format", FORMAT).put("version", 1)
        .put("cell", c.cell().id()).put("gru_variant", c.gruPytorch() ? "pytorch" : "notes")
        .put("vocab_size", c.vocabSize()).put("hidden", c.hidden()).put("layers", c.layers())
        .put("embedding", c.embeddingDim()).put("tokenizer", tokenizer.id());
    Checkpoints.save(model, Map.of(CONFIG_KEY, root.toString(), VOCAB_KEY, vocab.toJson()), file(path));
  }

  /** The file {@link #save} writes for `path`. */
  public static Path file(Path path) {
    return isSafetensorsFile(path) ? path : path.resolve(WEIGHTS);
  }

  /**
   * Loads a checkpoint file, a directory holding {@value #WEIGHTS}, or a directory in the
   * legacy three-file layout.
   */
  public static Loaded load(Path path) {
    if (Files.isDirectory(path)) {
      Path weights = path.resolve(WEIGHTS);
      boolean single = Files.isRegularFile(weights) && !Files.isRegularFile(path.resolve(CONFIG));
      if (single || Files.isRegularFile(weights) && SafeTensors.readMetadata(weights).containsKey(CONFIG_KEY)) {
        return loadFile(weights);
      }
      return loadLegacyDirectory(path);
    }
    if (!Files.isRegularFile(path)) {
      throw invalid(path, "does not exist");
    }
    return loadFile(path);
  }

  private static Loaded loadFile(Path file) {
    Map<String, String> meta = SafeTensors.readMetadata(file);
    String config = meta.get(CONFIG_KEY);
    String vocabJson = meta.get(VOCAB_KEY);
    if (config == null || vocabJson == null) {
      throw invalid(file, "has no " + (config == null ? CONFIG_KEY : VOCAB_KEY)
          + " metadata (not a language-model checkpoint" + (meta.containsKey("fathom.model")
          ? "; it holds the image model '" + meta.get("fathom.model") + "'" : "") + ")");
    }
    if (config.length() > MAX_CONFIG_BYTES) {
      throw invalid(file, CONFIG_KEY + " is longer than " + MAX_CONFIG_BYTES + " characters");
    }
    Vocab vocab = Vocab.fromJson(vocabJson, file + " " + VOCAB_KEY);
    return build(file, CONFIG_KEY, config, vocab, file);
  }

  private static Loaded loadLegacyDirectory(Path dir) {
    Path configFile = dir.resolve(CONFIG);
    String config;
    try {
      if (!Files.isRegularFile(configFile)) {
        throw invalid(dir, "has neither " + WEIGHTS + " nor " + CONFIG + " (not a language-model checkpoint)");
      }
      if (Files.size(configFile) > MAX_CONFIG_BYTES) {
        throw invalid(dir, CONFIG + " is larger than " + MAX_CONFIG_BYTES + " bytes");
      }
      config = Files.readString(configFile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("checkpoint: cannot read " + configFile + ": " + e.getMessage(), e);
    }
    // Parsed before the vocabulary so that a broken model.json is reported as such.
    parseConfig(dir, CONFIG, config);
    Vocab vocab = Vocab.load(dir.resolve(VOCAB));
    return build(dir, CONFIG, config, vocab, dir.resolve(WEIGHTS));
  }

  private record Parsed(CharLanguageModel.Config config, Tokenizer tokenizer) {}

  private static Parsed parseConfig(Path source, String configName, String json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw invalid(source, configName + " is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject() || !FORMAT.equals(root.path("format").asText(null))
        || root.path("version").asInt(-1) != 1) {
      throw invalid(source, configName + " is not a version 1 " + FORMAT + " object");
    }
    try {
      String variant = text(root, "gru_variant");
      if (!variant.equals("notes") && !variant.equals("pytorch")) {
        throw new IllegalArgumentException("gru_variant must be notes or pytorch, got '" + variant + "'");
      }
      CharLanguageModel.Config config = new CharLanguageModel.Config(CharLanguageModel.Cell.of(text(root, "cell")),
          integer(root, "vocab_size", Vocab.MAX_TOKENS), integer(root, "hidden", MAX_HIDDEN),
          integer(root, "layers", MAX_LAYERS), integer(root, "embedding", MAX_HIDDEN), variant.equals("pytorch"));
      return new Parsed(config, Tokenizer.of(text(root, "tokenizer")));
    } catch (IllegalArgumentException e) {
      throw invalid(source, configName + ": " + e.getMessage());
    }
  }

  private static Loaded build(Path source, String configName, String json, Vocab vocab, Path weights) {
    Parsed p = parseConfig(source, configName, json);
    CharLanguageModel.Config config = p.config();
    String vocabName = configName.equals(CONFIG) ? VOCAB : VOCAB_KEY;
    if (vocab.size() != config.vocabSize()) {
      throw invalid(source, vocabName + " has " + vocab.size() + " tokens but " + configName + " says "
          + config.vocabSize());
    }
    long weightBytes;
    try {
      weightBytes = Files.size(weights);
    } catch (IOException e) {
      throw new UncheckedIOException("checkpoint: cannot read " + weights + ": " + e.getMessage(), e);
    }
    // Allocate nothing the weights file could not fill: a forged config must not exhaust memory.
    if (4 * parameterCount(config) > weightBytes) {
      throw invalid(source, configName + " describes " + parameterCount(config) + " float32 parameters but "
          + weights.getFileName() + " has only " + weightBytes + " bytes");
    }
    CharLanguageModel model = new CharLanguageModel(config, new Generator(0));
    try {
      Checkpoints.load(model, weights);
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
    return new Loaded(model, vocab, p.tokenizer());
  }

  private static boolean isSafetensorsFile(Path path) {
    Path name = path.getFileName();
    return name != null && name.toString().endsWith(".safetensors") && !Files.isDirectory(path);
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

  private static UncheckedIOException invalid(Path source, String what) {
    String msg = "checkpoint " + source + ": " + what;
    return new UncheckedIOException(msg, new IOException(msg));
  }
}
