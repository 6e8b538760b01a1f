package dev.fathom.serve;

import dev.fathom.io.Checkpoints;
import dev.fathom.io.SafeTensors;
import dev.fathom.nn.Module;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Functional;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.zoo.ModelSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.function.UnaryOperator;

/**
 * Inference on one loaded model for many threads at once, e.g. inside a web
 * service. The predictor owns the model: it switches it to eval mode when built
 * and only reads it afterwards (no graph is recorded, batch norm uses its running
 * statistics and counts nothing, dropout is the identity), so calls share no
 * mutable state. Each call keeps its temporaries in its own thread's {@link Scope}
 * and frees them before returning, and at most {@code maxConcurrency} calls run at
 * once (others wait), so native memory is bounded by the model plus
 * maxConcurrency calls' activations.
 *
 * <p>Batched calls ({@link #logits(float[][])}, {@link #predict(Tensor)} with N > 1)
 * agree with single-example calls to float tolerance, not bitwise: the CPU kernels
 * pick a different blocking (and so a different summation order) for a batch of one
 * than for a larger batch, and that choice differs between CPUs. The difference is
 * a few units in the last place (relative 1e-5 or less on the zoo models). Where a
 * request's answer must not depend on which requests share its batch, build with
 * {@link Builder#batchInvariant(boolean) batchInvariant(true)}: every example then runs
 * as its own batch of one, so it gets exactly the single-call result, at the
 * throughput of batch-1 inference.
 *
 * <pre>{@code
 * try (Predictor p = Predictor.builder(Path.of("runs/lenet/model.safetensors")).build()) {
 *   Predictor.Classification c = p.classify(pixels, 3);   // 784 floats in [0, 1]: label, probability, top 3
 * }
 * }</pre>
 */
public final class Predictor implements AutoCloseable {
  private final Module model;
  private final String name;
  private final long[] exampleShape;
  private final int exampleSize;
  private final UnaryOperator<Tensor> preprocess;
  private final List<String> labels;
  private final int maxConcurrency;
  private final Semaphore permits;
  private final boolean batchInvariant;
  private volatile boolean closed;

  private Predictor(Builder b) {
    this.model = b.model;
    this.name = b.name;
    this.exampleShape = b.exampleShape.clone();
    this.exampleSize = Math.toIntExact(Arrays.stream(exampleShape).reduce(1, Math::multiplyExact));
    this.preprocess = b.preprocess;
    this.labels = b.labels == null ? null : List.copyOf(b.labels);
    this.maxConcurrency = b.maxConcurrency;
    this.permits = new Semaphore(maxConcurrency);
    this.batchInvariant = b.batchInvariant;
    model.eval();
  }

  /** A predictor over `model`, which it takes over (closes it on close; do not use it elsewhere). */
  public static Builder builder(Module model, long... exampleShape) {
    return new Builder(model, "model", exampleShape);
  }

  /**
   * Loads weights written by Fathom's CLI: the model to build is named in the
   * file's metadata (see {@link ModelSpec}).
   */
  public static Builder builder(Path weights) {
    return builder(ModelSpec.fromMetadata(SafeTensors.readMetadata(weights)), weights);
  }

