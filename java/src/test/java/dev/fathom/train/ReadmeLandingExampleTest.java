package dev.fathom.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.data.*;                 // DataLoader, FashionMnist, TensorDataset
import dev.fathom.io.Checkpoints;
import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.nn.Module;
import dev.fathom.optim.SGD;
import dev.fathom.serve.Predictor;
import dev.fathom.tensor.*;               // Generator, Scope
import dev.fathom.train.*;                // Trainer, EpochMetrics, ProgressBar
import dev.fathom.zoo.ModelSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's Java example as written there (one epoch instead of ten). */
class ReadmeLandingExampleTest {
  @Test
  void readmeLandingExampleRuns(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(Files.isDirectory(Path.of(FashionMnist.DEBIAN_DIR)), "dataset-fashion-mnist not installed");
    double accuracy;
    Predictor.Classification classification;
    ModelSpec spec = ModelSpec.of("lenet");                                 // 1x28x28 images, 10 classes
    Path weights = dir.resolve("lenet.safetensors");
    try (TensorDataset train = FashionMnist.load(FashionMnist.Split.TRAIN);  // IDX files, never downloaded
         TensorDataset test = FashionMnist.load(FashionMnist.Split.TEST);
         Module net = spec.create(new Generator(0));
         SGD sgd = SGD.builder(net.parameters(), 0.05).momentum(0.9).build();
         DataLoader trainLoader = DataLoader.builder(train).batchSize(256).shuffle(true).seed(0).build();
         DataLoader testLoader = DataLoader.builder(test).batchSize(256).build()) {
      List<EpochMetrics> history = Trainer.builder(net, new CrossEntropyLoss(), sgd).epochs(1).build()
          .fit(trainLoader, testLoader, new ProgressBar());                 // progress on stderr
      System.out.println("test accuracy " + history.get(history.size() - 1).testAcc());
      accuracy = history.get(history.size() - 1).testAcc();
      Checkpoints.save(net, spec.toMetadata(), weights);
      float[] pixels;
      try (Scope scope = Scope.open()) {                                    // frees the view below
        pixels = test.features().select(0, 0).toFloatArray();               // test image 0: 784 values in [0, 1]
      }
      try (Predictor predictor = Predictor.builder(weights).labels(FashionMnist.CLASS_NAMES).build()) {
        Predictor.Classification c = predictor.classify(pixels, 3);         // thread-safe; top 3 in c.top()
        System.out.println(c.name() + " " + c.probability());
        classification = c;
      }
    }
    assertTrue(accuracy > 0.7, "test accuracy after one epoch: " + accuracy);
    assertTrue(Files.isRegularFile(weights), "weights file " + weights);
    assertTrue(classification.label() >= 0 && classification.label() <= 9, "label " + classification.label());
    assertTrue(classification.probability() > 0 && classification.probability() <= 1,
        "probability " + classification.probability());
  }
}
