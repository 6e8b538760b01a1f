package dev.fathom.zoo;

import dev.fathom.nn.Module;
import dev.fathom.tensor.Generator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What it takes to rebuild a zoo model before loading its weights: the zoo name,
 * classes, input channels, the side of the (square) images it was trained on and
 * the MLP's dropout (which shifts its layer names). Stored as string metadata in
 * the header of every {@code model.safetensors} the CLI writes, so a weights file
 * alone says how to serve it; files from PyTorch have none, so say it yourself.
 *
 * <pre>{@code
 * ModelSpec spec = ModelSpec.fromMetadata(SafeTensors.readMetadata(file));   // or ModelSpec.of("lenet")
 * try (Module model = spec.create(new Generator(0))) { Checkpoints.load(model, file); }
 * }</pre>
 */
public record ModelSpec(String name, int classes, long channels, int inputSize, double dropout) {
  /** Metadata keys. */
  public static final String NAME = "fathom.model";
  public static final String CLASSES = "fathom.classes";
  public static final String CHANNELS = "fathom.channels";
  public static final String INPUT_SIZE = "fathom.input_size";
  public static final String DROPOUT = "fathom.dropout";

  public ModelSpec {
    if (!Models.NAMES.contains(name)) {
      throw new IllegalArgumentException("unknown model '" + name + "' (one of " + Models.NAMES + ")");
    }
    if (classes < 1 || channels < 1 || inputSize < 8 || !(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("model spec " + name + ": classes=" + classes + " channels=" + channels
          + " inputSize=" + inputSize + " dropout=" + dropout + " out of range");
    }
  }

  /** The zoo model `name` for 1x28x28 Fashion-MNIST images and 10 classes. */
  public static ModelSpec of(String name) {
    return new ModelSpec(name, 10, 1, 28, 0);
  }

  /** A fresh, randomly initialised model (load weights into it next). */
  public Module create(Generator gen) {
    if (name.equals("mlp")) {
      if (channels != 1) {
        throw new IllegalArgumentException("mlp is defined for 1 channel");
      }
      return Models.mlp(classes, dropout, gen);
    }
    return Models.create(name, classes, channels, inputSize, gen);
  }

  public Map<String, String> toMetadata() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(NAME, name);
    m.put(CLASSES, Integer.toString(classes));
    m.put(CHANNELS, Long.toString(channels));
    m.put(INPUT_SIZE, Integer.toString(inputSize));
    m.put(DROPOUT, Double.toString(dropout));
    return m;
  }

  /** The spec stored in a header; IllegalArgumentException when it has none or an invalid one. */
  public static ModelSpec fromMetadata(Map<String, String> m) {
    String name = m.get(NAME);
    if (name == null) {
      throw new IllegalArgumentException("the weights carry no " + NAME + " metadata (not written by Fathom's CLI?):"
          + " name the model (e.g. --model lenet)");
    }
    try {
      return new ModelSpec(name, Integer.parseInt(m.getOrDefault(CLASSES, "10")),
          Long.parseLong(m.getOrDefault(CHANNELS, "1")), Integer.parseInt(m.getOrDefault(INPUT_SIZE, "28")),
          Double.parseDouble(m.getOrDefault(DROPOUT, "0")));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("invalid model metadata " + m + ": " + e.getMessage());
    }
  }
}
