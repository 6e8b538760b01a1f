package dev.fathom.bench.djl;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** Minimal "--name value" / "--flag" parser mirroring the Python scripts' argparse options. */
final class Args {
  private final Map<String, String> values = new HashMap<>();
  private final Set<String> flags = new HashSet<>();

  Args(String[] argv, int from, Set<String> flagNames) {
    for (int i = from; i < argv.length; i++) {
      String a = argv[i];
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + a + "'");
      }
      String name = a.substring(2);
      int eq = name.indexOf('=');
      if (eq >= 0) {
        values.put(name.substring(0, eq), name.substring(eq + 1));
      } else if (flagNames.contains(name)) {
        flags.add(name);
      } else {
        if (i + 1 >= argv.length) {
          throw new IllegalArgumentException("option --" + name + " needs a value");
        }
        values.put(name, argv[++i]);
      }
    }
  }

  String str(String name, String dflt) {
    return values.getOrDefault(name, dflt);
  }

  String required(String name) {
    String v = values.get(name);
    if (v == null) {
      throw new IllegalArgumentException("option --" + name + " is required");
    }
    return v;
  }

  int integer(String name, int dflt) {
    return values.containsKey(name) ? Integer.parseInt(values.get(name)) : dflt;
  }

  double real(String name, double dflt) {
    return values.containsKey(name) ? Double.parseDouble(values.get(name)) : dflt;
  }

  boolean flag(String name) {
    return flags.contains(name);
  }

  /** The waiting mode: --tag if given, else from OMP_WAIT_POLICY (PASSIVE: "sleep", otherwise libgomp spins). */
  String tag() {
    String t = values.get("tag");
    if (t != null && !t.isEmpty()) {
      return t;
    }
    return waitMode();
  }

  static String waitMode() {
    String p = System.getenv("OMP_WAIT_POLICY");
    return p != null && p.equalsIgnoreCase("PASSIVE") ? "sleep" : "spin";
  }
}
