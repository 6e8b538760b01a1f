package dev.fathom.io;

import dev.fathom.nn.Module;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Saves and restores a module's state dict (parameters and buffers, PyTorch's
 * key names) as safetensors.
 *
 * <pre>{@code
 * Checkpoints.save(model, Path.of("runs/lenet/model.safetensors"));
 * Checkpoints.load(model, Path.of("runs/lenet/model.safetensors"));   // same architecture
 * }</pre>
 */
public final class Checkpoints {
  private Checkpoints() {}

  public static void save(Module model, Path file) {
    save(model, Map.of(), file);
  }

  /** Saves the state dict with string metadata (e.g. the model's zoo name) in the header. */
  public static void save(Module model, Map<String, String> metadata, Path file) {
    SafeTensors.save(model.stateDict(), metadata, file);
  }

  /**
   * Copies the file's tensors into the model's parameters and buffers. The key
   * sets, shapes and dtypes must match exactly; otherwise nothing is changed and
   * the error lists the differences.
   */
  public static void load(Module model, Path file) {
    try (SafeTensors.Contents contents = SafeTensors.read(file)) {
      load(model, contents.tensors(), file.toString());
    }
  }

  /**
   * Copies `loaded` (e.g. a prefix-stripped part of a training checkpoint) into
   * the model; `source` names where it came from in errors.
   */
  public static void load(Module model, Map<String, Tensor> loaded, String source) {
    Map<String, Tensor> state = model.stateDict();
    List<String> problems = new ArrayList<>();
    TreeSet<String> missing = new TreeSet<>(state.keySet());
    missing.removeAll(loaded.keySet());
    TreeSet<String> unexpected = new TreeSet<>(loaded.keySet());
    unexpected.removeAll(state.keySet());
    if (!missing.isEmpty()) {
      problems.add("missing " + missing);
    }
    if (!unexpected.isEmpty()) {
      problems.add("unexpected " + unexpected);
    }
    for (Map.Entry<String, Tensor> e : state.entrySet()) {
      Tensor src = loaded.get(e.getKey());
      Tensor dst = e.getValue();
      if (src != null && (!Arrays.equals(src.shape(), dst.shape()) || src.dtype() != dst.dtype())) {
        problems.add(e.getKey() + ": file has " + Arrays.toString(src.shape()) + " " + src.dtype()
            + ", model has " + Arrays.toString(dst.shape()) + " " + dst.dtype());
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("checkpoint " + source + " does not fit "
          + model.getClass().getSimpleName() + ": " + String.join("; ", problems));
    }
    try (GradMode.Guard g = GradMode.disable()) {
      for (Map.Entry<String, Tensor> e : state.entrySet()) {
        e.getValue().copy_(loaded.get(e.getKey()));
      }
    }
  }
}
