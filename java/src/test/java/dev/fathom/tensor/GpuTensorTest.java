package dev.fathom.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fathom.Device;
import dev.fathom.loss.MSELoss;
import dev.fathom.nn.Linear;
import dev.fathom.nn.ReLU;
import dev.fathom.nn.Sequential;
import dev.fathom.optim.SGD;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Tensors on cuda:0 against the same ops on the host (tag gpu: run with
 * -Dfathom.excludedGroups=none -Dgroups=gpu; skipped where there is no GPU).
 */
@Tag("gpu")
class GpuTensorTest {
  private static final Device GPU = Device.cuda(0);

  @BeforeEach
  void needsAGpu() {
    assumeTrue(Device.cudaDeviceCount() > 0, "no CUDA device");
  }

  @Test
  void copiesRoundTripExactlyAndStridedSourcesArriveContiguous() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.randn(new Generator(1), 5, 7);
      Tensor onGpu = x.to(GPU);
      assertEquals(GPU, onGpu.device());
      assertArrayEquals(x.toFloatArray(), onGpu.toFloatArray());
      Tensor t = x.t().to(GPU);
      assertTrue(t.isContiguous());
      assertArrayEquals(x.t().contiguous().toFloatArray(), t.to(Device.cpu()).toFloatArray());
      assertEquals(x.sum().item(), x.to(GPU).to(Device.cpu()).sum().item(), 0.0);
    }
  }

  @Test
  void elementwiseOpsMatchTheHost() {
    Function<Tensor, Tensor>[] unary = unaryOps();
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.rand(new Generator(2), 64, 33).add(0.1);
      for (Function<Tensor, Tensor> f : unary) {
        Tensor want = f.apply(x);
        Tensor got = f.apply(x.to(GPU));
        assertEquals(GPU, got.device());
        assertClose(want.toFloatArray(), got.toFloatArray(), 1e-6);
      }
      Tensor a = Tensor.randn(new Generator(3), 8, 1, 5);
      Tensor b = Tensor.randn(new Generator(4), 1, 6, 5);
      BiFunction<Tensor, Tensor, Tensor>[] binary = binaryOps();
      for (BiFunction<Tensor, Tensor, Tensor> f : binary) {
        Tensor want = f.apply(a, b);
        Tensor got = f.apply(a.to(GPU), b.to(GPU));
        assertArrayEquals(want.shape(), got.shape());
        assertClose(want.toFloatArray(), got.toFloatArray(), 1e-6);
      }
    }
  }

  @Test
  void gradientsOfElementwiseOpsComeBackToTheHostLeaf() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.randn(new Generator(5), 4, 3).requiresGrad(true);
      Tensor y = x.to(GPU).tanh().mul(x.to(GPU)).to(Device.cpu()).sum();
      y.backward();
      Tensor expected;
      try (GradMode.Guard g = GradMode.disable()) {
        Tensor th = x.tanh();
        expected = th.add(x.mul(Tensor.ones(4, 3).sub(th.square())));
      }
      assertClose(expected.toFloatArray(), x.grad().toFloatArray(), 1e-5);
    }
  }

  @Test
  void reductionsMatchTheHost() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.randn(new Generator(7), 6, 5, 4);
      Tensor g = x.to(GPU);
      assertClose(x.sum(1, false).toFloatArray(), g.sum(1, false).toFloatArray(), 1e-6);
      assertClose(x.mean(new int[] {0, 2}, true).toFloatArray(),
          g.mean(new int[] {0, 2}, true).toFloatArray(), 1e-6);
      Tensor.ValuesIndices want = x.max(2, false);
      Tensor.ValuesIndices got = g.max(2, false);
      assertArrayEquals(want.values().toFloatArray(), got.values().toFloatArray());
      assertArrayEquals(want.indices().toLongArray(), got.indices().toLongArray());
      assertEquals(x.sum().item(), g.sum().item(), 1e-5);
    }
  }

  @Test
  void matmulAndItsGradientsMatchTheHost() {
    try (Scope s = Scope.open()) {
      Tensor a = Tensor.randn(new Generator(10), 32, 20).requiresGrad(true);
      Tensor b = Tensor.randn(new Generator(11), 20, 12).requiresGrad(true);
      Tensor want = a.matmul(b);
      want.square().sum().backward();
      float[] ga = a.grad().toFloatArray();
      float[] gb = b.grad().toFloatArray();
      a.zeroGrad();
      b.zeroGrad();
      Tensor got = a.to(GPU).matmul(b.to(GPU));
      assertEquals(GPU, got.device());
      assertClose(want.toFloatArray(), got.toFloatArray(), 1e-5);
      got.square().sum().backward();
      assertClose(ga, a.grad().toFloatArray(), 1e-4);
      assertClose(gb, b.grad().toFloatArray(), 1e-4);
    }
  }

  /** An MLP moved with Module.to, trained with SGD and momentum on a squared loss. */
  @Test
  void mlpTrainsOnTheGpuAsOnTheHost() {
    float[] host = trainMlp(Device.cpu());
    float[] gpu = trainMlp(GPU);
    assertClose(host, gpu, 1e-4);
  }

  private static float[] trainMlp(Device device) {
    try (Scope s = Scope.open();
        Sequential net = new Sequential(new Linear(8, 16, true, new Generator(12)), new ReLU(),
            new Linear(16, 1, true, new Generator(13)))) {
      net.to(device);
      SGD sgd = SGD.builder(net.parameters(), 0.05).momentum(0.9).build();
      Tensor x = Tensor.randn(new Generator(14), 64, 8).to(device);
      Tensor y = x.sum(1, true).tanh();
      MSELoss loss = new MSELoss();
      for (int step = 0; step < 30; step++) {
        try (Scope stepScope = Scope.open()) {
          sgd.zeroGrad();
          loss.apply(net.forward(x), y).backward();
          sgd.step();
        }
      }
      for (Tensor p : net.parameters()) {
        assertEquals(device, p.device());
      }
      return net.parameters().get(0).toFloatArray();
    }
  }

  /** Squared-loss linear regression by minibatch SGD: elementwise ops and reductions only. */
  @Test
  void linearRegressionTrainsOnTheGpuAsOnTheHost() {
    double[] host = fitLine(Device.cpu());
    double[] gpu = fitLine(GPU);
    assertEquals(host[0], gpu[0], 1e-5);
    assertEquals(host[1], gpu[1], 1e-5);
    assertEquals(2.0, gpu[0], 0.05);
    assertEquals(-1.0, gpu[1], 0.05);
  }

  private static double[] fitLine(Device device) {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.randn(new Generator(8), 256).to(device);
      Tensor y = x.mul(2.0).add(-1.0).add(Tensor.randn(new Generator(9), 256).mul(0.01).to(device));
      Tensor w = Tensor.zeros(1).to(device).requiresGrad(true);
      Tensor b = Tensor.zeros(1).to(device).requiresGrad(true);
      for (int step = 0; step < 200; step++) {
        try (Scope stepScope = Scope.open()) {
          Tensor loss = x.mul(w).add(b).sub(y).square().mean();
          w.zeroGrad();
          b.zeroGrad();
          loss.backward();
          try (GradMode.Guard g = GradMode.disable()) {
            w.addScaled_(w.grad(), -0.1);
            b.addScaled_(b.grad(), -0.1);
          }
        }
      }
      assertEquals(device, w.device());
      return new double[] {w.item(), b.item()};
    }
  }

  @Test
  void mixingDevicesAndHostOnlyOpsAreRefusedByName() {
    try (Scope s = Scope.open()) {
      Tensor host = Tensor.ones(2, 3);
      Tensor gpu = Tensor.ones(2, 3).to(GPU);
      IllegalArgumentException mix =
          assertThrows(IllegalArgumentException.class, () -> host.add(gpu));
      assertTrue(mix.getMessage().contains("cuda:0") && mix.getMessage().contains("cpu"),
          mix.getMessage());
      assertThrows(IllegalArgumentException.class, () -> host.matmul(gpu.t()));
      Tensor index = Tensor.zeros(DType.INT64, 2);
      RuntimeException hostOnly =
          assertThrows(RuntimeException.class, () -> gpu.indexSelect(0, index));
      assertTrue(hostOnly.getMessage().contains("cuda:0"), hostOnly.getMessage());
    }
  }

  @Test
  void gpuMemoryReturnsToTheBaselineAfterAScope() {
    long before = GPU.memory()[0];
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.randn(new Generator(6), 256, 256).to(GPU);
      for (int i = 0; i < 50; i++) {
        x.exp().mul(x).sigmoid();
      }
    }
    assertEquals(before, GPU.memory()[0]);
  }

  @SuppressWarnings("unchecked")
  private static Function<Tensor, Tensor>[] unaryOps() {
    return new Function[] {
      (Function<Tensor, Tensor>) Tensor::exp, (Function<Tensor, Tensor>) Tensor::log,
      (Function<Tensor, Tensor>) Tensor::sqrt, (Function<Tensor, Tensor>) Tensor::sigmoid,
      (Function<Tensor, Tensor>) Tensor::tanh, (Function<Tensor, Tensor>) Tensor::relu,
      (Function<Tensor, Tensor>) t -> t.mul(3.0).add(-1.0),
      (Function<Tensor, Tensor>) t -> t.to(DType.FLOAT64).to(DType.FLOAT32)
    };
  }

  @SuppressWarnings("unchecked")
  private static BiFunction<Tensor, Tensor, Tensor>[] binaryOps() {
    return new BiFunction[] {
      (BiFunction<Tensor, Tensor, Tensor>) Tensor::add, (BiFunction<Tensor, Tensor, Tensor>) Tensor::sub,
      (BiFunction<Tensor, Tensor, Tensor>) Tensor::mul, (BiFunction<Tensor, Tensor, Tensor>) Tensor::div,
      (BiFunction<Tensor, Tensor, Tensor>) Tensor::maximum
    };
  }

  private static void assertClose(float[] want, float[] got, double tol) {
    assertEquals(want.length, got.length);
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], tol * Math.max(1.0, Math.abs(want[i])), "element " + i);
    }
  }
}
