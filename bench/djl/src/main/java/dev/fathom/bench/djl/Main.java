package dev.fathom.bench.djl;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Set;

/**
 * PyTorch through DJL, on the workloads of ../shared/bench/pytorch: the same
 * models, hyperparameters and timing method, and RESULT lines in those scripts'
 * schema with "djl_" before the bench name and an "engine" field.
 *
 * <pre>
 *   train  --model NAME [--epochs E] [--lr LR] [--max-iters K] [--warmup W] [--resize N] [--no-eval] ...  (train_fmnist.py)
 *   infer  [--out FILE] [--run ID] [--models lenet@28,...] [--batches 1,256] [--seconds S]             (infer_bench.py)
 *   charlm --cell rnn|gru|lstm [--data FILE] [--epochs E] [--max-iters K] ...                          (train_charlm.py)
 *   info   engine, version and thread settings
 * </pre>
 *
 * Common options: --threads N (intra-op threads, default 2; one inter-op thread), --out FILE
 * (append the JSON lines), --tag TAG (default from OMP_WAIT_POLICY: "sleep" for PASSIVE, else "spin").
 * Nothing is downloaded: the native library comes from the pytorch-native-cpu jar and is unpacked
 * once into DJL_CACHE_DIR (default bench/djl/build/djl-cache).
 */
public final class Main {
  private Main() {}

  public static void main(String[] argv) throws Exception {
    if (argv.length == 0 || argv[0].equals("help") || argv[0].equals("--help") || argv[0].equals("-h")) {
      usage();
      return;
    }
    String cmd = argv[0];
    Set<String> flags = Set.of("no-eval");
    Args a = new Args(argv, 1, flags);
    configure(a.integer("threads", 2));
    switch (cmd) {
      case "train" -> TrainFmnist.run(a);
      case "infer" -> InferBench.run(a);
      case "charlm" -> CharLm.run(a);
      case "info" -> {
        Engine e = Engine.getInstance();
        System.out.println("DJL " + Engine.getDjlVersion() + ", engine " + e.getEngineName() + " " + e.getVersion()
            + ", intra-op threads " + JniUtils.getNumThreads() + ", inter-op threads "
            + JniUtils.getNumInteropThreads() + ", OMP_WAIT_POLICY=" + System.getenv("OMP_WAIT_POLICY")
            + ", cache " + System.getProperty("ENGINE_CACHE_DIR", System.getenv("ENGINE_CACHE_DIR")));
      }
      default -> {
        System.err.println("unknown command '" + cmd + "'");
        usage();
        System.exit(2);
      }
    }
  }

  private static void usage() {
    System.out.println("""
        usage: java -jar fathom-bench-djl.jar COMMAND [options]
          train  --model softmax|mlp|lenet-sigmoid|lenet|lenet-bn|resnet18 [--epochs 1] [--lr 0.1] [--batch 256]
                 [--max-iters 0] [--warmup 5] [--resize 0] [--seed 0] [--no-eval] [--data DIR]
          infer  [--run 0] [--models lenet@28,lenet-bn@28,resnet18@28,resnet18@96] [--batches 1,256]
                 [--seconds 3] [--min-calls 10] [--data DIR]
          charlm --cell rnn|gru|lstm [--epochs 1] [--lr 1] [--hidden 256] [--batch 32] [--steps 35]
                 [--max-iters 0] [--warmup 5] [--seed 0] [--data FILE]
          info
        common: --threads 2  --out FILE.jsonl  --tag TAG (default: sleep if OMP_WAIT_POLICY=PASSIVE, else spin)
        Fashion-MNIST: --data DIR (default /usr/share/datasets/fashion-mnist)""");
  }

  /** The engine reads these when it starts: no download, caches under build/, thread counts, quiet logs. */
  private static void configure(int threads) {
    setIfAbsent("ai.djl.offline", "true");
    setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    setIfAbsent("org.slf4j.simpleLogger.logFile", "System.err");
    // A CPU-only run: a CUDA runtime without a usable driver on the machine is no news.
    setIfAbsent("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils", "error");
    if (System.getenv("DJL_CACHE_DIR") == null && System.getProperty("DJL_CACHE_DIR") == null) {
      System.setProperty("DJL_CACHE_DIR", projectDir().resolve("build").resolve("djl-cache").toString());
    }
    if (System.getenv("ENGINE_CACHE_DIR") == null && System.getProperty("ENGINE_CACHE_DIR") == null) {
      String djl = System.getenv("DJL_CACHE_DIR") != null ? System.getenv("DJL_CACHE_DIR")
          : System.getProperty("DJL_CACHE_DIR");
      System.setProperty("ENGINE_CACHE_DIR", djl);
    }
    System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
    setIfAbsent("ai.djl.pytorch.num_interop_threads", "1");
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }

  /** bench/djl: the parent of the folder holding this jar (target/) or these classes (target/classes). */
  static Path projectDir() {
    try {
      Path p = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
      return p.getParent().getParent(); // p is target/classes or target/fathom-bench-djl.jar
    } catch (URISyntaxException | RuntimeException e) {
      return Path.of(".").toAbsolutePath();
    }
  }

  /** The "engine" field of every result, e.g. djl-pytorch-2.7.1. */
  static String engineName() {
    return "djl-pytorch-" + Engine.getInstance().getVersion();
  }
}
