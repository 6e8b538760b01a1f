package dev.fathom.text;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits text into tokens and joins them back. CHAR: one token per Unicode code point (so a
 * Chinese character or an emoji outside the BMP is one token, never half a surrogate pair);
 * newlines and spaces are tokens too. WORD: maximal runs of non-whitespace; whitespace is dropped
 * and {@link #join} puts single spaces back.
 *
 * <pre>{@code
 * List<String> chars = Tokenizer.CHAR.tokenize("the time");   // [t, h, e,  , t, i, m, e]
 * List<String> words = Tokenizer.WORD.tokenize("the time\nmachine");   // [the, time, machine]
 * }</pre>
 */
public enum Tokenizer {
  CHAR,
  WORD;

  public List<String> tokenize(String text) {
    List<String> out = new ArrayList<>();
    if (this == CHAR) {
      text.codePoints().forEach(cp -> out.add(new String(Character.toChars(cp))));
      return out;
    }
    int i = 0;
    int n = text.length();
    while (i < n) {
      int cp = text.codePointAt(i);
      if (Character.isWhitespace(cp)) {
        i += Character.charCount(cp);
        continue;
      }
      int start = i;
      while (i < n && !Character.isWhitespace(text.codePointAt(i))) {
        i += Character.charCount(text.codePointAt(i));
      }
      out.add(text.substring(start, i));
    }
    return out;
  }

  /** The text of `tokens`: concatenated (CHAR) or separated by single spaces (WORD). */
  public String join(List<String> tokens) {
    return String.join(this == CHAR ? "" : " ", tokens);
  }

  /** "char" or "word" (the name used in files and on the command line). */
  public String id() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Parses {@link #id()}. */
  public static Tokenizer of(String id) {
    for (Tokenizer t : values()) {
      if (t.id().equals(id)) {
        return t;
      }
    }
    throw new IllegalArgumentException("tokenizer must be char or word, got '" + id + "'");
  }
}
