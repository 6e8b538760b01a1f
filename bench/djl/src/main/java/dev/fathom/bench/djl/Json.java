package dev.fathom.bench.djl;

import java.io.FileWriter;
import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON the way Python's json.dumps writes it (", " and ": " separators, NaN
 * for a missing median), so that the RESULT lines of this baseline and of the
 * PyTorch reference scripts parse and look alike.
 */
final class Json {
  private Json() {}

  /** An insertion-ordered JSON object. */
  static Map<String, Object> object() {
    return new LinkedHashMap<>();
  }

  static String write(Object v) {
    StringBuilder sb = new StringBuilder();
    write(sb, v);
    return sb.toString();
  }

  private static void write(StringBuilder sb, Object v) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof String s) {
      string(sb, s);
    } else if (v instanceof Boolean b) {
      sb.append(b ? "true" : "false");
    } else if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (Double.isNaN(d)) {
        sb.append("NaN");
      } else if (Double.isInfinite(d)) {
        sb.append(d > 0 ? "Infinity" : "-Infinity");
      } else {
        sb.append(Double.toString(d));
      }
    } else if (v instanceof Number n) {
      sb.append(n.longValue());
    } else if (v instanceof Map<?, ?> m) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!first) {
          sb.append(", ");
        }
        first = false;
        string(sb, String.valueOf(e.getKey()));
        sb.append(": ");
        write(sb, e.getValue());
      }
      sb.append('}');
    } else if (v instanceof Collection<?> c) {
      sb.append('[');
      boolean first = true;
      for (Object o : c) {
        if (!first) {
          sb.append(", ");
        }
        first = false;
        write(sb, o);
      }
      sb.append(']');
    } else {
      string(sb, v.toString());
    }
  }

  private static void string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20 || c > 0x7e) {
            sb.append(String.format("\\u%04x", (int) c)); // json.dumps' ensure_ascii
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }

  /** Prints {@code RESULT <json>} and appends the JSON line to {@code path} when given (common.py's emit). */
  static void emit(Map<String, Object> d, String path) throws IOException {
    String s = write(d);
    System.out.println("RESULT " + s);
    System.out.flush();
    if (path != null) {
      try (Writer w = new FileWriter(path, true)) {
        w.write(s + "\n");
      }
    }
  }

  /** common.py's stats(): median (mean of the middle two for even n), min, max, n. */
  static Map<String, Object> stats(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    s.sort(null);
    Map<String, Object> m = object();
    m.put("median", median(s));
    m.put("min", s.isEmpty() ? Double.NaN : s.get(0));
    m.put("max", s.isEmpty() ? Double.NaN : s.get(s.size() - 1));
    m.put("n", s.size());
    return m;
  }

  static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    s.sort(null);
    int n = s.size();
    if (n == 0) {
      return Double.NaN;
    }
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }
}
