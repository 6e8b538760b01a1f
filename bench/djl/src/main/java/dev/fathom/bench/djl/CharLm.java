package dev.fathom.bench.djl;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.recurrent.GRU;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.nn.recurrent.RNN;
import ai.djl.nn.recurrent.RecurrentBlock;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.PairList;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.zip.ZipFile;

/**
 * train_charlm.py through DJL: character language model (d2l's concise
 * RNNModel). Raw characters of --data (a .zip is read from its first member),
 * vocab = sorted set of characters; one-hot input -> DJL's RNN (tanh), GRU or
 * LSTM block (hidden 256, time-major, PyTorch's fused kernels underneath) ->
 * Linear(256, V). Batch 32, 35 steps, d2l sequential partitioning (random offset
 * per epoch, hidden state carried across minibatches and detached), SGD lr 1,
 * gradient clipping to global norm 1 (as torch.nn.utils.clip_grad_norm_: DJL's
 * optimizer clip is per element), mean cross-entropy. tokens/s = 32 * 35 /
 * median(iteration time) after W warm-up iterations; perplexity = exp(mean token
 * loss over the epoch). Parameters: PyTorch's defaults, U(-1/sqrt(256), 1/sqrt(256)).
 */
final class CharLm {
  private CharLm() {}

  static void run(Args a) throws Exception {
    String cell = a.required("cell");
    int epochs = a.integer("epochs", 1);
    double lr = a.real("lr", 1.0);
    int hidden = a.integer("hidden", 256);
    int batch = a.integer("batch", 32);
    int steps = a.integer("steps", 35);
    int maxIters = a.integer("max-iters", 0);
    int warmup = a.integer("warmup", 5);
    int seed = a.integer("seed", 0);
    String out = a.str("out", null);
    String tag = a.tag();
    Path data = Path.of(a.str("data", defaultData().toString()));

    Engine.getInstance().setRandomSeed(seed);
    Random random = new Random(seed);
    String text = read(data);
    int[] cps = text.codePoints().toArray();
    TreeSet<Integer> set = new TreeSet<>();
    for (int c : cps) {
      set.add(c);
    }
    int[] vocab = set.stream().mapToInt(Integer::intValue).toArray();
    Map<Integer, Integer> stoi = new java.util.HashMap<>();
    for (int i = 0; i < vocab.length; i++) {
      stoi.put(vocab[i], i);
    }
    int v = vocab.length;
    long[] corpus = new long[cps.length];
    for (int i = 0; i < cps.length; i++) {
      corpus[i] = stoi.get(cps[i]);
    }

    try (NDManager root = NDManager.newBaseManager();
        Model model = Model.newInstance("charlm-" + cell)) {
      CharRnn net = new CharRnn(cell, v, hidden);
      model.setBlock(net);
      Optimizer sgd = Optimizer.sgd().setLearningRateTracker(Tracker.fixed((float) lr)).build();
      DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()).optOptimizer(sgd);
      try (Trainer trainer = model.newTrainer(config)) {
        trainer.initialize(new Shape(batch, steps));
        List<NDArray> params = new ArrayList<>();
        for (Parameter p : net.getParameters().values()) {
          if (p.requiresGradient()) {
            params.add(p.getArray());
          }
        }
        long tStart = System.nanoTime();
        List<Double> iterTimes = new ArrayList<>();
        List<Double> foreign = new ArrayList<>();
        List<Object> log = new ArrayList<>();
        int it = 0;
        boolean done = false;
        for (int ep = 0; ep < epochs; ep++) {
          double lsum = 0;
          long ntok = 0;
          long tEp = System.nanoTime();
          // d2l seq_data_iter_sequential
          int offset = random.nextInt(steps + 1);
          int n = ((corpus.length - offset - 1) / batch) * batch;
          long[] xs = new long[n];
          long[] ys = new long[n];
          System.arraycopy(corpus, offset, xs, 0, n);
          System.arraycopy(corpus, offset + 1, ys, 0, n);
          try (NDManager epm = root.newSubManager()) {
            NDArray xAll = epm.create(xs, new Shape(batch, n / batch));
            NDArray yAll = epm.create(ys, new Shape(batch, n / batch));
            long cols = n / batch;
            NDList state = null;
            NDManager prev = null;
            for (long i = 0; i < (cols / steps) * steps; i += steps) {
              NDManager cur = epm.newSubManager();
              NDArray x = xAll.get(":, {}:{}", i, i + steps);
              x.attach(cur);
              NDArray y = yAll.get(":, {}:{}", i, i + steps);
              y.attach(cur);
              Probe p = new Probe().start();
              NDList input = new NDList(x);
              if (state != null) {
                for (NDArray s : state) {
                  NDArray d = s.stopGradient();
                  d.attach(cur);
                  input.add(d);
                }
                prev.close();
              }
              NDArray l;
              try (GradientCollector gc = trainer.newGradientCollector()) {
                NDList o = trainer.forward(input);
                state = o.subNDList(1);
                l = trainer.getLoss().evaluate(new NDList(y.transpose().reshape(-1)), new NDList(o.get(0)));
                gc.backward(l);
              }
              clipGradNorm(params, 1.0, cur);
              trainer.step();
              p.stop();
              prev = cur;
              lsum += l.getFloat() * y.size();
              ntok += y.size();
              if (it >= warmup) {
                iterTimes.add(p.wall);
                foreign.add(p.foreignCores);
              }
              it++;
              if (maxIters > 0 && it >= maxIters) {
                done = true;
                break;
              }
            }
            if (prev != null) {
              prev.close();
            }
          }
          Map<String, Object> rec = Json.object();
          rec.put("epoch", ep + 1);
          rec.put("ppl", Math.exp(lsum / ntok));
          rec.put("epoch_s", (System.nanoTime() - tEp) / 1e9);
          rec.put("tokens", ntok);
          log.add(rec);
          System.out.println("EPOCH " + Json.write(rec));
          System.out.flush();
          if (done) {
            break;
          }
        }
        int tok = batch * steps;
        Map<String, Object> res = Json.object();
        res.put("bench", "djl_charlm");
        res.put("engine", Main.engineName());
        res.put("cell", cell);
        res.put("tag", tag);
        res.put("vocab", v);
        res.put("corpus_chars", corpus.length);
        res.put("files", List.of(data.getFileName().toString()));
        res.put("hidden", hidden);
        res.put("batch", batch);
        res.put("steps", steps);
        res.put("lr", lr);
        res.put("threads", JniUtils.getNumThreads());
        res.put("interop_threads", JniUtils.getNumInteropThreads());
        res.put("iters_total", it);
        res.put("warmup", warmup);
        res.put("iter_ms", Json.stats(iterTimes.stream().map(t -> t * 1e3).toList()));
        res.put("tok_per_s_median_iter", tok / Json.median(iterTimes));
        res.put("tok_per_s_per_iter", Json.stats(iterTimes.stream().map(t -> tok / t).toList()));
        res.put("foreign_cores", Json.stats(foreign));
        res.put("epochs", log);
        @SuppressWarnings("unchecked")
        Map<String, Object> last = (Map<String, Object>) log.get(log.size() - 1);
        res.put("final_ppl", last.get("ppl"));
        res.put("sample", predict(trainer, root, "The ", 60, vocab, stoi));
        res.put("total_s", (System.nanoTime() - tStart) / 1e9);
        res.put("OMP_WAIT_POLICY", System.getenv("OMP_WAIT_POLICY"));
        res.put("djl_version", Engine.getDjlVersion());
        Json.emit(res, out);
      }
    }
  }

  /**
   * torch.nn.utils.clip_grad_norm_(params, maxNorm): total = ||(||g_1||, ..., ||g_k||)||,
   * every gradient scaled in place by min(1, maxNorm / (total + 1e-6)).
   */
  static void clipGradNorm(List<NDArray> params, double maxNorm, NDManager scope) {
    NDList grads = new NDList();
    for (NDArray w : params) {
      NDArray g = w.getGradient();
      g.attach(scope);
      grads.add(g);
    }
    NDList norms = new NDList();
    for (NDArray g : grads) {
      norms.add(g.norm());
    }
    NDArray total = NDArrays.stack(norms).norm();
    NDArray coef = total.add(1e-6).pow(-1).mul(maxNorm).minimum(1.0);
    for (NDArray g : grads) {
      g.muli(coef);
    }
  }

  private static String predict(Trainer trainer, NDManager root, String prefix, int n, int[] vocab,
      Map<Integer, Integer> stoi) {
    int[] pre = prefix.codePoints().toArray();
    List<Integer> out = new ArrayList<>();
    out.add(stoi.get(pre[0]));
    try (NDManager m = root.newSubManager()) {
      NDList state = new NDList();
      for (int k = 1; k < pre.length + n; k++) {
        NDList in = new NDList(m.create(new long[] {out.get(out.size() - 1)}, new Shape(1, 1)));
        in.addAll(state);
        NDList o = trainer.evaluate(in);
        state = o.subNDList(1);
        if (k < pre.length) {
          out.add(stoi.get(pre[k]));
        } else {
          out.add((int) o.get(0).argMax(1).getLong());
        }
      }
    }
    StringBuilder sb = new StringBuilder();
    for (int i : out) {
      sb.appendCodePoint(vocab[i]);
    }
    return sb.toString();
  }

  private static String read(Path data) throws IOException {
    if (data.toString().endsWith(".zip")) {
      try (ZipFile z = new ZipFile(data.toFile())) {
        var e = z.entries().nextElement();
        return new String(z.getInputStream(e).readAllBytes(), StandardCharsets.UTF_8);
      }
    }
    return Files.readString(data, StandardCharsets.UTF_8);
  }

  /** ../shared/data/timemachine.txt beside the repository (as the Python script's default). */
  private static Path defaultData() {
    String env = System.getenv("FATHOM_CHARLM_DATA");
    if (env != null) {
      return Path.of(env);
    }
    return Main.projectDir().resolve("../../../shared/data/timemachine.txt").normalize();
  }

  /**
   * d2l's RNNModel: forward(X (B, T) token ids, state...) = (Linear(rnn(one_hot(X.T)).reshape(-1, H)), state...).
   */
  static final class CharRnn extends AbstractBlock {
    private final RecurrentBlock rnn;
    private final Block linear;
    private final int vocab;
    private final int hidden;

    CharRnn(String cell, int vocab, int hidden) {
      super((byte) 1);
      this.vocab = vocab;
      this.hidden = hidden;
      RecurrentBlock r = switch (cell) {
        case "lstm" -> LSTM.builder().setStateSize(hidden).setNumLayers(1).optBatchFirst(false)
            .optReturnState(true).build();
        case "gru" -> GRU.builder().setStateSize(hidden).setNumLayers(1).optBatchFirst(false)
            .optReturnState(true).build();
        case "rnn" -> RNN.builder().setStateSize(hidden).setNumLayers(1).setActivation(RNN.Activation.TANH)
            .optBatchFirst(false).optReturnState(true).build();
        default -> throw new IllegalArgumentException("unknown cell '" + cell + "' (rnn, gru or lstm)");
      };
      // nn.RNN/GRU/LSTM.reset_parameters: every weight and bias from U(-1/sqrt(hidden), 1/sqrt(hidden))
      r.setInitializer(Models.uniform((float) (1 / Math.sqrt(hidden))), p -> true);
      rnn = addChildBlock("rnn", r);
      linear = addChildBlock("linear", Models.linear(hidden, vocab, Models.Init.TORCH_DEFAULT));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
        PairList<String, Object> params) {
      NDArray x = inputs.get(0);
      NDList in = new NDList(x.transpose().oneHot(vocab)); // (T, B, V) float32
      for (int i = 1; i < inputs.size(); i++) {
        in.add(inputs.get(i));
      }
      NDList o = rnn.forward(ps, in, training);
      NDArray y = o.get(0);
      NDList res = new NDList(linear.forward(ps, new NDList(y.reshape(-1, hidden)), training).singletonOrThrow());
      for (int i = 1; i < o.size(); i++) {
        res.add(o.get(i));
      }
      return res;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
      long b = inputs[0].get(0);
      long t = inputs[0].get(1);
      return new Shape[] {new Shape(t * b, vocab), new Shape(1, b, hidden)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
      long b = inputShapes[0].get(0);
      long t = inputShapes[0].get(1);
      rnn.initialize(manager, dataType, new Shape(t, b, vocab));
      linear.initialize(manager, dataType, new Shape(t * b, hidden));
    }
  }
}
