package dev.fathom.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** "--name value" options of one command; unknown or malformed options are errors (exit code 2). */
final class Args {
  private final String command;
  private final Map<String, String> options = new LinkedHashMap<>();
  private final List<String> flags = new ArrayList<>();

  Args(String command, List<String> args, List<String> known, List<String> knownFlags) {
    this.command = command;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (knownFlags.contains(a)) {
        flags.add(a);
      } else if (known.contains(a)) {
        if (i + 1 >= args.size() || args.get(i + 1).startsWith("--")) {
          throw new IllegalArgumentException(command + ": " + a + " needs a value");
        }
        options.put(a, args.get(++i));
      } else {
        List<String> all = new ArrayList<>(known);
        all.addAll(knownFlags);
        throw new IllegalArgumentException(command + ": unknown argument '" + a + "' (known: " + all + ")");
      }
    }
  }

  String string(String name, String fallback) {
    return options.getOrDefault(name, fallback);
  }

  boolean has(String name) {
    return options.containsKey(name) || flags.contains(name);
  }

  int integer(String name, int fallback, int min) {
    String v = options.get(name);
    if (v == null) {
      return fallback;
    }
    try {
      int x = Integer.parseInt(v);
      if (x < min) {
        throw new IllegalArgumentException(command + ": " + name + " must be >= " + min + ", got " + x);
      }
      return x;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(command + ": " + name + " expects an integer, got '" + v + "'");
    }
  }

  long longValue(String name, long fallback) {
    String v = options.get(name);
    if (v == null) {
      return fallback;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(command + ": " + name + " expects an integer, got '" + v + "'");
    }
  }

  double number(String name, double fallback, double min, double max) {
    String v = options.get(name);
    if (v == null) {
      return fallback;
    }
    double x;
    try {
      x = Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(command + ": " + name + " expects a number, got '" + v + "'");
    }
    if (!(x >= min && x <= max)) {
      throw new IllegalArgumentException(command + ": " + name + " must be in [" + min + ", " + max + "], got " + x);
    }
    return x;
  }
}
