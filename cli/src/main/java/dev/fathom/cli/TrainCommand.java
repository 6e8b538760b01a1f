package dev.fathom.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fathom.Fathom;
import dev.fathom.data.DataLoader;
import dev.fathom.data.FashionMnist;
import dev.fathom.data.TensorDataset;
import dev.fathom.data.Transforms;
import dev.fathom.io.Checkpoints;
import dev.fathom.io.SafeTensors;
import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.nn.Module;
import dev.fathom.optim.Adam;
import dev.fathom.optim.CosineAnnealingLR;
import dev.fathom.optim.Optimizer;
import dev.fathom.optim.SGD;
import dev.fathom.optim.StepLR;
import dev.fathom.tensor.Generator;
import dev.fathom.text.SequenceSampler;
import dev.fathom.train.CheckpointListener;

import dev.fathom.train.EpochMetrics;
import dev.fathom.train.MetricsCsv;
import dev.fathom.train.ProgressBar;
import dev.fathom.train.Trainer;
import dev.fathom.zoo.ModelSpec;
import dev.fathom.zoo.Models;
import java.io.FileNotFoundException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code fathom train --model NAME ...}: trains a zoo model on Fashion-MNIST with
 * a progress bar on stderr. Its --out folder gets {@code metrics.csv},
 * {@code curves.png}, {@code model.safetensors} (PyTorch state-dict names, plus the
 * {@link ModelSpec} in the header) and {@code checkpoint.safetensors} (everything
 * {@code --resume DIR} needs to continue exactly), all rewritten after every epoch.
 *
 * <p>Language models ({@code --model char-rnn|char-gru|char-lstm}) are trained by
 * {@link LanguageModelCommands} from the shared options and the {@link LanguageModelOptions} group
 * (checked by {@link #languageModelOptions()}).
 * Another model family plugs in the same way: an option group and one dispatch line in {@link #call()}.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Train a zoo model on Fashion-MNIST, with progress, plot and checkpoint.",
        "Writes DIR/metrics.csv, DIR/curves.png, DIR/model.safetensors (PyTorch state-dict names) and",
        "DIR/checkpoint.safetensors (for --resume) after every epoch."})
final class TrainCommand implements Callable<Integer> {
  static final String CONFIG_KEY = "fathom.train";
  static final String CHECKPOINT = "checkpoint.safetensors";
  static final String WEIGHTS = "model.safetensors";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Completion candidates and help text for --model. */
  static final class ModelNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return Models.NAMES.iterator();
    }
  }

  @Option(names = "--model", paramLabel = "NAME", completionCandidates = ModelNames.class,
      description = "required: ${COMPLETION-CANDIDATES}, or a language model: char-rnn, char-gru, char-lstm")
  String model;

  @Option(names = "--epochs", paramLabel = "E", description = "epochs in total (default 10)")
  Integer epochs;

  @Option(names = "--batch-size", paramLabel = "B", description = "minibatch size (default 256)")
  Integer batchSize;

  @Option(names = "--lr", paramLabel = "LR", description = "learning rate (default per model, e.g. lenet 0.05)")
  Double lr;

  @Option(names = "--optimizer", paramLabel = "sgd|adam", description = "optimizer (default sgd)")
  String optimizer;

  @Option(names = "--momentum", paramLabel = "M", description = "SGD momentum (default per model, 0 or 0.9)")
  Double momentum;

  @Option(names = "--weight-decay", paramLabel = "WD", description = "L2 weight decay (default 0)")
  Double weightDecay;

  @Option(names = "--dropout", paramLabel = "P", description = "dropout after the MLP's hidden layer (default 0)")
  Double dropout;

  @Option(names = "--schedule", paramLabel = "none|cosine|step", description = "learning-rate schedule (default none)")
  String schedule;

  @Option(names = "--resize", paramLabel = "N", description = "input side (default: the model's; resnet18 28)")
  Integer resize;

  @Option(names = "--seed", paramLabel = "S", description = "seed of initialisation, dropout and shuffling (default 0)")
  Long seed;

  @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST IDX files (default: see README)")
  String data;

  @Option(names = "--out", paramLabel = "DIR", description = "output folder (default runs/NAME)")
  Path out;

  @Option(names = "--prefetch", paramLabel = "K", description = "batches loaded ahead on a background thread (default 1)")
  Integer prefetch;

  @Option(names = "--limit", paramLabel = "N", description = "train on the first N training images only (default: all)")
  Integer limit;

  @Option(names = "--resume", paramLabel = "DIR",
      description = "continue the run in DIR from its checkpoint (its configuration; --epochs may raise the total)")
  Path resume;

  @ArgGroup(validate = false, heading = "%nCharacter language models (--model char-rnn|char-gru|char-lstm; also --data "
      + "TEXT_OR_ZIP, --epochs, --optimizer, --lr, --batch-size, --seed, --out):%n")
  LanguageModelOptions languageModel;

  /** Options of {@code train --model char-*}, checked by {@link #languageModelOptions()}. */
  static final class LanguageModelOptions {
    @Option(names = "--sampling", paramLabel = "random|sequential", description = "minibatch sampling (default sequential)")
    String sampling;

    @Option(names = "--hidden", paramLabel = "H", description = "hidden units (default 256)")
    Integer hidden;

    @Option(names = "--layers", paramLabel = "L", description = "stacked recurrent layers (default 1)")
    Integer layers;

    @Option(names = "--embedding", paramLabel = "E", description = "embedding size; 0: one-hot input (default 0)")
    Integer embedding;

    @Option(names = "--steps", paramLabel = "T", description = "time steps per subsequence (default 35)")
    Integer steps;

    @Option(names = "--clip", paramLabel = "THETA", description = "gradient norm clipping (default 1)")
    Double clip;

    @Option(names = "--gru", paramLabel = "notes|pytorch", description = "GRU formulation for char-gru (default notes)")
    String gru;

    @Option(names = "--max-chars", paramLabel = "C", description = "use the first C characters (default: all)")
    Integer maxChars;

    @Option(names = "--prefix", paramLabel = "TEXT", description = "prefix of the sample printed after each epoch")
    String prefix;

    @Option(names = "--join-lines", description = "join the corpus' lines into one text")
    boolean joinLines;
  }

  /** What a run is made of; stored in its checkpoint so that --resume rebuilds the same objects. */
  record Config(String model, int epochs, int batchSize, double lr, String optimizer, double momentum,
      double weightDecay, double dropout, String schedule, int resize, long seed, int limit) {}

  /**
   * Default learning rate and momentum per model (SGD, batch 256): the notes'
   * plain SGD for softmax regression and sigmoid LeNet, momentum 0.9 elsewhere.
   */
  static double[] defaults(String model) {
    return switch (model) {
      case "softmax" -> new double[] {0.1, 0};
      // MLP: momentum 0.9 lands above 0.87 in 10 epochs where plain SGD wobbles around 0.86.
      case "mlp" -> new double[] {0.1, 0.9};
      case "lenet-sigmoid" -> new double[] {0.9, 0};
      case "lenet-bn" -> new double[] {0.1, 0.9};
      // Deep nets without batch norm: an effective step of 0.1 (the notes' plain-SGD rate); NiN and
      // GoogLeNet at 0.05 with momentum 0.9 (effective 0.5) stayed at chance for a whole epoch.
      case "alexnet", "vgg11", "nin", "googlenet" -> new double[] {0.01, 0.9};
      case "resnet18", "densenet" -> new double[] {0.05, 0.9};
      default -> new double[] {0.05, 0.9};
    };
  }

  /** Default input side: the model's reference size, but 28 for ResNet-18 (its head adapts; 96 is 12x the work). */
  static int defaultResize(String model) {
    return model.equals("resnet18") ? 28 : Models.inputSize(model);
  }

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (model != null && LanguageModelCommands.MODELS.contains(model)) {
      return LanguageModelCommands.train(languageModelOptions(), System.out, System.err);
    }
    if (languageModel != null) {
      throw new IllegalArgumentException("train: " + String.join(", ", givenGroupOptions(spec))
          + " apply to the language models (" + String.join(", ", LanguageModelCommands.MODELS) + ") only");
    }
    Config config;
    Path dir;
    if (resume != null) {
      dir = resume;
      config = resumedConfig(resume);
    } else {
      config = newConfig();
      dir = out != null ? out : Path.of("runs", config.model());
    }
    return train(config, dir, resume != null);
  }

  /** The options {@code train --model char-*} takes besides its group's (and the global --threads). */
  private static final List<String> LANGUAGE_MODEL_SHARED = List.of("--model", "--data", "--epochs", "--lr",
      "--batch-size", "--optimizer", "--seed", "--out", "--threads");

  /** {@code train --model char-*}: checked in the order and with the defaults of the language models. */
  private LanguageModelCommands.TrainOptions languageModelOptions() {
    List<String> others = new ArrayList<>();
    for (OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
      if (o.group() == null && !LANGUAGE_MODEL_SHARED.contains(o.longestName())) {
        others.add(o.longestName());
      }
    }
    if (!others.isEmpty()) {
      throw new IllegalArgumentException("train: " + String.join(", ", others) + " do not apply to the language "
          + "models (" + String.join(", ", LanguageModelCommands.MODELS) + ")");
    }
    LanguageModelOptions g = languageModel != null ? languageModel : new LanguageModelOptions();
    String sampling = g.sampling == null ? "sequential" : g.sampling;
    if (!sampling.equals("random") && !sampling.equals("sequential")) {
      throw new IllegalArgumentException("train: --sampling must be random or sequential, got '" + sampling + "'");
    }
    String opt = optimizer == null ? "sgd" : optimizer;
    if (!opt.equals("sgd") && !opt.equals("adam")) {
      throw new IllegalArgumentException("train: --optimizer must be sgd or adam, got '" + opt + "'");
    }
    String gru = g.gru == null ? "notes" : g.gru;
    if (!gru.equals("notes") && !gru.equals("pytorch")) {
      throw new IllegalArgumentException("train: --gru must be notes or pytorch, got '" + gru + "'");
    }
    if (gru.equals("pytorch") && !model.equals("char-gru")) {
      throw new IllegalArgumentException("train: --gru applies to --model char-gru only");
    }
    return new LanguageModelCommands.TrainOptions(model,
        LanguageModelCommands.CorpusOptions.of("train", data, g.joinLines, g.maxChars),
        sampling.equals("random") ? SequenceSampler.Method.RANDOM : SequenceSampler.Method.SEQUENTIAL,
        Checks.atLeast("train", "--epochs", epochs == null ? 10 : epochs, 1), opt,
        Checks.within("train", "--lr", lr != null ? lr : opt.equals("sgd") ? 1.0 : 0.005, 0, 100),
        Checks.atLeast("train", "--hidden", g.hidden == null ? 256 : g.hidden, 1),
        Checks.atLeast("train", "--layers", g.layers == null ? 1 : g.layers, 1),
        Checks.atLeast("train", "--embedding", g.embedding == null ? 0 : g.embedding, 0), gru.equals("pytorch"),
        Checks.atLeast("train", "--steps", g.steps == null ? 35 : g.steps, 1),
        Checks.atLeast("train", "--batch-size", batchSize == null ? 32 : batchSize, 1),
        Checks.within("train", "--clip", g.clip == null ? 1 : g.clip, 0, 1e6),
        out != null ? out : Path.of("runs/" + model), seed == null ? 0 : seed, g.prefix);
  }

  private Config newConfig() {
    if (model == null) {
      throw new IllegalArgumentException("train: --model is required (one of " + Models.NAMES + ")");
    }
    if (!Models.NAMES.contains(model)) {
      throw new IllegalArgumentException("train: unknown model '" + model + "' (one of " + Models.NAMES + " or "
          + LanguageModelCommands.MODELS + ")");
    }
    double[] d = defaults(model);
    String opt = optimizer == null ? "sgd" : optimizer;
    if (!opt.equals("sgd") && !opt.equals("adam")) {
      throw new IllegalArgumentException("train: --optimizer must be sgd or adam, got '" + opt + "'");
    }
    String sched = schedule == null ? "none" : schedule;
    if (!List.of("none", "cosine", "step").contains(sched)) {
      throw new IllegalArgumentException("train: --schedule must be none, cosine or step, got '" + sched + "'");
    }
    double drop = Checks.within("train", "--dropout", dropout == null ? 0 : dropout, 0, 0.99);
    if (drop > 0 && !model.equals("mlp")) {
      throw new IllegalArgumentException("train: --dropout applies to --model mlp only");
    }
    return new Config(model, Checks.atLeast("train", "--epochs", epochs == null ? 10 : epochs, 1),
        Checks.atLeast("train", "--batch-size", batchSize == null ? 256 : batchSize, 1),
        Checks.within("train", "--lr", lr == null ? d[0] : lr, 0, 100), opt,
        Checks.within("train", "--momentum", momentum == null ? d[1] : momentum, 0, 1),
        Checks.within("train", "--weight-decay", weightDecay == null ? 0 : weightDecay, 0, 10), drop, sched,
        Checks.atLeast("train", "--resize", resize == null ? defaultResize(model) : resize, 8),
        seed == null ? 0 : seed, limit == null ? 0 : Checks.atLeast("train", "--limit", limit, 1));
  }

  private Config resumedConfig(Path dir) {
    List<String> given = new ArrayList<>();
    Map<String, Object> fixed = new LinkedHashMap<>();
    fixed.put("--model", model);
    fixed.put("--batch-size", batchSize);
    fixed.put("--lr", lr);
    fixed.put("--optimizer", optimizer);
    fixed.put("--momentum", momentum);
    fixed.put("--weight-decay", weightDecay);
    fixed.put("--dropout", dropout);
    fixed.put("--schedule", schedule);
    fixed.put("--resize", resize);
    fixed.put("--seed", seed);
    fixed.put("--limit", limit);
    fixed.put("--out", out);
    fixed.forEach((k, v) -> {
      if (v != null) {
        given.add(k);
      }
    });
    if (!given.isEmpty()) {
      throw new IllegalArgumentException("train --resume: the run's configuration comes from its checkpoint; "
          + "only --epochs, --data and --prefetch may be given (got " + String.join(", ", given) + ")");
    }
    Path ckpt = dir.resolve(CHECKPOINT);
    if (!Files.isRegularFile(ckpt)) {
      String msg = "train --resume: no " + CHECKPOINT + " in " + dir;
      throw new UncheckedIOException(msg, new FileNotFoundException(msg));
    }
    String json = SafeTensors.readMetadata(ckpt).get(CONFIG_KEY);
    if (json == null) {
      throw new IllegalArgumentException("train --resume: " + ckpt + " was not written by fathom train (no "
          + CONFIG_KEY + ")");
    }
    Config saved;
    try {
      saved = JSON.readValue(json, Config.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("train --resume: " + ckpt + ": invalid " + CONFIG_KEY + ": "
          + e.getOriginalMessage());
    }
    int total = epochs == null ? saved.epochs() : Checks.atLeast("train", "--epochs", epochs, 1);
    return new Config(saved.model(), total, saved.batchSize(), saved.lr(), saved.optimizer(), saved.momentum(),
        saved.weightDecay(), saved.dropout(), saved.schedule(), saved.resize(), saved.seed(), saved.limit());
  }

  private int train(Config c, Path dir, boolean resuming) throws Exception {
    int loadAhead = Checks.atLeast("train", "--prefetch", prefetch == null ? 1 : prefetch, 0);
    ModelSpec spec = new ModelSpec(c.model(), 10, 1, c.resize(), c.dropout());
    System.err.printf(Locale.ROOT, "fathom train: model=%s epochs=%d batch=%d lr=%s optimizer=%s "
            + "momentum=%s weight_decay=%s dropout=%s schedule=%s input=%dx%d seed=%d threads=%d out=%s%s%n",
        c.model(), c.epochs(), c.batchSize(), c.lr(), c.optimizer(), c.momentum(), c.weightDecay(), c.dropout(),
        c.schedule(), c.resize(), c.resize(), c.seed(), Fathom.numThreads(), dir, resuming ? " (resuming)" : "");
    long t0 = System.nanoTime();
    try (TensorDataset train = firstRows(load(data, FashionMnist.Split.TRAIN), c.limit());
        TensorDataset test = load(data, FashionMnist.Split.TEST)) {
      System.err.printf(Locale.ROOT, "Fashion-MNIST: %d train, %d test images (%.1f s)%n",
          train.size(), test.size(), (System.nanoTime() - t0) / 1e9);
      Generator gen = new Generator(c.seed());
      try (Module net = spec.create(gen);
          Optimizer opt = c.optimizer().equals("adam")
              ? new Adam(net.parameters(), c.lr(), 0.9, 0.999, 1e-8, c.weightDecay())
              : SGD.builder(net.parameters(), c.lr()).momentum(c.momentum()).weightDecay(c.weightDecay()).build();
          DataLoader trainLoader = loader(train, c.batchSize(), true, c.seed(), loadAhead, c.resize());
          DataLoader testLoader = loader(test, c.batchSize(), false, c.seed(), loadAhead, c.resize());
          MetricsCsv csv = new MetricsCsv(dir.resolve("metrics.csv"))) {
        Map<String, String> meta = new LinkedHashMap<>(spec.toMetadata());
        meta.put(CONFIG_KEY, JSON.writeValueAsString(c));
        Path checkpoint = dir.resolve(CHECKPOINT);
        Trainer.Builder tb = Trainer.builder(net, new CrossEntropyLoss(), opt).epochs(c.epochs()).generators(gen)
            .checkpoint(checkpoint).checkpointMetadata(meta);
        if (c.schedule().equals("cosine")) {
          tb.scheduler(new CosineAnnealingLR(opt, c.epochs(), 0));
        } else if (c.schedule().equals("step")) {
          tb.scheduler(new StepLR(opt, Math.max(1, c.epochs() / 3), 0.1));
        }
        Trainer trainer = tb.build();
        if (resuming) {
          trainer.loadCheckpoint(checkpoint);
        }
        Path weights = dir.resolve(WEIGHTS);
        Path curves = dir.resolve("curves.png");
        List<EpochMetrics> history = trainer.fit(trainLoader, testLoader, new ProgressBar(), csv,
            new CurvesPlot(curves, "Fashion-MNIST, " + c.model()),
            new CheckpointListener(1, m -> Checkpoints.save(net, spec.toMetadata(), weights)));
        EpochMetrics last = history.get(history.size() - 1);
        System.out.printf(Locale.ROOT, "%s: test accuracy %.4f, train accuracy %.4f after %d epochs "
                + "(%.0f images/s); metrics in %s, curves in %s, weights in %s, checkpoint in %s%n", c.model(),
            last.testAcc(), last.trainAcc(), last.epoch(), last.examplesPerSecond(), dir.resolve("metrics.csv"),
            curves, weights, checkpoint);
      }
    }
    return 0;
  }

  static DataLoader loader(TensorDataset data, int batch, boolean shuffle, long seed, int prefetch, int resize) {
    DataLoader.Builder b = DataLoader.builder(data).batchSize(batch).shuffle(shuffle).seed(seed).prefetch(prefetch);
    if (resize != FashionMnist.SIZE) {
      b.transform(Transforms.resize(resize));
    }
    return b.build();
  }

  /** The first {@code limit} training images (a documented budget for the big models); all when 0. */
  private static TensorDataset firstRows(TensorDataset all, long limit) {
    if (limit == 0 || limit >= all.size()) {
      return all;
    }
    try (all) {
      return new TensorDataset(all.features().narrow(0, 0, limit).contiguous(),
          all.labels().narrow(0, 0, limit).contiguous());
    }
  }

  /** Names of the given options that belong to an option group (the language-model options). */
  private static List<String> givenGroupOptions(CommandSpec spec) {
    List<String> names = new ArrayList<>();
    for (OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
      if (o.group() != null) {
        names.add(o.longestName());
      }
    }
    return names;
  }

  static TensorDataset load(String dir, FashionMnist.Split split) {
    return dir == null ? FashionMnist.load(split) : FashionMnist.load(Path.of(dir), split);
  }
}
