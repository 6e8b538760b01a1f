package dev.fathom.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code fathom generate}: continues a text with a trained character language model ({@link LanguageModelCommands}). */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Continue a text with a character language model trained by train --model char-*.")
final class GenerateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  // NOTE: values stay strings here: LanguageModelCommands checks them and words the errors.
  @Option(names = "--checkpoint", paramLabel = "DIR", description = "the train --out folder (required)")
  String checkpoint;

  @Option(names = "--prefix", paramLabel = "TEXT", description = "the text to continue (required)")
  String prefix;

  @Option(names = "--length", paramLabel = "N", description = "characters to generate (default 100)")
  String length;

  @Option(names = "--temperature", paramLabel = "T", description = "sampling temperature; 0: greedy (default 0)")
  String temperature;

  @Option(names = "--seed", paramLabel = "S", description = "sampling seed (default 0)")
  String seed;

  @Override
  public Integer call() {
    return LanguageModelCommands.generate(TrainCommand.givenArguments(spec));
  }
}
