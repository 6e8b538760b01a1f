package dev.fathom.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.fathom.Fathom;
import dev.fathom.nn.Module;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.zoo.Models;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * ResNet-18 inference (the zoo's, 1x96x96, exported with OnnxExport) four ways on 2 threads:
 * imported by OnnxModel.load (the graph as the file has it), imported by
 * OnnxModel.loadForInference (BatchNormalization folded, Conv + Relu fused), the zoo module
 * itself, and ONNX Runtime's CPU provider on the same file. Rounds alternate so that drift of a
 * shared machine hits every row. Prints ratios against ONNX Runtime (> 1 is faster than it);
 * asserts nothing about speed.
 * Run: ci/bench-onnx.sh.
 */
@Tag("bench")
class OnnxRuntimeBench {
  private static final int ROUNDS = 3;

  private interface Runner {
    void run() throws Exception;
  }

  private static double secondsPerRun(Runner r, int warmup, int runs) throws Exception {
    for (int i = 0; i < warmup; i++) {
      r.run();
    }
    long start = System.nanoTime();
    for (int i = 0; i < runs; i++) {
      r.run();
    }
    return (System.nanoTime() - start) / 1e9 / runs;
  }

  @Test
  void resnet18AgainstOnnxRuntime() throws Exception {
    Fathom.setNumThreads(2);
    Path file = Files.createTempFile("fathom-bench-resnet18", ".onnx");
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (Module zoo = Models.create("resnet18", 10, new Generator(1));
        OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      zoo.eval();
      OnnxExport.write(zoo, new long[] {1, 1, 96, 96}, file);
      opts.setIntraOpNumThreads(2);
      opts.setInterOpNumThreads(1);
      opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      try (OnnxModel imported = OnnxModel.load(file); OnnxModel folded = OnnxModel.loadForInference(file);
          OrtSession session = env.createSession(file.toString(), opts)) {
        imported.eval();
        System.out.println("| batch | imported, load (s) | imported, loadForInference (s) | zoo module (s) "
            + "| ONNX Runtime (s) | load / ORT | loadForInference / ORT | zoo / ORT |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        for (int batch : new int[] {1, 256}) {
          int warmup = batch == 1 ? 10 : 1;
          int runs = batch == 1 ? 50 : 3;
          try (Tensor x = Tensor.randn(new Generator(2), batch, 1, 96, 96);
              OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.toFloatArray()), x.shape())) {
            double[] t = new double[4];
            for (int round = 0; round < ROUNDS; round++) {
              t[0] += secondsPerRun(() -> forward(imported, x), warmup, runs);
              t[1] += secondsPerRun(() -> forward(folded, x), warmup, runs);
              t[2] += secondsPerRun(() -> forward(zoo, x), warmup, runs);
              t[3] += secondsPerRun(() -> ort(session, in), warmup, runs);
            }
            System.out.printf(Locale.ROOT, "| %d | %.4f | %.4f | %.4f | %.4f | %.2f | %.2f | %.2f |%n", batch,
                t[0] / ROUNDS, t[1] / ROUNDS, t[2] / ROUNDS, t[3] / ROUNDS, t[3] / t[0], t[3] / t[1], t[3] / t[2]);
          }
        }
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }

  private static void forward(Module m, Tensor x) {
    try (GradMode.Guard g = GradMode.disable(); Scope s = Scope.open()) {
      m.forward(x);
    }
  }

  private static void ort(OrtSession session, OnnxTensor in) throws OrtException {
    try (OrtSession.Result r = session.run(Map.of("input", in))) {
      r.get(0);
    }
  }
}
