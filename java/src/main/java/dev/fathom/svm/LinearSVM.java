package dev.fathom.svm;

import dev.fathom.data.Batch;
import dev.fathom.data.DataLoader;
import dev.fathom.data.TensorDataset;
import dev.fathom.loss.HingeLoss;
import dev.fathom.loss.Reduction;
import dev.fathom.optim.CosineAnnealingLR;
import dev.fathom.optim.SGD;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * The linear SVM of the notes, {@code f(x) = w^T x + b} with the decision {@code sign f(x)},
 * trained in the primal by minibatch SGD through autograd on
 * <pre>
 *   J(w, b) = 1/N sum_i max(0, 1 - y_i (w^T x_i + b)) + lambda/2 ||w||^2,   y_i in {-1, +1}
 * </pre>
 * (the hinge loss of {@code HingeLoss} plus the L2 penalty; b is not penalised). This is the
 * C-SVM of {@link KernelSVM} with the linear kernel and {@code C = 1 / (lambda N)}. Two
 * classes give one machine (the larger label is +1); K > 2 classes train K one-vs-rest
 * machines together as the columns of a weight matrix [D, K] (J summed over machines).
 *
 * <pre>{@code
 * try (LinearSVM svm = LinearSVM.builder().lambda(1e-4).epochs(20).build()) {
 *   svm.fit(xTrain, yTrain);                 // x float [N, D], y integer labels [N]
 *   double acc = svm.accuracy(xTest, yTest);
 * }
 * }</pre>
 *
 * <p>Optimisation: SGD with momentum over shuffled minibatches ({@code DataLoader}), the
 * learning rate annealed to 0 by a cosine over the epochs (the hinge is not smooth, so a
 * constant rate would leave w oscillating). w and b start at 0. Standardize features first.
 */
public final class LinearSVM extends SvmClassifier {
  private final double lambda;
  private final int epochs;
  private final int batchSize;
  private final double lr;
  private final double momentum;
  private final long seed;

  private Tensor weight;          // [D, machines]
  private Tensor bias;            // [machines]
  private double[] objective;     // mean J per epoch

  private LinearSVM(Builder b) {
    super("LinearSVM");
    this.lambda = b.lambda;
    this.epochs = b.epochs;
    this.batchSize = b.batchSize;
    this.lr = b.lr;
    this.momentum = b.momentum;
    this.seed = b.seed;
  }

  /** Defaults: lambda 1e-4, 20 epochs, batch 64, lr 0.01, momentum 0.9, seed 0. */
  public static Builder builder() {
    return new Builder();
  }

  /** Trains on x [N, D] (float32 or float64, finite) and integer labels y [N]; replaces any earlier fit. */
  public LinearSVM fit(Tensor x, Tensor y) {
    Labels labels = beginFit(x, y);
    int machines = labels.machines();
    long features = x.size(1);
    try (GradMode.Guard on = GradMode.enable()) {
      weight = Tensor.zeros(x.dtype(), features, machines).unscope().requiresGrad(true);
      bias = Tensor.zeros(x.dtype(), machines).unscope().requiresGrad(true);
    }
    objective = new double[epochs];
    HingeLoss hinge = new HingeLoss(Reduction.SUM);
    // NOTE: the dataset closes what it is given: a view of x, so x itself stays the caller's.
    try (TensorDataset data = new TensorDataset(x.detach(), targets(labels, x.dtype()));
        SGD sgd = SGD.builder(List.of(weight, bias), lr).momentum(momentum).build();
        DataLoader loader = DataLoader.builder(data).batchSize(batchSize).shuffle(true).seed(seed).build()) {
      CosineAnnealingLR schedule = new CosineAnnealingLR(sgd, epochs);
      for (int epoch = 0; epoch < epochs; epoch++) {
        double sum = 0;
        for (Batch batch : loader) {
          try (batch; Scope step = Scope.open(); GradMode.Guard on = GradMode.enable()) {
            Tensor scores = batch.x().matmul(weight).add(bias);
            // Sum over machines, mean over the batch: each machine's J is the formula above.
            Tensor loss = hinge.apply(scores, batch.y()).div(batch.size())
                .add(weight.square().sum().mul(lambda / 2));
            sgd.zeroGrad();
            loss.backward();
            sgd.step();
            sum += loss.item() * batch.size();
          }
        }
        objective[epoch] = sum / x.size(0);
        if (!Double.isFinite(objective[epoch])) {
          throw new IllegalStateException("LinearSVM.fit: the objective became " + objective[epoch] + " in epoch "
              + (epoch + 1) + " on x " + Inputs.shape(x) + "; lower the learning rate (" + lr
              + ") or standardize the features");
        }
        schedule.step();
      }
      weight.zeroGrad();
      bias.zeroGrad();
    } catch (RuntimeException | Error e) {
      release();      // no half-trained model: the model stays unfitted
      throw e;
    }
    endFit(x, labels);
    return this;
  }

