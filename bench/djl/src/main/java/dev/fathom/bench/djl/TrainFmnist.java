package dev.fathom.bench.djl;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * train_fmnist.py through DJL: the whole data set in memory as float32 in [0, 1]
 * (N, 1, 28, 28); each epoch a seeded random permutation, batch 256, last partial
 * batch kept. Timed iteration = batch gather (+ bilinear resize with --resize) +
 * forward + cross-entropy + backward + SGD step (DJL's Trainer, GradientCollector,
 * SoftmaxCrossEntropyLoss and Sgd). images/s = 256 / median(iteration time) over
 * the full-size batches after the first W iterations. Test accuracy: eval mode,
 * no gradient, batch 256.
 */
final class TrainFmnist {
  private TrainFmnist() {}

  static void run(Args a) throws Exception {
    String modelName = a.required("model");
    int epochs = a.integer("epochs", 1);
    double lr = a.real("lr", 0.1);
    int batch = a.integer("batch", 256);
    int maxIters = a.integer("max-iters", 0);
    int warmup = a.integer("warmup", 5);
    int resize = a.integer("resize", 0);
    int seed = a.integer("seed", 0);
    String out = a.str("out", null);
    String tag = a.tag();
    boolean noEval = a.flag("no-eval");
    String dir = a.str("data", FashionMnist.DEFAULT_DIR);

    Engine engine = Engine.getInstance();
    engine.setRandomSeed(seed);
    long tStart = System.nanoTime();
    FashionMnist.Split tr = FashionMnist.load(dir, "train");
    FashionMnist.Split te = FashionMnist.load(dir, "test");
    int side = tr.rows();
    int size = resize > 0 ? resize : side;

    try (NDManager root = NDManager.newBaseManager();
        Model model = Model.newInstance(modelName)) {
      NDArray xtr = root.create(tr.images(), new Shape(tr.n(), 1, side, side));
      NDArray ytr = root.create(tr.labels());
      NDArray xte = root.create(te.images(), new Shape(te.n(), 1, side, side));
      NDArray yte = root.create(te.labels());
      model.setBlock(Models.create(modelName));
      Optimizer sgd = Optimizer.sgd().setLearningRateTracker(Tracker.fixed((float) lr)).build();
      DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()).optOptimizer(sgd);

      try (Trainer trainer = model.newTrainer(config)) {
        trainer.initialize(new Shape(batch, 1, size, size));
        Random g = new Random(seed);
        List<Double> iterTimes = new ArrayList<>();
        List<Double> foreign = new ArrayList<>();
        List<Object> epochsLog = new ArrayList<>();
        int it = 0;
        boolean done = false;
        for (int ep = 0; ep < epochs; ep++) {
          long[] perm = permutation(tr.n(), g);
          long tEp = System.nanoTime();
          double lossSum = 0;
          long nSeen = 0;
          long correct = 0;
          for (int i = 0; i < tr.n(); i += batch) {
            int len = Math.min(batch, tr.n() - i);
            Probe p = new Probe();
            try (NDManager sub = root.newSubManager()) {
              p.start();
              NDArray idx = sub.create(Arrays.copyOfRange(perm, i, i + len));
              NDArray x = xtr.get(new NDIndex("{}", idx));
              x.attach(sub);
              x = prep(x, resize);
              NDArray y = ytr.get(new NDIndex("{}", idx));
              y.attach(sub);
              NDArray yhat;
              NDArray l;
              try (GradientCollector gc = trainer.newGradientCollector()) {
                yhat = trainer.forward(new NDList(x)).singletonOrThrow();
                l = trainer.getLoss().evaluate(new NDList(y), new NDList(yhat));
                gc.backward(l);
              }
              trainer.step();
              p.stop();
              lossSum += l.getFloat() * len;
              nSeen += len;
              correct += yhat.argMax(1).eq(y).sum().getLong();
            }
            if (len == batch && it >= warmup) {
              iterTimes.add(p.wall);
              foreign.add(p.foreignCores);
            }
            it++;
            if (maxIters > 0 && it >= maxIters) {
              done = true;
              break;
            }
          }
          double epTime = (System.nanoTime() - tEp) / 1e9;
          Map<String, Object> rec = Json.object();
          rec.put("epoch", ep + 1);
          rec.put("train_loss", lossSum / nSeen);
          rec.put("train_acc", (double) correct / nSeen);
          rec.put("epoch_s", epTime);
          rec.put("images", nSeen);
          if (!noEval && !done) {
            long t0 = System.nanoTime();
            rec.put("test_acc", evaluate(trainer, root, xte, yte, te.n(), resize));
            rec.put("eval_s", (System.nanoTime() - t0) / 1e9);
          }
          epochsLog.add(rec);
          System.out.println("EPOCH " + Json.write(rec));
          System.out.flush();
          if (done) {
            break;
          }
        }
        List<Double> ms = iterTimes.stream().map(t -> t * 1e3).toList();
        Map<String, Object> res = Json.object();
        res.put("bench", "djl_train_fmnist");
        res.put("engine", Main.engineName());
        res.put("model", modelName);
        res.put("tag", tag);
        res.put("resize", size);
        res.put("batch", batch);
        res.put("lr", lr);
        res.put("threads", JniUtils.getNumThreads());
        res.put("interop_threads", JniUtils.getNumInteropThreads());
        res.put("seed", seed);
        res.put("iters_total", it);
        res.put("warmup", warmup);
        res.put("iter_ms", Json.stats(ms));
        res.put("img_per_s_median_iter", batch / Json.median(iterTimes));
        res.put("img_per_s_per_iter", Json.stats(iterTimes.stream().map(t -> batch / t).toList()));
        res.put("foreign_cores", Json.stats(foreign));
        res.put("epochs", epochsLog);
        @SuppressWarnings("unchecked")
        Map<String, Object> last = (Map<String, Object>) epochsLog.get(epochsLog.size() - 1);
        res.put("final_test_acc", last.get("test_acc"));
        res.put("total_s", (System.nanoTime() - tStart) / 1e9);
        res.put("OPENBLAS_CORETYPE", System.getenv("OPENBLAS_CORETYPE"));
        res.put("OMP_WAIT_POLICY", System.getenv("OMP_WAIT_POLICY"));
        res.put("djl_version", Engine.getDjlVersion());
        Json.emit(res, out);
      }
    }
  }

  /** F.interpolate(x, size=(r, r), mode='bilinear', align_corners=False) when r > 0. */
  static NDArray prep(NDArray x, int resize) {
    if (resize <= 0) {
      return x;
    }
    // DJL's PyTorch interpolation: torch.nn.functional.interpolate, bilinear (Image.Interpolation 1)
    return x.getNDArrayInternal().interpolation(new long[] {resize, resize}, 1, false);
  }

  private static double evaluate(Trainer trainer, NDManager root, NDArray xte, NDArray yte, int n, int resize) {
    long correct = 0;
    for (int i = 0; i < n; i += 256) {
      try (NDManager sub = root.newSubManager()) {
        NDArray x = xte.get("{}:{}", i, Math.min(n, i + 256));
        x.attach(sub);
        NDArray y = yte.get("{}:{}", i, Math.min(n, i + 256));
        y.attach(sub);
        NDArray yhat = trainer.evaluate(new NDList(prep(x, resize))).singletonOrThrow();
        correct += yhat.argMax(1).eq(y).sum().getLong();
      }
    }
    return (double) correct / n;
  }

  private static long[] permutation(int n, Random g) {
    long[] p = new long[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = g.nextInt(i + 1);
      long t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
