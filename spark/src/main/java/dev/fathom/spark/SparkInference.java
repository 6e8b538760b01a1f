package dev.fathom.spark;

import dev.fathom.serve.Predictor;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Distributed inference: scores a DataFrame's features column with a Fathom model. The
 * model file (a model.safetensors written by {@code ./fathom train} or Checkpoints.save
 * with its ModelSpec metadata) is broadcast once; each executor builds one thread-safe
 * {@link Predictor} from it, shared by all its tasks, and every partition is scored in
 * batches.
 *
 * <pre>{@code
 * Dataset<Row> scored = SparkInference.fromModelFile(spark, Path.of("runs/lenet/model.safetensors"))
 *     .batchSize(256).score(frame, "features");     // adds prediction (int) and probabilities (array<float>)
 * }</pre>
 */
public final class SparkInference implements Serializable {
  public static final String PREDICTION = "prediction";
  public static final String PROBABILITIES = "probabilities";

  /** One predictor per model per executor JVM, keyed by the broadcast's id. */
  private static final Map<Long, Predictor> PREDICTORS = new ConcurrentHashMap<>();

  private final Broadcast<byte[]> model;
  private int batchSize = 256;

  private SparkInference(Broadcast<byte[]> model) {
    this.model = model;
  }

  /** Broadcasts the model file's bytes to the cluster. */
  public static SparkInference fromModelFile(SparkSession spark, Path modelFile) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(modelFile);
    } catch (IOException e) {
      throw new UncheckedIOException("SparkInference: cannot read " + modelFile, e);
    }
    // Fails here, on the driver, if the file is not a loadable model.
    withPredictor(bytes, p -> null);
    return new SparkInference(JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(bytes));
  }

  public SparkInference batchSize(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("SparkInference: batchSize=" + n + " must be >= 1");
    }
    this.batchSize = n;
    return this;
  }

  /** `frame` with two more columns: the predicted class and the class probabilities. */
  public Dataset<Row> score(Dataset<Row> frame, String featuresColumn) {
    StructType in = frame.schema();
    int column = in.fieldIndex(featuresColumn);
    StructType out = in.add(PREDICTION, DataTypes.IntegerType, false)
        .add(PROBABILITIES, DataTypes.createArrayType(DataTypes.FloatType, false), false);
    Broadcast<byte[]> m = model;
    int batch = batchSize;
    MapPartitionsFunction<Row, Row> f = rows -> scorePartition(rows, column, m, batch);
    return frame.mapPartitions(f, Encoders.row(out));
  }

  private static Iterator<Row> scorePartition(Iterator<Row> rows, int column, Broadcast<byte[]> model, int batchSize) {
    Predictor p = PREDICTORS.computeIfAbsent(model.id(), id -> load(model.value()));
    return new Iterator<>() {
      private final List<Row> pending = new ArrayList<>();
      private int next;

      @Override
      public boolean hasNext() {
        if (next < pending.size()) {
          return true;
        }
        pending.clear();
        next = 0;
        List<Row> batch = new ArrayList<>(batchSize);
        while (batch.size() < batchSize && rows.hasNext()) {
          batch.add(rows.next());
        }
        if (batch.isEmpty()) {
          return false;
        }
        float[][] x = new float[batch.size()][];
        for (int i = 0; i < x.length; i++) {
          x[i] = Frames.floats(batch.get(i), column, "SparkInference");
          if (x[i].length != p.exampleSize()) {
            throw new IllegalArgumentException("SparkInference: a row has " + x[i].length + " features, the model "
                + p.name() + " takes " + p.exampleSize() + " " + Arrays.toString(p.exampleShape()));
          }
        }
        float[][] logits = p.logits(x);
        for (int i = 0; i < x.length; i++) {
          float[] prob = softmax(logits[i]);
          int best = 0;
          for (int c = 1; c < prob.length; c++) {
            if (prob[c] > prob[best]) {
              best = c;
            }
          }
          Row r = batch.get(i);
          Object[] values = new Object[r.size() + 2];
          for (int c = 0; c < r.size(); c++) {
            values[c] = r.get(c);
          }
          Float[] boxed = new Float[prob.length];
          for (int c = 0; c < prob.length; c++) {
            boxed[c] = prob[c];
          }
          values[r.size()] = best;
          values[r.size() + 1] = boxed;
          pending.add(RowFactory.create(values));
        }
        return true;
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new java.util.NoSuchElementException();
        }
        return pending.get(next++);
      }
    };
  }

  private static float[] softmax(float[] z) {
    float max = Float.NEGATIVE_INFINITY;
    for (float v : z) {
      max = Math.max(max, v);
    }
    double sum = 0;
    float[] out = new float[z.length];
    for (int i = 0; i < z.length; i++) {
      out[i] = (float) Math.exp(z[i] - max);
      sum += out[i];
    }
    for (int i = 0; i < z.length; i++) {
      out[i] /= (float) sum;
    }
    return out;
  }

  private static Predictor load(byte[] bytes) {
    try {
      Path f = Files.createTempFile("fathom-spark-model-", ".safetensors");
      try {
        Files.write(f, bytes);
        return Predictor.builder(f).build();
      } finally {
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("SparkInference: cannot stage the model", e);
    }
  }

  private static <T> T withPredictor(byte[] bytes, java.util.function.Function<Predictor, T> use) {
    try (Predictor p = load(bytes)) {
      return use.apply(p);
    }
  }

  /** Closes this JVM's predictor of this model (e.g. on the driver in local mode, after the last score). */
  public void release() {
    Predictor p = PREDICTORS.remove(model.id());
    if (p != null) {
      p.close();
    }
    model.destroy();
  }
}
