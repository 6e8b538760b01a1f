package dev.fathom.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokenizers, Vocab and corpus loading (text files and zip archives, untrusted). */
class TextPipelineTest {
  @TempDir
  Path dir;

  @Test
  void charTokensAreCodePoints() {
    assertEquals(List.of("周", "杰", "伦", "\n", "a", "😀", " "), Tokenizer.CHAR.tokenize("周杰伦\na😀 "));
    String text = "Time\tTraveller 😀\n";
    assertEquals(text, Tokenizer.CHAR.join(Tokenizer.CHAR.tokenize(text)));
  }

  @Test
  void wordTokensSplitOnWhitespace() {
    assertEquals(List.of("The", "Time", "Traveller,", "for"), Tokenizer.WORD.tokenize("  The Time\n\tTraveller, for\r\n"));
    assertEquals(List.of(), Tokenizer.WORD.tokenize(" \n "));
    assertEquals("a b", Tokenizer.WORD.join(List.of("a", "b")));
    assertEquals(Tokenizer.WORD, Tokenizer.of("word"));
    assertThrows(IllegalArgumentException.class, () -> Tokenizer.of("bpe"));
  }

  @Test
  void vocabOrdersByFrequencyAfterUnkAndReserved() {
    // Frequencies: b 3, a 2, c 2 (a seen first), d 1.
    List<String> corpus = List.of("a", "b", "c", "b", "a", "d", "c", "b");
    Vocab v = Vocab.build(corpus, 1, List.of("<pad>", "<bos>"));
    assertEquals(List.of("<unk>", "<pad>", "<bos>", "b", "a", "c", "d"), v.tokens());
    assertEquals(3, v.index("b"));
    assertEquals(0, v.index("zzz"));
    assertEquals("c", v.token(5));
    assertArrayEquals(new int[] {4, 3, 0}, v.indices(List.of("a", "b", "?")));
    assertEquals(List.of("a", "b", "<unk>"), v.tokens(new int[] {4, 3, 0}));

    Vocab frequent = Vocab.build(corpus, 2, List.of());
    assertEquals(List.of("<unk>", "b", "a", "c"), frequent.tokens());
    assertEquals(0, frequent.index("d"), "below minFreq maps to unk");
    assertThrows(IndexOutOfBoundsException.class, () -> frequent.token(4));
    assertThrows(IllegalArgumentException.class, () -> Vocab.build(corpus, 0, List.of()));
    // A reserved token that also occurs in the corpus keeps its reserved slot only.
    assertEquals(List.of("<unk>", "a", "b", "c", "d"), Vocab.build(corpus, 1, List.of("a")).tokens());
  }

