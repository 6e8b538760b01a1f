package dev.fathom.cli;

import dev.fathom.Fathom;
import dev.fathom.FathomException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code ./fathom} command line (picocli): one class per command, each with
 * {@code --help}. Global option {@code --threads T}, accepted before or after the
 * command. Exit codes: 0 ok, 2 bad arguments (a message says which and why),
 * 1 failure (missing data, unreadable files, native errors).
 */
@Command(name = "fathom", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Deep learning on the JVM: train, evaluate, serve and benchmark Fathom models.",
    subcommands = {TrainCommand.class, EvalCommand.class, PredictCommand.class, SummaryCommand.class,
        ServeCommand.class, LoadTestCommand.class, GenerateCommand.class, NgramCommand.class, BenchCommand.class,
        InfoCommand.class, OnnxCommand.class, DemoCommand.class, ExampleCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  /** Sets the native thread budget; inherited by every command, so it may follow the command name. */
  @Option(names = "--threads", paramLabel = "T", scope = ScopeType.INHERIT,
      description = "native threads for oneDNN and OpenBLAS together (default: available processors)")
  void threads(int threads) {
    if (threads < 1) {
      throw new ParameterException(spec.commandLine(), "--threads must be >= 1, got " + threads);
    }
    Fathom.setNumThreads(threads);
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code (what tests call). */
  static int run(String... args) {
    return commandLine().execute(args);
  }

  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    cl.registerConverter(Integer.class, s -> parse(s, "an integer", Integer::parseInt));
    cl.registerConverter(int.class, s -> parse(s, "an integer", Integer::parseInt));
    cl.registerConverter(Long.class, s -> parse(s, "an integer", Long::parseLong));
    cl.registerConverter(long.class, s -> parse(s, "an integer", Long::parseLong));
    cl.registerConverter(Double.class, s -> parse(s, "a number", Double::parseDouble));
    cl.registerConverter(double.class, s -> parse(s, "a number", Double::parseDouble));
    cl.setParameterExceptionHandler(Main::badArguments);
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> failed(e, cmd));
    return cl;
  }

  /** No command: the usage on stderr, exit 2. */
  @Override
  public Integer call() {
    spec.commandLine().usage(System.err);
    return 2;
  }

  static int parseInt(String option, String value) {
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " expects an integer, got '" + value + "'");
    }
  }

  private static <T> T parse(String s, String what, java.util.function.Function<String, T> f) {
    try {
      return f.apply(s.trim());
    } catch (NumberFormatException e) {
      throw new CommandLine.TypeConversionException("expects " + what + ", got '" + s + "'");
    }
  }

  /** Bad arguments: "fathom: train: --epochs expects an integer, got 'zero'", a hint, exit 2. */
  private static int badArguments(ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    String name = cmd.getCommandSpec().qualifiedName(" ").replaceFirst("^fathom ?", "");
    ArgSpec arg = e.getArgSpec();
    String option = arg instanceof OptionSpec o ? o.longestName() : null;
    String message = e.getMessage();
    if (option != null && e.getCause() instanceof CommandLine.TypeConversionException t) {
      message = option + " " + t.getMessage();
    } else if (e instanceof CommandLine.MissingParameterException m
        && message.startsWith("Missing required parameter for option") && m.getMissing().size() == 1
        && m.getMissing().get(0) instanceof OptionSpec o) {
      message = o.longestName() + " needs a value";
    }
    PrintWriter err = cmd.getErr();
    err.println("fathom: " + (name.isEmpty() ? "" : name + ": ") + message);
    if (!CommandLine.UnmatchedArgumentException.printSuggestions(e, err)) {
      err.println("Try 'fathom " + (name.isEmpty() ? "" : name + " ") + "--help'.");
    }
    err.flush();
    return 2;
  }

  /** Exceptions from a command: bad arguments found late exit with 2, everything else with 1. */
  private static int failed(Exception e, CommandLine cmd) {
    PrintWriter err = cmd.getErr();
    if (e instanceof IllegalArgumentException) {
      err.println("fathom: " + e.getMessage());
      err.flush();
      return 2;
    }
    if (e instanceof UncheckedIOException) {
      err.println("fathom: " + e.getMessage());
    } else if (e instanceof FathomException f) {
      err.println("fathom: " + f.status() + ": " + f.getMessage());
    } else {
      err.println("fathom: " + e);
    }
    err.flush();
    return 1;
  }

  /** {@code --version}: the library and native runtime versions. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"fathom " + (v == null ? "(development build)" : v)};
    }
  }
}
