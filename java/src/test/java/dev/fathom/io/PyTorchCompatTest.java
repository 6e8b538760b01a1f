package dev.fathom.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.nn.Module;
import dev.fathom.optim.SGD;
import dev.fathom.serve.Predictor;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.zoo.ModelSpec;
import dev.fathom.zoo.Models;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weights move between Fathom and PyTorch. The PyTorch -> Fathom direction runs
 * everywhere on a committed fixture made by PyTorch (tests/pytorch/compat.py
 * fixture: LeNet-BN from ../shared/bench/pytorch/models.py, trained a few steps so
 * its batch-norm statistics moved, plus an input and PyTorch's logits). The
 * Fathom -> PyTorch direction needs torch and runs where /usr/bin/python3 has it
 * (ci/check-pytorch-compat.sh runs both directions on trained models).
 */
class PyTorchCompatTest {
  private static final double TOLERANCE = 1e-5;

  private static Path resource(String name) throws URISyntaxException {
    return Path.of(PyTorchCompatTest.class.getResource(name).toURI());
  }

  private static double maxAbsDiff(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    double d = 0;
    for (int i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
    }
    return d;
  }

  @Test
  void pytorchWeightsGivePyTorchLogitsInFathom() throws Exception {
    long baseline = Tensor.liveNativeBytes();
    Path weights = resource("torch-lenet-bn.safetensors");
    assertTrue(SafeTensors.readMetadata(weights).get("source").startsWith("PyTorch"));
    try (SafeTensors.Contents io = SafeTensors.read(resource("torch-lenet-bn-io.safetensors"));
        Module net = Models.create("lenet-bn", 10, new Generator(0));
        Scope s = Scope.open()) {
      Checkpoints.load(net, weights);   // strict: every name, shape and dtype must match
      net.eval();
      float[] expected = io.get("logits").toFloatArray();
      float[] logits;
      try (GradMode.Guard g = GradMode.disable()) {
        logits = net.forward(io.get("input")).toFloatArray();
      }
      double diff = maxAbsDiff(expected, logits);
      assertTrue(diff <= TOLERANCE, "max |logit difference| " + diff);
      // Batch-norm statistics came along (they moved away from 0 and 1 in PyTorch's training steps).
      assertTrue(net.stateDict().get("1.running_mean").abs().sum().item() > 0.01);
      assertEquals(20, (long) net.stateDict().get("1.num_batches_tracked").item());
      try (Predictor p = Predictor.builder(ModelSpec.of("lenet-bn"), weights).build()) {
        float[][] rows = p.logits(new float[][] {io.get("input").select(0, 2).toFloatArray()});
        double d = maxAbsDiff(java.util.Arrays.copyOfRange(expected, 20, 30), rows[0]);
        assertTrue(d <= TOLERANCE, "Predictor: max |logit difference| " + d);
      }
    }
    assertEquals(baseline, Tensor.liveNativeBytes());
  }

  @Test
  void fathomExportsExactlyPyTorchsStateDictLayout() throws Exception {
    Map<String, SafeTensors.TensorInfo> torch = SafeTensors.readInfo(resource("torch-lenet-bn.safetensors"));
    try (Module net = Models.create("lenet-bn", 10, new Generator(0))) {
      Map<String, Tensor> fathom = net.stateDict();
      assertEquals(List.copyOf(torch.keySet()), List.copyOf(fathom.keySet()), "names, in state_dict order");
      fathom.forEach((k, t) -> {
        assertArrayEquals(torch.get(k).shape(), t.shape(), k);
        assertEquals(torch.get(k).dtype(), t.dtype(), k);
      });
    }
  }

  /** tests/pytorch/compat.py when /usr/bin/python3 and the reference models are there, else null. */
  private static Path compatScript() {
    Path repo = Path.of("").toAbsolutePath();
    if (repo.getFileName().toString().equals("java")) {
      repo = repo.getParent();
    }
    Path script = repo.resolve("tests/pytorch/compat.py");
    String bench = System.getenv().getOrDefault("FATHOM_PYTORCH_BENCH",
        repo.resolve("../shared/bench/pytorch").toString());
    if (!Files.isRegularFile(script) || !Files.isRegularFile(Path.of(bench, "models.py"))
        || !Files.isExecutable(Path.of("/usr/bin/python3"))) {
      return null;
    }
    return script;
  }

  @Test
  void fathomWeightsGiveFathomLogitsInPyTorch(@TempDir Path dir) throws Exception {
    Path script = compatScript();
    Assumptions.assumeTrue(script != null, "needs /usr/bin/python3 and ../shared/bench/pytorch");
    long baseline = Tensor.liveNativeBytes();
    Path weights = dir.resolve("model.safetensors");
    Path input = dir.resolve("input.safetensors");
    Path fathomLogits = dir.resolve("fathom-logits.safetensors");
    try (Module net = Models.create("lenet-bn", 10, new Generator(3));
        SGD sgd = SGD.builder(net.parameters(), 0.05).momentum(0.9).build();
        Scope s = Scope.open()) {
      // A few training steps: weights and batch-norm statistics away from their initial values.
      Generator g = new Generator(4);
      for (int i = 0; i < 5; i++) {
        try (Scope step = Scope.open()) {
          Tensor x = Tensor.rand(g, 32, 1, 28, 28);
          Tensor y = Tensor.uniform(g, 0, 10, DType.FLOAT32, 32).to(DType.INT64);
          sgd.zeroGrad();
          new CrossEntropyLoss().apply(net.forward(x), y).backward();
          sgd.step();
        }
      }
      Checkpoints.save(net, weights);
      net.eval();
      Tensor x = Tensor.rand(new Generator(5), 6, 1, 28, 28);
      SafeTensors.save(Map.of("input", x), input);
      try (GradMode.Guard gm = GradMode.disable()) {
        SafeTensors.save(Map.of("logits", net.forward(x)), fathomLogits);
      }
    }
    assertEquals(baseline, Tensor.liveNativeBytes());
    String report = python(script, "check", "--model", "lenet-bn", "--weights", weights.toString(), "--input",
        input.toString(), "--logits", fathomLogits.toString(), "--tol", Double.toString(TOLERANCE));
    assertTrue(report.contains("OK"), report);
  }

  private static String python(Path script, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", script.toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "compat.py timed out");
    Assumptions.assumeFalse(p.exitValue() != 0 && out.contains("No module named 'torch'"),
        "needs torch for /usr/bin/python3");
    assertEquals(0, p.exitValue(), "compat.py " + String.join(" ", args) + ":\n" + out);
    return out;
  }
}
