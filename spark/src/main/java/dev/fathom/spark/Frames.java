package dev.fathom.spark;

import dev.fathom.data.TensorDataset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.fathom.tensor.Scope;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** DataFrames of examples: a features column (array of float) and a label column (int). */
public final class Frames {
  /** Schema of {@link #fromDataset}: features array&lt;float&gt;, label int. */
  public static final StructType EXAMPLES = new StructType()
      .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
      .add("label", DataTypes.IntegerType, false);

  private Frames() {}

  /**
   * The rows of a dataset (e.g. FashionMnist.load(...)) as a DataFrame, each example
   * flattened. The rows live in the query plan, so use this for data that fits the
   * driver; {@link #cachedParquet} writes them to files that executors read in parallel.
   */
  public static Dataset<Row> fromDataset(SparkSession spark, TensorDataset data) {
    float[] x = data.features().toFloatArray();
    long[] y = data.labels().toLongArray();
    int n = y.length;
    int d = x.length / Math.max(n, 1);
    List<Row> rows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      rows.add(RowFactory.create(Arrays.copyOfRange(x, i * d, (i + 1) * d), (int) y[i]));
    }
    return spark.createDataFrame(rows, EXAMPLES);
  }

  /**
   * `data` as a Parquet table under `dir` (written once, in chunks of 10,000 rows, then
   * reused), read back as a DataFrame of {@code partitions} or more partitions.
   */
  public static Dataset<Row> cachedParquet(SparkSession spark, TensorDataset data, Path dir) {
    Path done = dir.resolve("_SUCCESS");
    if (!Files.exists(done)) {
      long n = data.size();
      for (long start = 0; start < n; start += 10_000) {
        long len = Math.min(10_000, n - start);
        try (Scope s = Scope.open();
             TensorDataset chunk = new TensorDataset(data.features().narrow(0, start, len).contiguous(),
                 data.labels().narrow(0, start, len).contiguous())) {
          fromDataset(spark, chunk).write().mode(start == 0 ? SaveMode.Overwrite : SaveMode.Append)
              .parquet(dir.toString());
        }
      }
    }
    return spark.read().parquet(dir.toString());
  }

  /** Column `i` of `row` as floats: an array of float, double or any number. */
  static float[] floats(Row row, int i, String who) {
    if (row.isNullAt(i)) {
      throw new IllegalArgumentException(who + ": column '" + row.schema().fields()[i].name() + "' is null");
    }
    List<Object> values = row.getList(i);
    float[] out = new float[values.size()];
    for (int j = 0; j < out.length; j++) {
      Object v = values.get(j);
      if (!(v instanceof Number num)) {
        throw new IllegalArgumentException(who + ": column '" + row.schema().fields()[i].name()
            + "' must be an array of numbers, element " + j + " is " + (v == null ? "null" : v.getClass().getName()));
      }
      out[j] = num.floatValue();
    }
    return out;
  }

  static String shape(long[] s) {
    return Arrays.toString(s);
  }
}
