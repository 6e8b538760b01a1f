package dev.fathom.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fathom generate}: continues a text with a trained character language model ({@link LanguageModelCommands}). */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Continue a text with a character language model trained by train --model char-*.")
final class GenerateCommand implements Callable<Integer> {
  @Option(names = "--checkpoint", paramLabel = "PATH",
      description = "the train --out folder or its model.safetensors (required)")
  Path checkpoint;

  @Option(names = "--prefix", paramLabel = "TEXT", description = "the text to continue (required)")
  String prefix;

  @Option(names = "--length", paramLabel = "N", description = "characters to generate (default 100)")
  Integer length;

  @Option(names = "--temperature", paramLabel = "T", description = "sampling temperature; 0: greedy (default 0)")
  Double temperature;

  @Option(names = "--seed", paramLabel = "S", description = "sampling seed (default 0)")
  Long seed;

  @Override
  public Integer call() {
    if (checkpoint == null || prefix == null) {
      throw new IllegalArgumentException("generate: --checkpoint PATH and --prefix TEXT are required");
    }
    return LanguageModelCommands.generate(new LanguageModelCommands.GenerateOptions(checkpoint, prefix,
        Checks.atLeast("generate", "--length", length == null ? 100 : length, 0),
        Checks.within("generate", "--temperature", temperature == null ? 0 : temperature, 0, 100),
        seed == null ? 0 : seed), System.out);
  }
}
