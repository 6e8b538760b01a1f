package dev.fathom.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fathom.nn.rnn.RnnReference;
import dev.fathom.tensor.GradCheck.Case;
import dev.fathom.tensor.GradCheck.Input;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Float64 central-difference checks through the Tensor-op RNN reference, for every cell: the
 * gradients of output, hn and cn with respect to x, h0, c0 and every weight.
 */
class RnnReferenceGradCheckTest {
  private static final long T = 3;
  private static final long N = 2;
  private static final long I = 3;
  private static final long H = 2;

  static List<Case> cases() {
    List<Case> cases = new ArrayList<>();
    for (RnnMode mode : RnnMode.values()) {
      cases.add(rnnCase(mode, 1, false));
      cases.add(rnnCase(mode, 2, true));
    }
    return cases;
  }

  /** Inputs x, h0, [c0,] then the flat weights; the checked function is cat(output, hn, cn) flattened. */
  private static Case rnnCase(RnnMode mode, int layers, boolean bidirectional) {
    boolean lstm = mode == RnnMode.LSTM;
    int d = bidirectional ? 2 : 1;
    long gh = RnnReference.gates(mode) * H;
    List<Input> inputs = new ArrayList<>();
    inputs.add(Input.of(T, N, I));
    inputs.add(Input.of(layers * d, N, H));
    if (lstm) {
      inputs.add(Input.of(layers * d, N, H));
    }
    int first = inputs.size();
    for (int k = 0; k < layers; k++) {
      for (int dir = 0; dir < d; dir++) {
        inputs.add(Input.of(gh, k == 0 ? I : d * H));
        inputs.add(Input.of(gh, H));
        inputs.add(Input.of(gh));
        inputs.add(Input.of(gh));
      }
    }
    String name = mode + " layers=" + layers + (bidirectional ? " bidirectional" : "");
    return new Case(name, l -> {
      RnnResult r = RnnReference.forward(mode, l.get(0), l.get(1), lstm ? l.get(2) : null,
          l.subList(first, l.size()), layers, bidirectional);
      List<Tensor> parts = new ArrayList<>(List.of(r.output().reshape(-1), r.hn().reshape(-1)));
      if (lstm) {
        parts.add(r.cn().reshape(-1));
      }
      return Tensor.cat(parts, 0);
    }, inputs, 1e-6, 1e-6);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void gradcheck(Case c) {
    long baseline = Tensor.liveNativeBytes();
    GradCheck.check(c, 7);
    assertEquals(baseline, Tensor.liveNativeBytes(), "leaked native bytes");
  }
}
