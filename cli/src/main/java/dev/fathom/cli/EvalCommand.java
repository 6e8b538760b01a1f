package dev.fathom.cli;

import dev.fathom.data.DataLoader;
import dev.fathom.data.FashionMnist;
import dev.fathom.data.TensorDataset;
import dev.fathom.io.Checkpoints;
import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.nn.Module;
import dev.fathom.tensor.Generator;
import dev.fathom.train.Evaluation;
import dev.fathom.train.ProgressBar;
import dev.fathom.train.Trainer;
import dev.fathom.zoo.ModelSpec;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code fathom eval --checkpoint DIR}: test accuracy and loss on Fashion-MNIST. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Test accuracy and mean cross-entropy of a trained model on the Fashion-MNIST test set.")
final class EvalCommand implements Callable<Integer> {
  @Mixin ModelSource source;

  @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST IDX files (default: see README)")
  String data;

  @Option(names = "--batch-size", paramLabel = "B", defaultValue = "256", description = "batch size (default 256)")
  int batchSize;

  @Override
  public Integer call() {
    ModelSpec spec = source.spec("eval");
    Checks.atLeast("eval", "--batch-size", batchSize, 1);
    long t0 = System.nanoTime();
    try (TensorDataset test = TrainCommand.load(data, FashionMnist.Split.TEST);
        Module net = spec.create(new Generator(0));
        DataLoader loader = TrainCommand.loader(test, batchSize, false, 0, 1, spec.inputSize())) {
      Checkpoints.load(net, source.weights("eval"));
      Evaluation e = Trainer.evaluate(net, new CrossEntropyLoss(), loader,
          new ProgressBar(System.err, System.console() != null, "eval"));
      System.out.printf(Locale.ROOT, "%s: test accuracy %.4f, loss %.4f (%d images, %.1f s)%n", spec.name(),
          e.accuracy(), e.loss(), e.examples(), (System.nanoTime() - t0) / 1e9);
    }
    return 0;
  }
}
