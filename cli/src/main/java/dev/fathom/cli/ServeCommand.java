package dev.fathom.cli;

import dev.fathom.serve.PredictionServer;
import dev.fathom.serve.Predictor;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code fathom serve --checkpoint DIR | --onnx FILE [--port P]}: the example prediction service. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Serve a trained model over HTTP (POST /predict, GET /health).",
        "POST /predict takes {\"image\": [784 numbers]} (pixel / 255, row-major) or a 28x28 PNG",
        "(Content-Type: image/png) and answers with the label, class and top-3 probabilities.",
        "With --onnx, an example has the size of the model's input without its batch dimension",
        "(PNG for single-channel inputs) and classes are numbered."})
final class ServeCommand implements Callable<Integer> {
  @Mixin ModelSource source;

  @Option(names = "--onnx", paramLabel = "FILE",
      description = "serve an ONNX classifier instead: one input (N, ...), first output (N, classes)")
  Path onnx;

  @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1",
      description = "address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
  String host;

  @Option(names = "--port", paramLabel = "P", defaultValue = "8080", description = "port (default 8080; 0: any free)")
  int port;

  @Option(names = "--workers", paramLabel = "N", defaultValue = "8", description = "HTTP worker threads (default 8)")
  int workers;

  @Option(names = "--max-concurrency", paramLabel = "C",
      description = "predictions running at once (default: available processors)")
  Integer maxConcurrency;

  @Override
  public Integer call() throws Exception {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("serve: --port must be in [0, 65535], got " + port);
    }
    Checks.atLeast("serve", "--workers", workers, 1);
    if (onnx != null && (source.given() || source.model != null)) {
      throw new IllegalArgumentException("serve: give --checkpoint (with --model) or --onnx, not both");
    }
    Predictor.Builder b = onnx != null ? OnnxServing.predictor(onnx, "serve --onnx") : source.predictor("serve");
    if (maxConcurrency != null) {
      b.maxConcurrency(Checks.atLeast("serve", "--max-concurrency", maxConcurrency, 1));
    }
    try (Predictor p = b.build();
        PredictionServer server = PredictionServer.start(p, new InetSocketAddress(host, port), workers)) {
      Runtime.getRuntime().addShutdownHook(new Thread(server::close, "fathom-serve-shutdown"));
      System.out.printf("serving %s on http://%s:%d (POST /predict, GET /health); Ctrl-C stops%n", p.name(),
          server.address().getHostString(), server.port());
      System.out.flush();
      server.awaitTermination();
    }
    return 0;
  }
}
