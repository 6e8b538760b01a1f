package dev.fathom.data;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * A CSV file in memory as strings: a header row and rows of the same width,
 * read with Apache Commons CSV in RFC 4180 mode (quoted fields with embedded
 * commas, doubled quotes and newlines; CRLF or LF line ends; a UTF-8 BOM is
 * dropped). It is a small table for tabular preprocessing, not a data frame:
 * values stay strings until {@link #numericColumn(String)} or a preprocessor
 * reads them.
 *
 * <pre>{@code
 * CsvTable train = CsvTable.read(Path.of("kaggle_house_pred_train.csv"));
 * List<String> zoning = train.column("MSZoning");
 * boolean numeric = train.isNumeric("LotArea");              // true
 * }</pre>
 *
 * <p>Missing values are {@code ""} and {@code "NA"} (pandas' defaults that
 * occur in the Kaggle data); {@link #isMissing(String)} says which.
 */
public final class CsvTable {
  // A plain decimal number as pandas reads it: no Java suffixes ("1f", "2d") or hex floats.
  private static final Pattern NUMBER =
      Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");

  private final List<String> header;
  private final Map<String, Integer> index;
  private final List<String[]> rows;

  private CsvTable(List<String> header, List<String[]> rows) {
    this.header = Collections.unmodifiableList(new ArrayList<>(header));
    this.index = new HashMap<>();
    for (int i = 0; i < header.size(); i++) {
      if (index.putIfAbsent(header.get(i), i) != null) {
        throw new IllegalArgumentException("CsvTable: duplicate column name '" + header.get(i) + "'");
      }
    }
    this.rows = rows;
  }

  /** Reads a UTF-8 CSV file whose first record is the header. */
  public static CsvTable read(Path file) {
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return read(r, file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("CsvTable: cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** Parses CSV text whose first record is the header. */
  public static CsvTable parse(String text) {
    try {
      return read(new StringReader(text), "text");
    } catch (IOException e) {
      throw new UncheckedIOException(e);                    // a StringReader does not fail
    }
  }

  private static CsvTable read(Reader reader, String source) throws IOException {
    CSVFormat format = CSVFormat.RFC4180.builder().setIgnoreEmptyLines(true).get();
    List<String> header = null;
    List<String[]> rows = new ArrayList<>();
    try (CSVParser parser = format.parse(reader)) {
      for (CSVRecord rec : parser) {
        String[] values = rec.values();
        if (header == null) {
          if (values.length > 0 && values[0].startsWith("\uFEFF")) {
            values[0] = values[0].substring(1);
          }
          header = Arrays.asList(values);
        } else if (values.length != header.size()) {
          throw new IllegalArgumentException("CsvTable: " + source + ": record " + rec.getRecordNumber()
              + " (line " + parser.getCurrentLineNumber() + ") has " + values.length + " fields, the header has "
              + header.size());
        } else {
          rows.add(values);
        }
      }
    } catch (UncheckedIOException e) {
      // Commons CSV reports malformed input (e.g. an unclosed quote) this way while iterating.
      throw new IllegalArgumentException("CsvTable: " + source + ": " + e.getCause().getMessage(), e);
    }
    if (header == null) {
      throw new IllegalArgumentException("CsvTable: " + source + " is empty (no header row)");
    }
    return new CsvTable(header, rows);
  }

  /** Column names, in file order. */
  public List<String> columns() {
    return header;
  }

  /** Column names except {@code excluded} (e.g. an id and the target), in file order. */
  public List<String> columnsExcept(String... excluded) {
    List<String> out = new ArrayList<>(header);
    for (String name : excluded) {
      columnIndex(name);
      out.remove(name);
    }
    return out;
  }

  public int numRows() {
    return rows.size();
  }

  public int numColumns() {
    return header.size();
  }

  public boolean hasColumn(String name) {
    return index.containsKey(name);
  }

  /** Position of column {@code name}; IllegalArgumentException when absent. */
  public int columnIndex(String name) {
    Integer i = index.get(name);
    if (i == null) {
      throw new IllegalArgumentException("CsvTable: no column '" + name + "' (columns: " + header + ")");
    }
    return i;
  }

  /** Row {@code row} (0 = first after the header), as an unmodifiable list. */
  public List<String> row(int row) {
    return Collections.unmodifiableList(Arrays.asList(rows.get(row)));
  }

  /** The value at {@code row} in column {@code column}. */
  public String get(int row, String column) {
    return rows.get(row)[columnIndex(column)];
  }

  /** Every value of a column, top to bottom (a copy). */
  public List<String> column(String name) {
    int c = columnIndex(name);
    List<String> out = new ArrayList<>(rows.size());
    for (String[] r : rows) {
      out.add(r[c]);
    }
    return out;
  }

  /** True for the missing-value markers {@code ""} and {@code "NA"}. */
  public static boolean isMissing(String value) {
    return value.isEmpty() || value.equals("NA");
  }

  /** True when {@code value} parses as a decimal number (missing values do not). */
  public static boolean isNumber(String value) {
    return NUMBER.matcher(value.strip()).matches();
  }

  /**
   * Whether every non-missing value of the column is a decimal number (a
   * column with no values at all counts as numeric, as in pandas).
   */
  public boolean isNumeric(String column) {
    int c = columnIndex(column);
    for (String[] r : rows) {
      if (!isMissing(r[c]) && !isNumber(r[c])) {
        return false;
      }
    }
    return true;
  }

  /** The column as doubles, NaN for missing values; IllegalArgumentException names the first non-number. */
  public double[] numericColumn(String column) {
    int c = columnIndex(column);
    double[] out = new double[rows.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = parse(rows.get(i)[c], i, column);
    }
    return out;
  }

  static double parse(String value, int row, String column) {
    if (isMissing(value)) {
      return Double.NaN;
    }
    String v = value.strip();
    if (!NUMBER.matcher(v).matches()) {
      throw new IllegalArgumentException("CsvTable: column '" + column + "' row " + row + ": '" + value
          + "' is not a number");
    }
    return Double.parseDouble(v);
  }

  @Override
  public String toString() {
    return "CsvTable(" + rows.size() + " rows x " + header.size() + " columns)";
  }
}