  /**
   * Builds the zoo model `spec` and loads `weights` into it (e.g. a state dict saved by
   * PyTorch). The model is loaded now, checked strictly (names, shapes, dtypes), and
   * handed to the predictor by {@link Builder#build()}.
   */
  public static Builder builder(ModelSpec spec, Path weights) {
    Module model = spec.create(new Generator(0));
    try {
      Checkpoints.load(model, weights);
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
    Builder b = new Builder(model, spec.name(), spec.channels(), spec.inputSize(), spec.inputSize());
    b.channels = spec.channels();
    b.modelSide = spec.inputSize();
    return b;
  }

  /** Model output for a batch [N, exampleShape...], as a new tensor the caller owns (it joins the caller's scope). */
  public Tensor predict(Tensor batch) {
    long[] shape = batch.shape();
    if (shape.length != exampleShape.length + 1
        || !Arrays.equals(Arrays.copyOfRange(shape, 1, shape.length), exampleShape)) {
      throw new IllegalArgumentException("Predictor(" + name + "): input " + Arrays.toString(shape)
          + " must be [N, " + Arrays.toString(exampleShape).replaceAll("[\\[\\]]", "") + "]");
    }
    acquire();
    try (GradMode.Guard g = GradMode.disable()) {
      Tensor out;
      try (Scope call = Scope.open()) {
        long n = shape[0];
        if (batchInvariant && n > 1) {
          List<Tensor> rows = new ArrayList<>((int) n);
          long[] one = shape.clone();
          one[0] = 1;
          for (long i = 0; i < n; i++) {
            // A fresh tensor, as a single call gets: same alignment, so the same kernels.
            Tensor row = Tensor.empty(batch.dtype(), one).copy_(batch.narrow(0, i, 1));
            rows.add(forward(row));
          }
          out = Tensor.cat(rows, 0);
        } else {
          out = forward(batch);
        }
        if (out == batch) {
          out = batch.detach();
        }
        call.keep(out);
      }
      return out;
    } finally {
      permits.release();
    }
  }

  private Tensor forward(Tensor batch) {
    return model.forward(preprocess == null ? batch : preprocess.apply(batch));
  }

  /** The model's output (logits for a classifier) for one example of {@link #exampleSize()} values. */
  public float[] logits(float[] example) {
    return run(new float[][] {example}, false)[0];
  }

  /**
   * Outputs for several examples, run as one batch: equal to single calls within
   * float tolerance, or bitwise with {@link Builder#batchInvariant(boolean)}.
   */
  public float[][] logits(float[][] examples) {
    return run(examples, false);
  }

  /** Softmax of the logits: class probabilities. */
  public float[] probabilities(float[] example) {
    return run(new float[][] {example}, true)[0];
  }

  private float[][] run(float[][] examples, boolean softmax) {
    if (examples.length == 0) {
      return new float[0][];
    }
    float[] flat = new float[Math.multiplyExact(examples.length, exampleSize)];
    for (int i = 0; i < examples.length; i++) {
      float[] e = examples[i];
      if (e == null || e.length != exampleSize) {
        throw new IllegalArgumentException("Predictor(" + name + "): example " + i + " has "
            + (e == null ? "no" : Integer.toString(e.length)) + " values, expected " + exampleSize + " for "
            + Arrays.toString(exampleShape));
      }
      for (int j = 0; j < e.length; j++) {
        if (!Float.isFinite(e[j])) {
          throw new IllegalArgumentException("Predictor(" + name + "): example " + i + " value " + j + " is " + e[j]);
        }
      }
      System.arraycopy(e, 0, flat, i * exampleSize, exampleSize);
    }
    long[] shape = new long[exampleShape.length + 1];
    shape[0] = examples.length;
    System.arraycopy(exampleShape, 0, shape, 1, exampleShape.length);
    try (Scope s = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      Tensor out = predict(Tensor.fromArray(flat, shape));
      if (softmax) {
        out = out.softmax(out.dim() - 1);
      }
      float[] values = out.to(DType.FLOAT32).toFloatArray();
      int per = values.length / examples.length;
      float[][] rows = new float[examples.length][];
      for (int i = 0; i < rows.length; i++) {
        rows[i] = Arrays.copyOfRange(values, i * per, (i + 1) * per);
      }
      return rows;
    }
  }

  /** One class and its probability. */
  public record Score(int label, String name, double probability) {}

  /** The most probable class and the `k` most probable ones, best first. */
  public record Classification(int label, String name, double probability, List<Score> top) {}

  /** Classifies one example: the arg-max class and the top `k` (1 <= k) by probability. */
  public Classification classify(float[] example, int k) {
    if (k < 1) {
      throw new IllegalArgumentException("Predictor(" + name + "): top k=" + k + " must be >= 1");
    }
    float[] p = probabilities(example);
    Integer[] order = new Integer[p.length];
    for (int i = 0; i < p.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> p[a] != p[b] ? Float.compare(p[b], p[a]) : Integer.compare(a, b));
    List<Score> top = new ArrayList<>();
    for (int i = 0; i < Math.min(k, p.length); i++) {
      top.add(new Score(order[i], label(order[i]), p[order[i]]));
    }
    Score best = top.get(0);
    return new Classification(best.label(), best.name(), best.probability(), Collections.unmodifiableList(top));
  }

  private String label(int i) {
    return labels != null && i < labels.size() ? labels.get(i) : Integer.toString(i);
  }

  private void acquire() {
    if (closed) {
      throw new IllegalStateException("Predictor(" + name + ") was closed");
    }
    try {
      permits.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Predictor(" + name + "): interrupted while waiting for a free slot", e);
    }
    if (closed) {
      permits.release();
      throw new IllegalStateException("Predictor(" + name + ") was closed");
    }
  }

  public String name() {
    return name;
  }

  /** Shape of one example (no batch dimension). */
  public long[] exampleShape() {
    return exampleShape.clone();
  }

  /** Values in one example. */
  public int exampleSize() {
    return exampleSize;
  }

  /** Class names, or null when none were given (labels are then printed as numbers). */
  public List<String> labels() {
    return labels;
  }

  public int maxConcurrency() {
    return maxConcurrency;
  }

  /** Whether batched calls run example by example (results bitwise equal to single calls). */
  public boolean batchInvariant() {
    return batchInvariant;
  }

  /** Waits for the calls in progress, then frees the model; later calls throw IllegalStateException. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    permits.acquireUninterruptibly(maxConcurrency);
    model.close();
  }

  /** Options for a {@link Predictor}. */
  public static final class Builder {
    private final Module model;
    private String name;
    private long[] exampleShape;
    private UnaryOperator<Tensor> preprocess;
    private List<String> labels;
    private int maxConcurrency = Runtime.getRuntime().availableProcessors();
    private long channels = -1;
    private int modelSide = -1;
    private boolean batchInvariant;

    private Builder(Module model, String name, long... exampleShape) {
      if (model == null) {
        throw new IllegalArgumentException("Predictor: model is null");
      }
      if (exampleShape.length == 0 || Arrays.stream(exampleShape).anyMatch(d -> d < 1)) {
        throw new IllegalArgumentException("Predictor: example shape " + Arrays.toString(exampleShape)
            + " needs positive sizes");
      }
      this.model = model;
      this.name = name;
      this.exampleShape = exampleShape.clone();
    }

    /** A name for errors and logs. */
    public Builder name(String name) {
      this.name = name;
      return this;
    }

    /** Class names for {@link #classify}, by label index. */
    public Builder labels(List<String> labels) {
      this.labels = labels;
      return this;
    }

    /** Most calls running at once (default: available processors); more wait for a slot. */
    public Builder maxConcurrency(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("Predictor: maxConcurrency=" + n + " must be >= 1");
      }
      this.maxConcurrency = n;
      return this;
    }

    /**
     * true: an example's output does not depend on the batch it arrives in; batched
     * calls run each example as a batch of one, so they return exactly what a
     * single-example call returns (same CPU, same thread count), at batch-1
     * throughput. false (default): batched calls run as one batch, faster, and agree
     * with single calls to float tolerance.
     */
    public Builder batchInvariant(boolean on) {
      this.batchInvariant = on;
      return this;
    }

    /** A per-call transform of the input batch before the model (must be thread-safe and not keep state). */
    public Builder preprocess(UnaryOperator<Tensor> preprocess) {
      this.preprocess = preprocess;
      return this;
    }

    /**
     * For zoo models: examples come as side x side images (e.g. 28 for Fashion-MNIST)
     * and are resized bilinearly to the size the model was trained on, as `train --resize` did.
     */
    public Builder imageSide(int side) {
      if (channels < 0) {
        throw new IllegalStateException("Predictor: imageSide applies to zoo models (builder(spec, weights))");
      }
      if (side < 1) {
        throw new IllegalArgumentException("Predictor: imageSide=" + side + " must be >= 1");
      }
      this.exampleShape = new long[] {channels, side, side};
      int target = modelSide;
      this.preprocess = side == target ? null : x -> Functional.resizeBilinear(x, target, target);
      return this;
    }

    public Predictor build() {
      return new Predictor(this);
    }
  }
}
