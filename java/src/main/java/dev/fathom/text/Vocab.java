package dev.fathom.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fathom.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Token <-> index table of a corpus: index 0 is {@code <unk>} (what unknown tokens map to), then
 * the reserved tokens in the order given, then every token seen at least minFreq times, most
 * frequent first (ties: first occurrence first, so the order is deterministic).
 *
 * <pre>{@code
 * List<String> tokens = Tokenizer.CHAR.tokenize(text);
 * Vocab vocab = Vocab.build(tokens, 1, List.of());
 * int[] ids = vocab.indices(tokens);
 * String back = Tokenizer.CHAR.join(vocab.tokens(ids));
 * }</pre>
 */
public final class Vocab {
  public static final String UNK = "<unk>";
  /** Larger vocabularies are refused when loading (a corrupt or hostile file). */
  static final int MAX_TOKENS = 10_000_000;
  static final long MAX_FILE_BYTES = 256L << 20;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String FORMAT = "fathom-vocab";

  private final List<String> tokens;
  private final Map<String, Integer> index;

  private Vocab(List<String> tokens) {
    this.tokens = List.copyOf(tokens);
    this.index = new HashMap<>(tokens.size() * 2);
    for (int i = 0; i < tokens.size(); i++) {
      if (index.put(tokens.get(i), i) != null) {
        throw new IllegalArgumentException("Vocab: token '" + tokens.get(i) + "' appears twice");
      }
    }
  }

  /** Counts `corpus` and orders its tokens as described above; tokens seen fewer than minFreq times map to unk. */
  public static Vocab build(List<String> corpus, int minFreq, List<String> reserved) {
    if (minFreq < 1) {
      throw new IllegalArgumentException("Vocab: minFreq=" + minFreq + " must be >= 1");
    }
    Map<String, long[]> counts = new LinkedHashMap<>();   // insertion order = first occurrence
    for (String t : corpus) {
      counts.computeIfAbsent(t, k -> new long[1])[0]++;
    }
    List<Map.Entry<String, long[]>> byFrequency = new ArrayList<>(counts.entrySet());
    byFrequency.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));   // stable
    List<String> ordered = new ArrayList<>();
    ordered.add(UNK);
    for (String r : reserved) {
      if (!ordered.contains(r)) {
        ordered.add(r);
      }
    }
    java.util.Set<String> taken = new java.util.HashSet<>(ordered);
    for (Map.Entry<String, long[]> e : byFrequency) {
      if (e.getValue()[0] >= minFreq && taken.add(e.getKey())) {
        ordered.add(e.getKey());
      }
    }
    return new Vocab(ordered);
  }

  /** A vocabulary with exactly these tokens in index order; the first must be {@code <unk>}. */
  public static Vocab of(List<String> tokensInIndexOrder) {
    if (tokensInIndexOrder.isEmpty() || !UNK.equals(tokensInIndexOrder.get(0))) {
      throw new IllegalArgumentException("Vocab: index 0 must be " + UNK);
    }
    return new Vocab(tokensInIndexOrder);
  }

  public int size() {
    return tokens.size();
  }

  /** Index of {@code <unk>}: 0. */
  public int unk() {
    return 0;
  }

  /** The token's index, or {@link #unk()} when it is not in the vocabulary. */
  public int index(String token) {
    return index.getOrDefault(token, 0);
  }

  public boolean contains(String token) {
    return index.containsKey(token);
  }

  public String token(int i) {
    if (i < 0 || i >= tokens.size()) {
      throw new IndexOutOfBoundsException("Vocab: index " + i + " outside [0, " + tokens.size() + ")");
    }
    return tokens.get(i);
  }

  public int[] indices(List<String> ts) {
    int[] out = new int[ts.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = index(ts.get(i));
    }
    return out;
  }

  public List<String> tokens(int[] ids) {
    List<String> out = new ArrayList<>(ids.length);
    for (int id : ids) {
      out.add(token(id));
    }
    return out;
  }

  /** All tokens in index order. */
  public List<String> tokens() {
    return Collections.unmodifiableList(tokens);
  }

  /** This vocabulary as {"format": "fathom-vocab", "version": 1, "tokens": [...]}. */
  public String toJson() {
    ObjectNode root = JSON.createObjectNode().put("format", FORMAT).put("version", 1);
    ArrayNode array = root.putArray("tokens");
    tokens.forEach(array::add);
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("Vocab: cannot serialize", e);
    }
  }

  /** Writes {@link #toJson()} to `file` atomically (the old file stays whole if the write fails). */
  public void save(Path file) {
    try {
      AtomicFiles.writeString(file, toJson());
    } catch (IOException e) {
      throw new UncheckedIOException("Vocab: cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** Reads a file written by {@link #save}; anything else is refused with the reason. */
  public static Vocab load(Path file) {
    String json;
    try {
      long size = Files.size(file);
      if (size > MAX_FILE_BYTES) {
        throw invalid(file.toString(), "is " + size + " bytes, more than the limit of " + MAX_FILE_BYTES);
      }
      json = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("Vocab: cannot read " + file + ": " + e.getMessage(), e);
    }
    return fromJson(json, file.toString());
  }

  /**
   * Parses {@link #toJson()}'s format (e.g. from a checkpoint's metadata); `source` names where
   * it came from in errors. Anything else is refused with the reason.
   */
  public static Vocab fromJson(String json, String source) {
    if (json.length() > MAX_FILE_BYTES) {
      throw invalid(source, "is " + json.length() + " characters, more than the limit of " + MAX_FILE_BYTES);
    }
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw invalid(source, "is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject() || !FORMAT.equals(root.path("format").asText(null))) {
      throw invalid(source, "is not a " + FORMAT + " file");
    }
    if (root.path("version").asInt(-1) != 1) {
      throw invalid(source, "has version " + root.path("version") + ", expected 1");
    }
    JsonNode array = root.get("tokens");
    if (array == null || !array.isArray() || array.size() > MAX_TOKENS) {
      throw invalid(source, "needs a \"tokens\" array of at most " + MAX_TOKENS + " strings");
    }
    List<String> ts = new ArrayList<>(array.size());
    for (JsonNode t : array) {
      if (!t.isTextual()) {
        throw invalid(source, "token " + ts.size() + " is not a string: " + t);
      }
      ts.add(t.asText());
    }
    try {
      return of(ts);
    } catch (IllegalArgumentException e) {
      throw invalid(source, e.getMessage());
    }
  }

  private static UncheckedIOException invalid(String source, String what) {
    String msg = "Vocab: " + source + " " + what;
    return new UncheckedIOException(msg, new IOException(msg));
  }

  @Override
  public String toString() {
    return "Vocab(" + tokens.size() + " tokens)";
  }
}