  /** +-1 targets [N, machines] in dtype: column m is +1 for machine m's positive class. */
  private static Tensor targets(Labels labels, DType dtype) {
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      long[] index = Arrays.stream(labels.index).asLongStream().toArray();
      Tensor oneHot = Tensor.oneHot(Tensor.fromArray(index, index.length), labels.numClasses());
      if (labels.machines() == 1) {
        oneHot = oneHot.narrow(1, 1, 1);
      }
      return scope.keep(oneHot.mul(2).sub(1).to(dtype).contiguous());
    }
  }

  @Override
  Tensor scores(Tensor x) {
    return x.matmul(weight).add(bias);
  }

  @Override
  void release() {
    if (weight != null) {
      weight.close();
      bias.close();
    }
    weight = bias = null;
    objective = null;
  }

  /** The weights w [D, machines] (owned by this model: do not close). */
  public Tensor weight() {
    classes();
    return weight;
  }

  /** b per machine [machines] (owned by this model). */
  public Tensor bias() {
    classes();
    return bias;
  }

  /** The mean of J over each epoch's minibatches (as the weights moved), one value per epoch. */
  public double[] objectiveHistory() {
    classes();
    return objective.clone();
  }

  public double lambda() {
    return lambda;
  }

  @Override
  public String toString() {
    return "LinearSVM(lambda=" + lambda + ", epochs=" + epochs + ")";
  }

  /** Options for {@link LinearSVM}. */
  public static final class Builder {
    private double lambda = 1e-4;
    private int epochs = 20;
    private int batchSize = 64;
    private double lr = 0.01;
    private double momentum = 0.9;
    private long seed;

    private Builder() {}

    /** The L2 strength lambda > 0 (C = 1 / (lambda N) in the dual's terms). */
    public Builder lambda(double lambda) {
      Inputs.requirePositive("LinearSVM", "lambda", lambda);
      this.lambda = lambda;
      return this;
    }

    public Builder epochs(int epochs) {
      if (epochs < 1) {
        throw new IllegalArgumentException("LinearSVM: epochs=" + epochs + " must be >= 1");
      }
      this.epochs = epochs;
      return this;
    }

    public Builder batchSize(int batchSize) {
      if (batchSize < 1) {
        throw new IllegalArgumentException("LinearSVM: batchSize=" + batchSize + " must be >= 1");
      }
      this.batchSize = batchSize;
      return this;
    }

    /**
     * The initial SGD learning rate (annealed to 0 by a cosine over the epochs). The hinge's
     * gradient grows with the norm of x, so many features want a smaller rate: for 784
     * standardized pixels 1e-3 beat 1e-2 on a validation split.
     */
    public Builder learningRate(double lr) {
      Inputs.requirePositive("LinearSVM", "learningRate", lr);
      this.lr = lr;
      return this;
    }

    public Builder momentum(double momentum) {
      if (!(momentum >= 0 && momentum < 1)) {
        throw new IllegalArgumentException("LinearSVM: momentum=" + momentum + " must be in [0, 1)");
      }
      this.momentum = momentum;
      return this;
    }

    /** Seed of the minibatch shuffle. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    public LinearSVM build() {
      return new LinearSVM(this);
    }
  }
}
