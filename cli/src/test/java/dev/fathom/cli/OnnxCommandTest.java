package dev.fathom.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.io.Checkpoints;
import dev.fathom.io.SafeTensors;
import dev.fathom.nn.Module;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.zoo.ModelSpec;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** onnx export, summary and run from the command line, on a LeNet-BN checkpoint. */
class OnnxCommandTest {
  @TempDir
  Path dir;

  @Test
  void exportsSummarizesAndRunsACheckpoint() {
    long baseline = Tensor.liveNativeBytes();
    Path ckpt = dir.resolve("model.safetensors");
    Path onnx = dir.resolve("lenet-bn.onnx");
    ModelSpec spec = ModelSpec.of("lenet-bn");
    float[] expected;
    long parameterCount;
    try (Module net = spec.create(new Generator(3)); Tensor x = Tensor.randn(new Generator(4), 2, 1, 28, 28)) {
      parameterCount = net.parameters().stream().mapToLong(Tensor::numel).sum();
      Checkpoints.save(net, spec.toMetadata(), ckpt);
      SafeTensors.save(Map.of("input", x), dir.resolve("in.safetensors"));
      net.eval();
      // In a scope: the forward's intermediates are freed here, not by the Cleaner during a later test.
      try (GradMode.Guard g = GradMode.disable(); Scope s = Scope.open()) {
        expected = net.forward(x).toFloatArray();
      }
    }
    Console.Result r = Console.run("onnx", "export", "--checkpoint", ckpt.toString(), "--out", onnx.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("lenet-bn -> " + onnx + " (opset 17, input [1, 1, 28, 28]"), r.out());

    assertEquals(baseline, Tensor.liveNativeBytes(), "onnx export left native bytes");
    r = Console.run("onnx", "summary", "--model", onnx.toString());
    assertEquals(0, r.code(), r.err());
    assertEquals(baseline, Tensor.liveNativeBytes(), "onnx summary left native bytes");
    // LeNet-BN: 2 convolutions and 3 linear layers, each followed by batch norm but the last.
    String summary = r.out().replaceAll(" +", " ");
    for (String line : new String[] {"lenet-bn.onnx: opset 17, 16 nodes", "input input [-1, 1, 28, 28]",
        "output output", "BatchNormalization 4", "Conv 2", "Gemm 3", "MaxPool 2", "Relu 4", "Flatten 1",
        "parameters: 18 tensors, " + parameterCount + " values"}) {
      assertTrue(summary.contains(line), "'" + line + "' in " + r.out());
    }

    Path outFile = dir.resolve("out.safetensors");
    r = Console.run("onnx", "run", "--model", onnx.toString(), "--input", dir.resolve("in.safetensors").toString(),
        "--output", outFile.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("output float32 [2, 10]"), r.out());
    assertEquals(baseline, Tensor.liveNativeBytes(), "onnx run left native bytes");
    try (SafeTensors.Contents c = SafeTensors.read(outFile)) {
      assertArrayEquals(expected, c.tensors().get("output").toFloatArray(), 1e-5f);
    }
  }

  @Test
  void exportsACharLanguageModelCheckpointWithItsVocabulary() throws Exception {
    long baseline = Tensor.liveNativeBytes();
    Path run = dir.resolve("char-lstm");
    Path onnx = dir.resolve("char-lstm.onnx");
    dev.fathom.text.Vocab vocab = dev.fathom.text.Vocab.of(java.util.List.of("<unk>", " ", "a", "e", "h", "t"));
    float[] expected;
    long[] tokens = {5, 4, 3, 1, 2};
    try (dev.fathom.text.CharLanguageModel lm = new dev.fathom.text.CharLanguageModel(
        new dev.fathom.text.CharLanguageModel.Config(dev.fathom.text.CharLanguageModel.Cell.LSTM, vocab.size(), 6, 2,
            0, false), new Generator(5))) {
      dev.fathom.text.LanguageModelCheckpoint.save(run, lm, vocab, dev.fathom.text.Tokenizer.CHAR);
      lm.eval();
      try (GradMode.Guard g = GradMode.disable(); Scope s = Scope.open()) {
        expected = lm.forward(Tensor.fromArray(tokens, 1, 5)).toFloatArray();
      }
    }
    Console.Result r = Console.run("onnx", "export", "--checkpoint", run.toString(), "--out", onnx.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith("char-lstm -> " + onnx + " (opset 17, tokens (N, T) int64, vocabulary 6, 2 layer"),
        r.out());
    var proto = dev.fathom.onnx.proto.Onnx.ModelProto.parseFrom(java.nio.file.Files.readAllBytes(onnx));
    assertEquals(vocab.toJson(), proto.getMetadataPropsList().stream()
        .filter(e -> e.getKey().equals(dev.fathom.text.LanguageModelCheckpoint.VOCAB_KEY)).findFirst().orElseThrow()
        .getValue());
    try (dev.fathom.onnx.OnnxModel m = dev.fathom.onnx.OnnxModel.load(onnx); Scope s = Scope.open();
        GradMode.Guard g = GradMode.disable()) {
      assertEquals(java.util.List.of("input", "h0", "c0"), m.inputNames());
      Tensor zeros = Tensor.zeros(2, 1, 6);
      Map<String, Tensor> out = m.run(Map.of("input", Tensor.fromArray(tokens, 1, 5), "h0", zeros, "c0", zeros));
      assertArrayEquals(expected, out.get("output").toFloatArray(), 1e-5f);
    }
    assertEquals(baseline, Tensor.liveNativeBytes(), "char-LM export left native bytes");
  }

  @Test
  void badArgumentsAreRefused() {
    assertEquals(2, Console.run("onnx", "export", "--model", "lenet").code());
    Console.Result r = Console.run("onnx", "summary", "--model", dir.resolve("absent.onnx").toString());
    assertEquals(1, r.code());
    assertTrue(r.err().contains("absent.onnx"), r.err());
  }
}
