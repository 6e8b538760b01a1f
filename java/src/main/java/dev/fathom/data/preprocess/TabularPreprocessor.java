package dev.fathom.data.preprocess;

import dev.fathom.data.CsvTable;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns the feature columns of a {@link CsvTable} into a float32 matrix
 * [N, F]: numeric columns standardised ({@link Standardizer}, missing values
 * then 0), other columns one-hot encoded ({@link OneHotEncoder}). This is the
 * d2l house-price recipe ({@code get_dummies(dummy_na=True)} after z-scoring),
 * with statistics from the training table only.
 *
 * <pre>{@code
 * TabularPreprocessor prep = TabularPreprocessor.builder(train.columnsExcept("Id", "SalePrice"))
 *     .build().fit(train, test);                 // stats from train; categories from train and test
 * Tensor xTrain = prep.transform(train);         // float32 [1460, 331]
 * }</pre>
 *
 * <p>Column order, as in pandas: the numeric columns in the given order, then
 * the one-hot columns of each categorical column in the given order. A column
 * is numeric when every non-missing value in every fitted table parses as a
 * number, unless it is named in {@link Builder#categorical}.
 */
public final class TabularPreprocessor {
  private final List<String> features;
  private final Set<String> forcedCategorical;
  private final boolean dummyNa;
  private final OneHotEncoder.HandleUnknown handleUnknown;
  private List<String> numeric;
  private Standardizer standardizer;
  private Map<String, OneHotEncoder> encoders;

  private TabularPreprocessor(Builder b) {
    this.features = List.copyOf(b.features);
    this.forcedCategorical = Set.copyOf(b.categorical);
    this.dummyNa = b.dummyNa;
    this.handleUnknown = b.handleUnknown;
  }

  /** A builder for a preprocessor of these feature columns (in this order). */
  public static Builder builder(List<String> features) {
    return new Builder(features);
  }

  /**
   * Decides numeric vs categorical columns, fits the standardizer on
   * {@code train} and the one-hot categories on {@code train} plus
   * {@code alsoCategoriesFrom} (e.g. the test table); returns this.
   */
  public TabularPreprocessor fit(CsvTable train, CsvTable... alsoCategoriesFrom) {
    List<CsvTable> tables = new ArrayList<>();
    tables.add(train);
    Collections.addAll(tables, alsoCategoriesFrom);
    List<String> num = new ArrayList<>();
    Map<String, OneHotEncoder> enc = new LinkedHashMap<>();
    for (String c : features) {
      boolean isNumeric = !forcedCategorical.contains(c);
      for (CsvTable t : tables) {
        isNumeric &= t.isNumeric(c);                         // also checks that every table has c
      }
      if (isNumeric) {
        num.add(c);
      } else {
        List<List<String>> columns = new ArrayList<>();
        for (CsvTable t : tables) {
          columns.add(t.column(c));
        }
        enc.put(c, OneHotEncoder.builder(c).dummyNa(dummyNa).handleUnknown(handleUnknown).build().fit(columns));
      }
    }
    try (Scope scope = Scope.open()) {
      standardizer = Standardizer.fit(numericMatrix(train, num));
    }
    numeric = Collections.unmodifiableList(num);
    encoders = Collections.unmodifiableMap(enc);
    return this;
  }

  /** float32 [table.numRows(), numFeatures()]; joins the caller's scope like any op result. */
  public Tensor transform(CsvTable table) {
    requireFitted();
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      List<Tensor> parts = new ArrayList<>();
      if (!numeric.isEmpty()) {
        parts.add(standardizer.transform(numericMatrix(table, numeric)).to(DType.FLOAT32));
      }
      for (Map.Entry<String, OneHotEncoder> e : encoders.entrySet()) {
        parts.add(e.getValue().transform(table.column(e.getKey())));
      }
      if (parts.isEmpty()) {
        return scope.keep(Tensor.zeros(DType.FLOAT32, table.numRows(), 0));
      }
      Tensor out = parts.size() == 1 ? parts.get(0) : Tensor.cat(parts, 1);
      return scope.keep(out);
    }
  }

  /** Names of the output columns: numeric column names, then {@code column_value} one-hot names. */
  public List<String> featureNames() {
    requireFitted();
    List<String> out = new ArrayList<>(numeric);
    for (OneHotEncoder e : encoders.values()) {
      out.addAll(e.featureNames());
    }
    return out;
  }

  public int numFeatures() {
    requireFitted();
    int n = numeric.size();
    for (OneHotEncoder e : encoders.values()) {
      n += e.width();
    }
    return n;
  }

  /** The columns treated as numeric, in order. */
  public List<String> numericColumns() {
    requireFitted();
    return numeric;
  }

  /** The columns one-hot encoded, in order. */
  public List<String> categoricalColumns() {
    requireFitted();
    return List.copyOf(encoders.keySet());
  }

  public Standardizer standardizer() {
    requireFitted();
    return standardizer;
  }

  /** The encoder of a categorical column. */
  public OneHotEncoder encoder(String column) {
    requireFitted();
    OneHotEncoder e = encoders.get(column);
    if (e == null) {
      throw new IllegalArgumentException("TabularPreprocessor: '" + column + "' is not a categorical column");
    }
    return e;
  }

  /** float64 [rows, columns.size()], row-major, NaN for missing values (parsed in Java: they are strings). */
  private static Tensor numericMatrix(CsvTable table, List<String> columns) {
    int n = table.numRows();
    int f = columns.size();
    double[] data = new double[Math.multiplyExact(n, f)];
    for (int j = 0; j < f; j++) {
      double[] col = table.numericColumn(columns.get(j));
      for (int i = 0; i < n; i++) {
        data[i * f + j] = col[i];
      }
    }
    return Tensor.fromArray(data, n, f);
  }

  private void requireFitted() {
    if (standardizer == null) {
      throw new IllegalStateException("TabularPreprocessor: call fit before using it");
    }
  }

  /** Options; defaults: dummyNa true, handleUnknown IGNORE, categorical columns inferred. */
  public static final class Builder {
    private final List<String> features;
    private final Set<String> categorical = new LinkedHashSet<>();
    private boolean dummyNa = true;
    private OneHotEncoder.HandleUnknown handleUnknown = OneHotEncoder.HandleUnknown.IGNORE;

    private Builder(List<String> features) {
      if (features == null || features.isEmpty()) {
        throw new IllegalArgumentException("TabularPreprocessor: no feature columns given");
      }
      if (new LinkedHashSet<>(features).size() != features.size()) {
        throw new IllegalArgumentException("TabularPreprocessor: feature columns repeat: " + features);
      }
      this.features = features;
    }

    /** Treat these columns as categorical even if their values are numbers (e.g. codes like MSSubClass). */
    public Builder categorical(String... columns) {
      Collections.addAll(categorical, columns);
      return this;
    }

    /** Give missing categorical values their own column (default true, pandas dummy_na=True). */
    public Builder dummyNa(boolean dummyNa) {
      this.dummyNa = dummyNa;
      return this;
    }

    /** Unseen categories at transform time (default: all-zero). */
    public Builder handleUnknown(OneHotEncoder.HandleUnknown handleUnknown) {
      this.handleUnknown = handleUnknown;
      return this;
    }

    public TabularPreprocessor build() {
      for (String c : categorical) {
        if (!features.contains(c)) {
          throw new IllegalArgumentException("TabularPreprocessor: categorical column '" + c
              + "' is not among the features");
        }
      }
      return new TabularPreprocessor(this);
    }
  }
}
