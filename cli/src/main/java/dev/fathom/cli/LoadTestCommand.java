package dev.fathom.cli;

import dev.fathom.data.Batch;
import dev.fathom.data.FashionMnist;
import dev.fathom.data.TensorDataset;
import dev.fathom.serve.LoadTest;
import dev.fathom.serve.PredictionServer;
import dev.fathom.serve.Predictor;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code fathom loadtest}: requests/s and latency percentiles of the prediction
 * service, either a running one (--url) or one started in this process on
 * loopback (--checkpoint).
 */
@Command(name = "loadtest", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Load-test the prediction service: requests/s and latency percentiles.",
        "Closed-loop clients POST one Fashion-MNIST test image as JSON; --checkpoint starts a server",
        "on loopback in this process, --url targets a running one."})
final class LoadTestCommand implements Callable<Integer> {
  @Option(names = "--url", paramLabel = "URL", description = "a running service, e.g. http://127.0.0.1:8080")
  URI url;

  @Mixin ModelSource source;

  @Option(names = "--clients", paramLabel = "C", defaultValue = "8", description = "concurrent clients (default 8)")
  int clients;

  @Option(names = "--requests", paramLabel = "N", defaultValue = "500", description = "requests per client (default 500)")
  int requests;

  @Option(names = "--warmup", paramLabel = "N", defaultValue = "100",
      description = "untimed requests per client first (default 100)")
  int warmup;

  @Option(names = "--workers", paramLabel = "N", defaultValue = "8",
      description = "server worker threads with --checkpoint (default 8)")
  int workers;

  @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST IDX files (default: see README)")
  String data;

  @Override
  public Integer call() throws Exception {
    if ((url == null) == !source.given()) {
      throw new IllegalArgumentException("loadtest: give --url URL (a running service) or --checkpoint DIR");
    }
    Checks.atLeast("loadtest", "--clients", clients, 1);
    Checks.atLeast("loadtest", "--requests", requests, 1);
    Checks.atLeast("loadtest", "--warmup", warmup, 0);
    byte[] body = body();
    if (url != null) {
      return run(url.resolve("/predict"), body);
    }
    try (Predictor p = source.predictor("loadtest").build();
        PredictionServer server = PredictionServer.start(p, new InetSocketAddress("127.0.0.1", 0),
            Checks.atLeast("loadtest", "--workers", workers, 1))) {
      System.err.printf("loadtest: %s served in-process on 127.0.0.1:%d, %d workers, max concurrency %d%n",
          p.name(), server.port(), workers, p.maxConcurrency());
      return run(URI.create("http://127.0.0.1:" + server.port() + "/predict"), body);
    }
  }

  private int run(URI predict, byte[] body) throws InterruptedException {
    if (warmup > 0) {
      LoadTest.run(predict, body, "application/json", clients, warmup, null);
    }
    LoadTest.Result r = LoadTest.run(predict, body, "application/json", clients, requests, null);
    System.out.println("loadtest " + predict + ": " + r);
    return r.errors() == 0 ? 0 : 1;
  }

  /** The first test image as JSON; random pixels when the dataset is not installed. */
  private byte[] body() {
    float[] pixels;
    try (TensorDataset test = TrainCommand.load(data, FashionMnist.Split.TEST);
        Batch b = test.batch(new long[] {0})) {
      pixels = b.x().toFloatArray();
    } catch (UncheckedIOException missing) {
      System.err.println("loadtest: Fashion-MNIST not found, sending random pixels");
      try (Scope s = Scope.open()) {
        pixels = Tensor.rand(new Generator(0), 784).toFloatArray();
      }
    }
    StringBuilder json = new StringBuilder("{\"image\":[");
    for (int i = 0; i < pixels.length; i++) {
      json.append(i == 0 ? "" : ",").append(pixels[i]);
    }
    return json.append("]}").toString().getBytes(StandardCharsets.UTF_8);
  }
}
