package dev.fathom.cli;

import dev.fathom.text.Tokenizer;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fathom ngram}: the n-gram baseline for the language models ({@link LanguageModelCommands}). */
@Command(name = "ngram", mixinStandardHelpOptions = true, sortOptions = false,
    description = "N-gram baseline: held-out perplexity of add-k smoothed 1-, 2- and 3-grams.")
final class NgramCommand implements Callable<Integer> {
  @Option(names = "--data", paramLabel = "TEXT_OR_ZIP", description = "corpus (default ../shared/data/timemachine.txt)")
  String data;

  @Option(names = "--tokens", paramLabel = "char|word", description = "tokens (default char)")
  String tokens;

  @Option(names = "--k", paramLabel = "K", description = "add-k smoothing (default 1)")
  Double k;

  @Option(names = "--held-out", paramLabel = "F", description = "held-out fraction (default 0.1)")
  Double heldOut;

  @Option(names = "--join-lines", description = "join the corpus' lines into one text")
  boolean joinLines;

  @Option(names = "--max-chars", paramLabel = "C", description = "use the first C characters (default: all)")
  Integer maxChars;

  @Override
  public Integer call() {
    Tokenizer tokenizer;
    try {
      tokenizer = Tokenizer.of(tokens == null ? "char" : tokens);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("ngram: --tokens: " + e.getMessage());
    }
    return LanguageModelCommands.ngram(new LanguageModelCommands.NgramOptions(
        LanguageModelCommands.CorpusOptions.of("ngram", data, joinLines, maxChars), tokenizer,
        Checks.within("ngram", "--k", k == null ? 1 : k, 1e-9, 1e6),
        Checks.within("ngram", "--held-out", heldOut == null ? 0.1 : heldOut, 0.01, 0.5)), System.out);
  }
}
