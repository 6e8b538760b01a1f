package dev.fathom.spark;

import dev.fathom.data.TensorDataset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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

  /** The rows of a dataset (e.g. FashionMnist.load(...)) as a DataFrame, flattened per example. */
  public static Dataset<Row> fromDataset(SparkSession spark, TensorDataset data, int partitions) {
    float[] x = data.features().toFloatArray();
    long[] y = data.labels().toLongArray();
    int n = y.length;
    int d = x.length / Math.max(n, 1);
    List<Row> rows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Float[] f = new Float[d];
      for (int j = 0; j < d; j++) {
        f[j] = x[i * d + j];
      }
      rows.add(RowFactory.create(f, (int) y[i]));
    }
    return spark.createDataFrame(rows, EXAMPLES).repartition(partitions);
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
