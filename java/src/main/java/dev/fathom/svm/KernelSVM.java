package dev.fathom.svm;

import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The soft-margin C-SVM with a kernel, solved in the dual by SMO (LIBSVM's algorithm, see
 * {@code Smo}): {@code f(x) = sum_i alpha_i y_i k(x_i, x) + b}, with {@code 0 <= alpha_i <= C}.
 * After fitting it keeps only the support vectors (the training rows with alpha > 0),
 * their coefficients {@code alpha_i y_i} and b; prediction uses nothing else. Two classes
 * give one machine, K > 2 classes K one-vs-rest machines sharing one kernel-row cache.
 *
 * <pre>{@code
 * try (KernelSVM svm = KernelSVM.builder(Kernel.rbf(0.5)).c(10).build()) {
 *   svm.fit(xTrain, yTrain);                    // x float [N, D], y integer labels [N]
 *   double acc = svm.accuracy(xTest, yTest);
 *   Tensor labels = svm.predict(xTest);         // int64 [n], values from svm.classes()
 * }
 * }</pre>
 *
 * <p>Memory: the kernel matrix is never formed. Training computes rows of it on demand
 * in blocks of {@code blockRows} rows (one GEMM each) into an LRU cache of at most
 * {@code cacheMegabytes} on the Java heap; prediction computes the kernel between
 * {@code blockRows} query rows and the support vectors at a time. Standardize features
 * first (e.g. {@code Standardizer}): the RBF and polynomial kernels depend on their scale.
 */
public final class KernelSVM extends SvmClassifier {
  private static final Logger LOG = LoggerFactory.getLogger(KernelSVM.class);

  private final Kernel kernel;
  private final double c;
  private final double tol;
  private final long maxIterations;
  private final int blockRows;
  private final long cacheBytes;

  private Tensor supportVectors;   // [S, D]
  private Tensor supportNorms;     // [S]
  private Tensor dualCoef;         // [S, machines]: alpha_i y_i per machine (0 where not a support vector)
  private Tensor intercept;        // [machines]
  private int[] supportIndices;
  private FitReport report;

  private KernelSVM(Builder b) {
    super("KernelSVM");
    this.kernel = b.kernel;
    this.c = b.c;
    this.tol = b.tol;
    this.maxIterations = b.maxIterations;
    this.blockRows = b.blockRows;
    this.cacheBytes = b.cacheMegabytes << 20;
  }

  /** A builder with C = 1, tol = 1e-3 (LIBSVM's defaults), 256-row blocks and a 200 MB row cache. */
  public static Builder builder(Kernel kernel) {
    return new Builder(kernel);
  }

  /**
   * How one fit went, per machine: SMO iterations, whether the stopping gap fell below tol,
   * the final gap {@code m(a) - M(a)} and dual objective; plus kernel rows computed.
   */
  public record FitReport(long[] iterations, boolean[] converged, double[] gap, double[] dualObjective,
      long kernelRowsComputed, double seconds) {
    public boolean allConverged() {
      for (boolean b : converged) {
        if (!b) {
          return false;
        }
      }
      return true;
    }
  }

