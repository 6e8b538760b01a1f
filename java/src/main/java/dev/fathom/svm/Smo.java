package dev.fathom.svm;

/**
 * Sequential minimal optimization for the soft-margin C-SVM dual (Platt 1998), with the
 * second-order working-set selection of Fan, Chen and Lin (JMLR 2005, "WSS 2"), as in
 * LIBSVM's {@code Solver}. No shrinking.
 *
 * <pre>
 *   min_a  f(a) = 1/2 a^T Q a - e^T a,   Q_ij = y_i y_j K_ij
 *   s.t.   0 <= a_i <= C,   y^T a = 0
 * </pre>
 * The gradient is {@code G = Q a - e}. With {@code I_up = {t : y_t = +1, a_t < C or y_t = -1, a_t > 0}}
 * and {@code I_low = {t : y_t = +1, a_t > 0 or y_t = -1, a_t < C}}, a is optimal (the KKT
 * conditions hold) when {@code m(a) = max_{I_up} -y_t G_t <= M(a) = min_{I_low} -y_t G_t};
 * the solver stops when {@code m(a) - M(a) < tol}. Each iteration picks
 * {@code i = argmax_{I_up} -y_t G_t} and, among t in I_low with {@code -y_t G_t < m},
 * the j that most decreases f along the pair (b = m + y_t G_t, a_ij = K_ii + K_tt - 2 K_it):
 * {@code j = argmin -b^2 / a_ij}. It then solves the two-variable problem exactly and clips
 * it to the box (the update below), and updates G with rows i and j of Q.
 */
final class Smo {
  // Stands in for a non-positive curvature a_ij (a duplicated point, or a kernel that is
  // not strictly positive definite), as LIBSVM's TAU.
  static final double TAU = 1e-12;

  private Smo() {}

  /**
   * One solved machine. The decision function on the training set is
   * {@code f(x) = sum_i alpha_i y_i K(x_i, x) - rho}.
   */
  record Result(double[] alpha, double rho, long iterations, boolean converged, double objective, double gap) {}

  static Result solve(KernelRows k, double[] y, double c, double tol, long maxIterations) {
    int n = y.length;
    double[] alpha = new double[n];
    double[] grad = new double[n];
    java.util.Arrays.fill(grad, -1.0);
    double[] qd = k.diagonal();
    long iter = 0;
    boolean converged = false;
    double gap = Double.POSITIVE_INFINITY;
    while (iter < maxIterations) {
      // i: the most violating index in I_up.
      int i = -1;
      double gmax = Double.NEGATIVE_INFINITY;
      for (int t = 0; t < n; t++) {
        if (y[t] > 0 ? alpha[t] < c : alpha[t] > 0) {
          double v = -y[t] * grad[t];
          if (v >= gmax) {
            gmax = v;
            i = t;
          }
        }
      }
      if (i < 0) {
        converged = true;
        gap = 0;
        break;
      }
      double[] ki = k.row(i);
      // j: over I_low, the second-order choice; gmax2 = -M(a) tracks the stopping gap.
      int j = -1;
      double gmax2 = Double.NEGATIVE_INFINITY;
      double best = Double.POSITIVE_INFINITY;
      for (int t = 0; t < n; t++) {
        if (y[t] > 0 ? alpha[t] > 0 : alpha[t] < c) {
          double v = y[t] * grad[t];
          if (v >= gmax2) {
            gmax2 = v;
          }
          double b = gmax + v;
          if (b > 0) {
            double a = qd[i] + qd[t] - 2 * ki[t];
            double decrease = -(b * b) / (a > 0 ? a : TAU);
            if (decrease <= best) {
              best = decrease;
              j = t;
            }
          }
        }
      }
      gap = gmax + gmax2;
      if (gap < tol || j < 0) {
        converged = true;
        break;
      }
      iter++;
      double[] kj = k.row(j);
      double oldI = alpha[i];
      double oldJ = alpha[j];
      double a = qd[i] + qd[j] - 2 * ki[j];
      if (a <= 0) {
        a = TAU;
      }
      // The pair moves along y_i a_i + y_j a_j = const: the unconstrained minimum along it,
      // then clipped to the box [0, C]^2 (LIBSVM's update, with C_i = C_j = C).
      if (y[i] != y[j]) {
        double delta = (-grad[i] - grad[j]) / a;
        double diff = alpha[i] - alpha[j];
        alpha[i] += delta;
        alpha[j] += delta;
        if (diff > 0) {
          if (alpha[j] < 0) {
            alpha[j] = 0;
            alpha[i] = diff;
          }
        } else if (alpha[i] < 0) {
          alpha[i] = 0;
          alpha[j] = -diff;
        }
        if (diff > 0) {
          if (alpha[i] > c) {
            alpha[i] = c;
            alpha[j] = c - diff;
          }
        } else if (alpha[j] > c) {
          alpha[j] = c;
          alpha[i] = c + diff;
        }
      } else {
        double delta = (grad[i] - grad[j]) / a;
        double sum = alpha[i] + alpha[j];
        alpha[i] -= delta;
        alpha[j] += delta;
        if (sum > c) {
          if (alpha[i] > c) {
            alpha[i] = c;
            alpha[j] = sum - c;
          }
        } else if (alpha[j] < 0) {
          alpha[j] = 0;
          alpha[i] = sum;
        }
        if (sum > c) {
          if (alpha[j] > c) {
            alpha[j] = c;
            alpha[i] = sum - c;
          }
        } else if (alpha[i] < 0) {
          alpha[i] = 0;
          alpha[j] = sum;
        }
      }
      // G_t += Q_ti da_i + Q_tj da_j, with Q_ti = y_t y_i K_ti.
      double si = y[i] * (alpha[i] - oldI);
      double sj = y[j] * (alpha[j] - oldJ);
      for (int t = 0; t < n; t++) {
        grad[t] += y[t] * (ki[t] * si + kj[t] * sj);
      }
    }
    double objective = 0;
    for (int t = 0; t < n; t++) {
      objective += alpha[t] * (grad[t] - 1);    // a^T Q a / 2 - e^T a = sum a_t (G_t - 1) / 2
    }
    return new Result(alpha, rho(alpha, grad, y, c), iter, converged, objective / 2, gap);
  }

  /**
   * The offset: {@code y_t G_t = rho} exactly for free alphas (0 < a_t < C), so their
   * average; with none free, the middle of the interval the bounded ones allow (LIBSVM).
   */
  static double rho(double[] alpha, double[] grad, double[] y, double c) {
    double upper = Double.POSITIVE_INFINITY;
    double lower = Double.NEGATIVE_INFINITY;
    double sumFree = 0;
    int free = 0;
    for (int t = 0; t < alpha.length; t++) {
      double yg = y[t] * grad[t];
      boolean atUpper = alpha[t] >= c;
      boolean atLower = alpha[t] <= 0;
      if (atUpper) {
        if (y[t] < 0) {
          upper = Math.min(upper, yg);
        } else {
          lower = Math.max(lower, yg);
        }
      } else if (atLower) {
        if (y[t] > 0) {
          upper = Math.min(upper, yg);
        } else {
          lower = Math.max(lower, yg);
        }
      } else {
        free++;
        sumFree += yg;
      }
    }
    return free > 0 ? sumFree / free : (upper + lower) / 2;
  }
}
