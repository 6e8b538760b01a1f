package dev.fathom.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code fathom ngram}: the n-gram baseline for the language models ({@link LanguageModelCommands}). */
@Command(name = "ngram", mixinStandardHelpOptions = true, sortOptions = false,
    description = "N-gram baseline: held-out perplexity of add-k smoothed 1-, 2- and 3-grams.")
final class NgramCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  // NOTE: values stay strings here: LanguageModelCommands checks them and words the errors.
  @Option(names = "--data", paramLabel = "TEXT_OR_ZIP", description = "corpus (default ../shared/data/timemachine.txt)")
  String data;

  @Option(names = "--tokens", paramLabel = "char|word", description = "tokens (default char)")
  String tokens;

  @Option(names = "--k", paramLabel = "K", description = "add-k smoothing (default 1)")
  String k;

  @Option(names = "--held-out", paramLabel = "F", description = "held-out fraction (default 0.1)")
  String heldOut;

  @Option(names = "--join-lines", description = "join the corpus' lines into one text")
  boolean joinLines;

  @Option(names = "--max-chars", paramLabel = "C", description = "use the first C characters (default: all)")
  String maxChars;

  @Override
  public Integer call() {
    return LanguageModelCommands.ngram(TrainCommand.givenArguments(spec));
  }
}
