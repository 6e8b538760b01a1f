package dev.fathom.optim;

/**
 * Plain-Java float64 versions of the update formulas, written independently of the tensor
 * code (PyTorch's single-tensor implementations), to compare optimizers against. Each
 * works on one parameter's values in place, given that step's gradient.
 */
final class ReferenceOptimizers {
  private ReferenceOptimizers() {}

  static final class Sgd {
    final double lr;
    final double momentum;
    final double dampening;
    final double weightDecay;
    final boolean nesterov;
    double[] buf;

    Sgd(double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {
      this.lr = lr;
      this.momentum = momentum;
      this.dampening = dampening;
      this.weightDecay = weightDecay;
      this.nesterov = nesterov;
    }

    void step(double[] p, double[] grad) {
      boolean first = buf == null;
      if (first && momentum != 0) {
        buf = new double[p.length];
      }
      for (int i = 0; i < p.length; i++) {
        double g = grad[i] + (weightDecay != 0 ? weightDecay * p[i] : 0);
        if (momentum != 0) {
          buf[i] = first ? g : momentum * buf[i] + (1 - dampening) * g;
          g = nesterov ? g + momentum * buf[i] : buf[i];
        }
        p[i] = p[i] - lr * g;
      }
    }
  }

  static final class AdamRef {
    final double lr;
    final double beta1;
    final double beta2;
    final double eps;
    final double weightDecay;
    final boolean decoupled;
    double[] m;
    double[] v;
    int t;

    AdamRef(double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
      this.lr = lr;
      this.beta1 = beta1;
      this.beta2 = beta2;
      this.eps = eps;
      this.weightDecay = weightDecay;
      this.decoupled = decoupled;
    }

    void step(double[] p, double[] grad) {
      if (m == null) {
        m = new double[p.length];
        v = new double[p.length];
      }
      t++;
      double bias1 = 1 - Math.pow(beta1, t);
      double bias2 = 1 - Math.pow(beta2, t);
      for (int i = 0; i < p.length; i++) {
        double g = grad[i];
        if (decoupled) {
          p[i] = p[i] * (1 - lr * weightDecay);
        } else {
          g = g + weightDecay * p[i];
        }
        m[i] = beta1 * m[i] + (1 - beta1) * g;
        v[i] = beta2 * v[i] + (1 - beta2) * g * g;
        double denom = Math.sqrt(v[i]) / Math.sqrt(bias2) + eps;
        p[i] = p[i] - lr / bias1 * m[i] / denom;
      }
    }
  }
}
