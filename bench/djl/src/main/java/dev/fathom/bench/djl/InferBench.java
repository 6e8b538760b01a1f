package dev.fathom.bench.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * infer_bench.py through DJL: inference latency (eval mode, no gradient) of
 * LeNet variants and ResNet-18 at batch 1 and 256. Input = the first B
 * Fashion-MNIST test images (bilinear-resized if size != 28); weights: fresh
 * (xavier) init. Each configuration: 5 warm-up calls, then timed calls for ~3 s
 * (at least 10); reports per-call latency in ms. A call frees what it made
 * before its clock stops, as the Python call does.
 */
final class InferBench {
  private static final String DEFAULT_MODELS = "lenet@28,lenet-bn@28,resnet18@28,resnet18@96";

  private InferBench() {}

  static void run(Args a) throws Exception {
    String out = a.str("out", null);
    String run = a.str("run", "0");
    String tag = a.tag();
    double seconds = a.real("seconds", 3.0);
    int minCalls = a.integer("min-calls", 10);
    String[] configs = a.str("models", DEFAULT_MODELS).split(",");
    String[] batches = a.str("batches", "1,256").split(",");
    String dir = a.str("data", FashionMnist.DEFAULT_DIR);

    Engine.getInstance().setRandomSeed(0);
    FashionMnist.Split te = FashionMnist.load(dir, "test");
    try (NDManager root = NDManager.newBaseManager()) {
      NDArray xte = root.create(te.images(), new Shape(te.n(), 1, te.rows(), te.cols()));
      for (String c : configs) {
        String[] ms = c.trim().split("@");
        String name = ms[0];
        int size = ms.length > 1 ? Integer.parseInt(ms[1]) : 28;
        try (NDManager m = root.newSubManager()) {
          Block net = Models.create(name);
          net.initialize(m, DataType.FLOAT32, new Shape(1, 1, size, size));
          ParameterStore ps = new ParameterStore(m, false);
          for (String bs : batches) {
            int b = Integer.parseInt(bs.trim());
            NDArray x = xte.get("0:{}", b);
            x.attach(m);
            if (size != te.rows()) {
              x = TrainFmnist.prep(x, size);
            }
            NDArray input = x.duplicate(); // contiguous, as X.contiguous()
            for (int i = 0; i < 5; i++) {
              call(net, ps, input, m);
            }
            List<Double> ts = new ArrayList<>();
            List<Double> fc = new ArrayList<>();
            long end = System.nanoTime() + (long) (seconds * 1e9);
            while (System.nanoTime() < end || ts.size() < minCalls) {
              Probe p = new Probe().start();
              call(net, ps, input, m);
              p.stop();
              ts.add(p.wall * 1e3);
              fc.add(p.foreignCores);
            }
            Map<String, Object> res = Json.object();
            res.put("bench", "djl_infer");
            res.put("engine", Main.engineName());
            res.put("model", name);
            res.put("size", size);
            res.put("batch", b);
            res.put("run", run);
            res.put("tag", tag);
            res.put("threads", JniUtils.getNumThreads());
            res.put("interop_threads", JniUtils.getNumInteropThreads());
            res.put("OMP_WAIT_POLICY", System.getenv("OMP_WAIT_POLICY"));
            res.put("latency_ms", Json.stats(ts));
            res.put("img_per_s_median", b / (Json.median(ts) / 1e3));
            res.put("foreign_cores", Json.stats(fc));
            Json.emit(res, out);
          }
        }
      }
    }
  }

  /** One forward call; everything it allocates is released when it returns. */
  private static void call(Block net, ParameterStore ps, NDArray input, NDManager home) {
    try (NDManager call = home.newSubManager()) {
      input.tempAttach(call);
      net.forward(ps, new NDList(input), false);
    }
  }
}
