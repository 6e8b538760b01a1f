package dev.fathom.text;

import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.Locale;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads a text corpus: a UTF-8 .txt file, or the first file entry of a .zip (read directly, as
 * the notes' lyrics corpus jaychou_lyrics.txt.zip is shipped). Files are untrusted: at most
 * maxBytes are read, whatever a zip entry claims its size is, and invalid UTF-8 is an error
 * naming the file, never replacement characters.
 *
 * <pre>{@code
 * String text = TextCorpus.read(Path.of("../shared/data/jaychou_lyrics.txt.zip"));
 * String oneLine = TextCorpus.joinLines(text);   // d2l's preprocessing of the lyrics
 * }</pre>
 */
public final class TextCorpus {
  /** Default limit: far above the corpora of the notes (180 KB, 60 KB). */
  public static final long DEFAULT_MAX_BYTES = 64L << 20;

  private TextCorpus() {}

  public static String read(Path file) {
    return read(file, DEFAULT_MAX_BYTES);
  }

  /** The decoded text; UncheckedIOException naming the file when it is missing, too large or malformed. */
  public static String read(Path file, long maxBytes) {
    if (maxBytes < 1 || maxBytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("TextCorpus: maxBytes=" + maxBytes + " must be in [1, 2^31 - 9]");
    }
    if (!Files.isRegularFile(file)) {
      String msg = "TextCorpus: " + file + " does not exist or is not a file";
      throw new UncheckedIOException(msg, new FileNotFoundException(msg));
    }
    byte[] bytes = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".zip")
        ? readZip(file, maxBytes) : readFile(file, maxBytes);
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw invalid(file, "is not valid UTF-8 text (" + e + ")");
    }
  }

  /** Replaces every line break (\r\n, \n, \r) with a space, as d2l does for the lyrics corpus. */
  public static String joinLines(String text) {
    return text.replace("\r\n", " ").replace('\n', ' ').replace('\r', ' ');
  }

  private static byte[] readFile(Path file, long maxBytes) {
    try (InputStream in = Files.newInputStream(file)) {
      return readLimited(in, maxBytes, file, "file");
    } catch (IOException e) {
      throw new UncheckedIOException("TextCorpus: cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static byte[] readZip(Path file, long maxBytes) {
    try (ZipFile zip = new ZipFile(file.toFile(), StandardCharsets.UTF_8)) {
      Enumeration<? extends ZipEntry> entries = zip.entries();
      while (entries.hasMoreElements()) {
        ZipEntry e = entries.nextElement();
        if (e.isDirectory()) {
          continue;
        }
        try (InputStream in = zip.getInputStream(e)) {
          return readLimited(in, maxBytes, file, "entry " + e.getName());
        }
      }
      throw invalid(file, "is a zip archive without a file entry");
    } catch (ZipException e) {
      throw invalid(file, "is not a readable zip archive: " + e.getMessage());
    } catch (IOException e) {
      throw new UncheckedIOException("TextCorpus: cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** Reads to the end, refusing more than maxBytes (the stream is trusted for nothing, sizes included). */
  private static byte[] readLimited(InputStream in, long maxBytes, Path file, String what) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[1 << 16];
    long total = 0;
    int n;
    while ((n = in.read(buf)) > 0) {
      total += n;
      if (total > maxBytes) {
        throw invalid(file, what + " is larger than the limit of " + maxBytes + " bytes");
      }
      out.write(buf, 0, n);
    }
    return out.toByteArray();
  }

  private static UncheckedIOException invalid(Path file, String what) {
    String msg = "TextCorpus: " + file + " " + what;
    return new UncheckedIOException(msg, new IOException(msg));
  }
}