  @Test
  void vocabSavesAndLoadsAndRefusesOtherFiles() throws IOException {
    Vocab v = Vocab.build(Tokenizer.CHAR.tokenize("hello\n\"world\" 周"), 1, List.of());
    Path file = dir.resolve("vocab.json");
    v.save(file);
    assertEquals(v.tokens(), Vocab.load(file).tokens());

    Path bad = dir.resolve("bad.json");
    for (String content : new String[] {"{not json", "[]", "{\"format\":\"other\",\"version\":1,\"tokens\":[]}",
        "{\"format\":\"fathom-vocab\",\"version\":2,\"tokens\":[\"<unk>\"]}",
        "{\"format\":\"fathom-vocab\",\"version\":1,\"tokens\":[\"a\",\"<unk>\"]}",
        "{\"format\":\"fathom-vocab\",\"version\":1,\"tokens\":[\"<unk>\",\"a\",\"a\"]}",
        "{\"format\":\"fathom-vocab\",\"version\":1,\"tokens\":[\"<unk>\",3]}"}) {
      Files.writeString(bad, content);
      UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> Vocab.load(bad), content);
      assertTrue(e.getMessage().startsWith("Vocab: " + bad), e.getMessage());
    }
    assertThrows(UncheckedIOException.class, () -> Vocab.load(dir.resolve("missing.json")));
  }

  @Test
  void readsTextAndTheFirstFileOfAZip() throws IOException {
    Path txt = dir.resolve("a.txt");
    Files.writeString(txt, "the time machine\n周杰伦\n", StandardCharsets.UTF_8);
    assertEquals("the time machine\n周杰伦\n", TextCorpus.read(txt));

    Path zip = dir.resolve("lyrics.txt.zip");
    try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
      out.putNextEntry(new ZipEntry("folder/"));
      out.closeEntry();
      out.putNextEntry(new ZipEntry("folder/first.txt"));
      out.write("想要有直升机\r\n想要和你飞到宇宙去".getBytes(StandardCharsets.UTF_8));
      out.closeEntry();
      out.putNextEntry(new ZipEntry("second.txt"));
      out.write("not this one".getBytes(StandardCharsets.UTF_8));
      out.closeEntry();
    }
    String text = TextCorpus.read(zip);
    assertEquals("想要有直升机\r\n想要和你飞到宇宙去", text);
    assertEquals("想要有直升机 想要和你飞到宇宙去", TextCorpus.joinLines(text));
    assertEquals("a b c d", TextCorpus.joinLines("a\nb\rc\r\nd"));
  }

  @Test
  void refusesMissingOversizedMalformedAndFakeZipFiles() throws IOException {
    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> TextCorpus.read(dir.resolve("nope.txt")));
    assertTrue(e.getMessage().contains("does not exist"), e.getMessage());

    Path big = dir.resolve("big.txt");
    Files.writeString(big, "x".repeat(1000));
    e = assertThrows(UncheckedIOException.class, () -> TextCorpus.read(big, 999));
    assertTrue(e.getMessage().contains("larger than the limit of 999 bytes"), e.getMessage());
    assertEquals(1000, TextCorpus.read(big, 1000).length());

    Path latin1 = dir.resolve("latin1.txt");
    Files.write(latin1, new byte[] {'c', 'a', 'f', (byte) 0xE9});
    e = assertThrows(UncheckedIOException.class, () -> TextCorpus.read(latin1));
    assertTrue(e.getMessage().contains("is not valid UTF-8"), e.getMessage());

    Path fake = dir.resolve("fake.zip");
    Files.writeString(fake, "this is not a zip archive");
    e = assertThrows(UncheckedIOException.class, () -> TextCorpus.read(fake));
    assertTrue(e.getMessage().contains("is not a readable zip archive"), e.getMessage());

    // A zip entry that inflates beyond the limit is cut off while reading, whatever its header says.
    Path bomb = dir.resolve("bomb.zip");
    try (OutputStream raw = Files.newOutputStream(bomb); ZipOutputStream out = new ZipOutputStream(raw)) {
      out.putNextEntry(new ZipEntry("zeros.txt"));
      out.write(new byte[1 << 20]);
      out.closeEntry();
    }
    assertTrue(Files.size(bomb) < 10_000);
    e = assertThrows(UncheckedIOException.class, () -> TextCorpus.read(bomb, 100_000));
    assertTrue(e.getMessage().contains("entry zeros.txt is larger than the limit"), e.getMessage());

    Path empty = dir.resolve("empty.zip");
    try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(empty))) {
      out.putNextEntry(new ZipEntry("only/"));
      out.closeEntry();
    }
    e = assertThrows(UncheckedIOException.class, () -> TextCorpus.read(empty));
    assertTrue(e.getMessage().contains("without a file entry"), e.getMessage());
  }

  @Test
  void readsTheLyricsCorpusOfTheNotes() {
    Path lyrics = Path.of("../../shared/data/jaychou_lyrics.txt.zip");
    assumeTrue(Files.isRegularFile(lyrics), "shared lyrics corpus not present");
    String text = TextCorpus.read(lyrics);
    assertTrue(text.startsWith("想要有直升机"), text.substring(0, 20));
    assertTrue(text.length() > 60_000, "length " + text.length());
    Vocab v = Vocab.build(Tokenizer.CHAR.tokenize(TextCorpus.joinLines(text)), 1, List.of());
    assertTrue(v.size() > 2000 && v.size() < 3000, "vocab " + v.size());
    assertFalse(v.contains("\n"));
  }
}
