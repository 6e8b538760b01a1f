package dev.fathom.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.fathom.data.DataLoader;
import dev.fathom.data.Synthetic;
import dev.fathom.data.TensorDataset;
import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.nn.Linear;
import dev.fathom.nn.Module;
import dev.fathom.nn.ReLU;
import dev.fathom.nn.Sequential;
import dev.fathom.optim.SGD;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The hook between backward and the optimizer step (what data-parallel training averages in). */
class GradientHookTest {
  private static Module net() {
    Generator g = new Generator(4);
    return new Sequential(new Linear(2, 8, true, g), new ReLU(), new Linear(8, 2, true, g));
  }

  private static Map<String, float[]> train(double lr, GradientHook hook) {
    try (TensorDataset data = Synthetic.moons(128, 0.1, new Generator(1));
         Module model = net(); SGD opt = new SGD(model.parameters(), lr);
         DataLoader loader = DataLoader.builder(data).batchSize(16).shuffle(true).seed(2).build();
         Scope s = Scope.open()) {
      Trainer.Builder b = Trainer.builder(model, new CrossEntropyLoss(), opt).epochs(2);
      if (hook != null) {
        b.gradientHook(hook);
      }
      b.build().fit(loader, null);
      Map<String, float[]> out = new java.util.TreeMap<>();
      model.stateDict().forEach((k, v) -> out.put(k, v.toFloatArray()));
      return out;
    }
  }

  @Test
  void halvingTheGradientsEqualsHalvingTheLearningRate() {
    int[] calls = {0};
    Map<String, float[]> halved = train(0.2, params -> {
      calls[0]++;
      for (Tensor p : params) {
        try (Scope s = Scope.open()) {
          p.grad().copy_(p.grad().mul(0.5));
        }
      }
    });
    Map<String, float[]> plain = train(0.1, null);
    assertEquals(16, calls[0], "called once per step: 2 epochs of 8 batches");
    for (String k : plain.keySet()) {
      assertArrayEquals(plain.get(k), halved.get(k), 1e-6f, k);
    }
  }

  @Test
  void theHookSeesTheOptimizersParametersWithTheirGradients() {
    boolean[] sawNull = {false};
    int[] count = {0};
    train(0.1, params -> {
      count[0] = params.size();
      for (Tensor p : params) {
        sawNull[0] |= p.grad() == null;
      }
    });
    assertEquals(4, count[0]);
    assertFalse(sawNull[0]);
  }
}
