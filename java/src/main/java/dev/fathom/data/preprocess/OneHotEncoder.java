package dev.fathom.data.preprocess;

import dev.fathom.data.CsvTable;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * One-hot encoding of one categorical column of strings, like pandas
 * {@code get_dummies(dummy_na=True)} with a fit step (scikit-learn's
 * {@code OneHotEncoder}): categories are learnt by {@link #fit}, then each value
 * becomes a float32 row with a 1 in its category's column.
 *
 * <pre>{@code
 * OneHotEncoder zoning = OneHotEncoder.builder("MSZoning").build()
 *     .fit(List.of(train.column("MSZoning"), test.column("MSZoning")));  // or train only
 * Tensor z = zoning.transform(test.column("MSZoning"));   // float32 [N, zoning.width()]
 * }</pre>
 *
 * <p>Columns, in order: the categories sorted as strings ({@code name_value}),
 * then {@code name_nan} for missing values ({@code ""} or {@code "NA"}) when
 * dummyNa is on (the default; present even if the fitted data had none, as in
 * pandas), then {@code name_<unknown>} for values not seen in fit when
 * handleUnknown is {@link HandleUnknown#INDICATOR}. A missing value without
 * dummyNa, and an unseen value with {@link HandleUnknown#IGNORE}, give an
 * all-zero row.
 */
public final class OneHotEncoder {
  /** What {@link #transform} does with a value that {@link #fit} did not see. */
  public enum HandleUnknown {
    /** An all-zero row (the default). */
    IGNORE,
    /** A 1 in an extra last column {@code name_<unknown>}. */
    INDICATOR,
    /** An IllegalArgumentException naming the value. */
    ERROR
  }

  private final String name;
  private final boolean dummyNa;
  private final HandleUnknown handleUnknown;
  private List<String> categories;
  private Map<String, Integer> index;

  private OneHotEncoder(Builder b) {
    this.name = b.name;
    this.dummyNa = b.dummyNa;
    this.handleUnknown = b.handleUnknown;
  }

  /** A builder for an encoder whose feature names start with {@code name + "_"}. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** Learns the categories of one column (replacing earlier ones); returns this. */
  public OneHotEncoder fit(List<String> column) {
    return fit(List.of(column));
  }

  /**
   * Learns the categories from the union of several columns, e.g. the training
   * and test values of a feature (what the d2l book does); returns this.
   */
  public OneHotEncoder fit(Iterable<? extends Iterable<String>> columns) {
    TreeSet<String> seen = new TreeSet<>();
    for (Iterable<String> column : columns) {
      for (String v : column) {
        if (!CsvTable.isMissing(v)) {
          seen.add(v);
        }
      }
    }
    categories = Collections.unmodifiableList(new ArrayList<>(seen));
    index = new HashMap<>();
    for (int i = 0; i < categories.size(); i++) {
      index.put(categories.get(i), i);
    }
    return this;
  }

  public String name() {
    return name;
  }

  /** The learnt categories, sorted. */
  public List<String> categories() {
    requireFitted();
    return categories;
  }

  /** Number of output columns. */
  public int width() {
    requireFitted();
    return categories.size() + (dummyNa ? 1 : 0) + (handleUnknown == HandleUnknown.INDICATOR ? 1 : 0);
  }

  /** Names of the output columns: {@code name_value}..., {@code name_nan}, {@code name_<unknown>}. */
  public List<String> featureNames() {
    requireFitted();
    List<String> out = new ArrayList<>(width());
    for (String c : categories) {
      out.add(name + "_" + c);
    }
    if (dummyNa) {
      out.add(name + "_nan");
    }
    if (handleUnknown == HandleUnknown.INDICATOR) {
      out.add(name + "_<unknown>");
    }
    return out;
  }

  /** float32 [values.size(), width()]; joins the caller's scope like any op result. */
  public Tensor transform(List<String> values) {
    requireFitted();
    int width = width();
    int nanSlot = dummyNa ? categories.size() : width;
    int unknownSlot = handleUnknown == HandleUnknown.INDICATOR ? width - 1 : width;
    long[] slots = new long[values.size()];
    for (int i = 0; i < slots.length; i++) {
      String v = values.get(i);
      if (CsvTable.isMissing(v)) {
        slots[i] = nanSlot;
      } else {
        Integer k = index.get(v);
        if (k == null && handleUnknown == HandleUnknown.ERROR) {
          throw new IllegalArgumentException("OneHotEncoder '" + name + "': value '" + v + "' at row " + i
              + " was not seen in fit (categories: " + categories + ")");
        }
        slots[i] = k != null ? k : unknownSlot;
      }
    }
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      // NOTE: slot `width` is a scratch column for all-zero rows; it is cut off below.
      Tensor idx = Tensor.fromArray(slots, slots.length);
      Tensor out = Tensor.oneHot(idx, width + 1L).narrow(1, 0, width).contiguous();
      return scope.keep(out);
    }
  }

  private void requireFitted() {
    if (categories == null) {
      throw new IllegalStateException("OneHotEncoder '" + name + "': call fit before using it");
    }
  }

  @Override
  public String toString() {
    return "OneHotEncoder(" + name + ", " + (categories == null ? "not fitted" : categories.size() + " categories")
        + ")";
  }

  /** Options; defaults: dummyNa true, handleUnknown IGNORE. */
  public static final class Builder {
    private final String name;
    private boolean dummyNa = true;
    private HandleUnknown handleUnknown = HandleUnknown.IGNORE;

    private Builder(String name) {
      if (name == null) {
        throw new IllegalArgumentException("OneHotEncoder: name must not be null");
      }
      this.name = name;
    }

    /** Give missing values their own column {@code name_nan} (pandas dummy_na=True). */
    public Builder dummyNa(boolean dummyNa) {
      this.dummyNa = dummyNa;
      return this;
    }

    public Builder handleUnknown(HandleUnknown handleUnknown) {
      this.handleUnknown = handleUnknown;
      return this;
    }

    public OneHotEncoder build() {
      return new OneHotEncoder(this);
    }
  }
}
