package dev.fathom.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.data.FashionMnist;
import dev.fathom.io.Checkpoints;
import dev.fathom.nn.Module;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Tensor;
import dev.fathom.zoo.ModelSpec;
import dev.fathom.zoo.Models;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The "embedding it in a Java service" example of docs/guide.md (Checkpoints, PyTorch weights
 * and serving), as written there.
 */
class ReadmeServingExampleTest {
  @Test
  void readmeExample(@TempDir Path runs) throws Exception {
    long baseline = Tensor.liveNativeBytes();
    Path weights = runs.resolve("lenet/model.safetensors");   // what ./fathom train --model lenet writes
    try (Module m = Models.create("lenet", 10, new Generator(0))) {
      Checkpoints.save(m, ModelSpec.of("lenet").toMetadata(), weights);
    }
    float[] pixels = new float[784];

    // --- docs/guide.md ---
    // Once, at start-up: weights written by `./fathom train` (a PyTorch state dict: builder(ModelSpec.of("lenet"), file)).
    Predictor predictor = Predictor.builder(weights)
        .labels(FashionMnist.CLASS_NAMES).maxConcurrency(4).build();

    // From any number of request threads at once:
    Predictor.Classification c = predictor.classify(pixels, 3);   // 784 values in [0, 1], row-major
    System.out.println(c.name() + " " + c.probability());         // e.g. "ankle boot 0.96"

    // Or serve it over HTTP with the JDK's built-in server:
    PredictionServer server = PredictionServer.start(predictor, new InetSocketAddress("127.0.0.1", 0), 8);

    // At shutdown:
    server.close();
    predictor.close();                                            // frees the weights
    // --- end ---

    assertEquals(3, c.top().size());
    assertTrue(FashionMnist.CLASS_NAMES.contains(c.name()));
    assertEquals(baseline, Tensor.liveNativeBytes());
  }
}