  /**
   * Solves the dual for x [N, D] (float32 or float64, finite) and integer labels y [N]
   * (two or more classes); replaces any earlier fit. Returns this.
   */
  public KernelSVM fit(Tensor x, Tensor y) {
    Labels labels = beginFit(x, y);
    long start = System.nanoTime();
    int n = Math.toIntExact(x.size(0));
    int machines = labels.machines();
    Smo.Result[] results = new Smo.Result[machines];
    double[][] signs = new double[machines][];
    long limit = maxIterations > 0 ? maxIterations : Math.max(10_000_000L, 100L * n);
    long rowsComputed;
    try (KernelRows rows = new KernelRows(kernel, x, blockRows, cacheBytes)) {
      for (int m = 0; m < machines; m++) {
        signs[m] = labels.signs(m);
        results[m] = Smo.solve(rows, signs[m], c, tol, limit);
        if (!results[m].converged()) {
          LOG.warn("KernelSVM.fit: machine {} of {} stopped at maxIterations={} with gap {} (tol {})", m + 1,
              machines, limit, results[m].gap(), tol);
        }
      }
      rowsComputed = rows.rowsComputed();
      LOG.debug("KernelSVM.fit: {} ({} samples, {} machines)", rows.stats(), n, machines);
    }
    // The support set: rows with alpha > 0 in any machine.
    int[] support = java.util.stream.IntStream.range(0, n)
        .filter(i -> Arrays.stream(results).anyMatch(r -> r.alpha()[i] > 0)).toArray();
    double[] coef = new double[support.length * machines];
    double[] b = new double[machines];
    for (int m = 0; m < machines; m++) {
      for (int s = 0; s < support.length; s++) {
        coef[s * machines + m] = results[m].alpha()[support[s]] * signs[m][support[s]];
      }
      b[m] = -results[m].rho();
    }
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      long[] index = Arrays.stream(support).asLongStream().toArray();
      supportVectors = x.indexSelect(0, Tensor.fromArray(index, index.length)).contiguous().unscope();
      supportNorms = Kernel.squaredNorms(supportVectors).unscope();
      dualCoef = Tensor.fromArray(coef, support.length, machines).to(x.dtype()).unscope();
      intercept = Tensor.fromArray(b, machines).to(x.dtype()).unscope();
    } catch (RuntimeException | Error e) {
      release();
      throw e;
    }
    supportIndices = support;
    report = new FitReport(Arrays.stream(results).mapToLong(Smo.Result::iterations).toArray(),
        toBooleans(results), Arrays.stream(results).mapToDouble(Smo.Result::gap).toArray(),
        Arrays.stream(results).mapToDouble(Smo.Result::objective).toArray(), rowsComputed,
        (System.nanoTime() - start) / 1e9);
    endFit(x, labels);
    return this;
  }

  private static boolean[] toBooleans(Smo.Result[] results) {
    boolean[] out = new boolean[results.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = results[i].converged();
    }
    return out;
  }

  @Override
  Tensor scores(Tensor x) {
    long n = x.size(0);
    long machines = dualCoef.size(1);
    Tensor out = Tensor.empty(x.dtype(), n, machines);
    if (supportVectors.size(0) == 0) {
      // Only with a tol so loose that SMO never moved (tol > 2): f is the constant b.
      return out.copy_(intercept.expand(n, machines));
    }
    for (long start = 0; start < n; start += blockRows) {
      long rows = Math.min(blockRows, n - start);
      try (Scope block = Scope.open()) {
        // f(x) = K(x, SV) (alpha y) + b: the kernel block [rows, S] against the support vectors only.
        Tensor k = kernel.block(x.narrow(0, start, rows), supportVectors, supportNorms);
        out.narrow(0, start, rows).copy_(k.matmul(dualCoef).add(intercept));
      }
    }
    return out;
  }

  @Override
  void release() {
    for (Tensor t : new Tensor[] {supportVectors, supportNorms, dualCoef, intercept}) {
      if (t != null) {
        t.close();
      }
    }
    supportVectors = supportNorms = dualCoef = intercept = null;
    supportIndices = null;
    report = null;
  }

  public Kernel kernel() {
    return kernel;
  }

  public double c() {
    return c;
  }

  /** Number of support vectors kept (union over the one-vs-rest machines). */
  public int numSupportVectors() {
    requireFittedState("numSupportVectors");
    return supportIndices.length;
  }

  /** Rows of the training x that are support vectors, ascending. */
  public int[] supportIndices() {
    requireFittedState("supportIndices");
    return supportIndices.clone();
  }

  /** The support vectors [S, D] (owned by this model: do not close). */
  public Tensor supportVectors() {
    requireFittedState("supportVectors");
    return supportVectors;
  }

  /** {@code alpha_i y_i} of each support vector per machine, [S, machines] (owned by this model). */
  public Tensor dualCoef() {
    requireFittedState("dualCoef");
    return dualCoef;
  }

  /** b of each machine. */
  public double[] intercept() {
    requireFittedState("intercept");
    return intercept.toDoubleArray();
  }

  public FitReport fitReport() {
    requireFittedState("fitReport");
    return report;
  }

  private void requireFittedState(String op) {
    classes();      // throws when closed or not fitted
  }

  @Override
  public String toString() {
    return "KernelSVM(" + kernel + ", C=" + c + (isFitted() ? ", " + supportIndices.length + " support vectors" : "")
        + ")";
  }

  /** Options for {@link KernelSVM}. */
  public static final class Builder {
    private final Kernel kernel;
    private double c = 1;
    private double tol = 1e-3;
    private long maxIterations = -1;
    private int blockRows = Kernel.DEFAULT_BLOCK_ROWS;
    private long cacheMegabytes = 200;

    private Builder(Kernel kernel) {
      if (kernel == null) {
        throw new IllegalArgumentException("KernelSVM: kernel must not be null");
      }
      this.kernel = kernel;
    }

    /** The box constraint C > 0: the cost of margin violations (larger: harder margin). */
    public Builder c(double c) {
      Inputs.requirePositive("KernelSVM", "C", c);
      this.c = c;
      return this;
    }

    /** Stop when the KKT violation gap {@code m(a) - M(a)} falls below tol > 0. */
    public Builder tol(double tol) {
      Inputs.requirePositive("KernelSVM", "tol", tol);
      this.tol = tol;
      return this;
    }

    /** SMO iterations per machine before giving up (logged); default max(10^7, 100 N) as LIBSVM. */
    public Builder maxIterations(long maxIterations) {
      if (maxIterations < 1) {
        throw new IllegalArgumentException("KernelSVM: maxIterations=" + maxIterations + " must be >= 1");
      }
      this.maxIterations = maxIterations;
      return this;
    }

    /** Rows per kernel block (training rows computed together, query rows per prediction block). */
    public Builder blockRows(int blockRows) {
      if (blockRows < 1) {
        throw new IllegalArgumentException("KernelSVM: blockRows=" + blockRows + " must be >= 1");
      }
      this.blockRows = blockRows;
      return this;
    }

    /** Size of the kernel-row cache in MB (at least two rows are always kept). */
    public Builder cacheMegabytes(long megabytes) {
      if (megabytes < 0 || megabytes > (1L << 40)) {
        throw new IllegalArgumentException("KernelSVM: cacheMegabytes=" + megabytes + " must be in [0, 2^40]");
      }
      this.cacheMegabytes = megabytes;
      return this;
    }

    public KernelSVM build() {
      return new KernelSVM(this);
    }
  }
}
