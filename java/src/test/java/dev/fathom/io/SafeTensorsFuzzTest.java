package dev.fathom.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files are untrusted input: every prefix of a valid file, every single-byte
 * corruption and a list of hostile headers must end in a clean
 * IllegalArgumentException naming the file (or, for corruptions that keep the
 * file valid, a load whose tensors fit in the file), never another exception,
 * a crash, a huge allocation or a leak.
 */
class SafeTensorsFuzzTest {
  @TempDir Path dir;
  private byte[] valid;
  private long baseline;

  @BeforeEach
  void writeSample() throws IOException {
    baseline = Tensor.liveNativeBytes();
    Path f = dir.resolve("sample.safetensors");
    Map<String, Tensor> m = new LinkedHashMap<>();
    try (Scope s = Scope.open()) {
      m.put("w", Tensor.randn(new Generator(7), 2, 3));
      m.put("i", Tensor.fromArray(new long[] {1, -2}, 2));
      m.put("flags", Tensor.fromArray(new float[] {1, 0, 1}, 3).gt(0.5));
      m.put("d", Tensor.fromArray(new double[] {2.5}, 1).reshape());
      SafeTensors.save(m, Map.of("note", "fuzz"), f);
    }
    valid = Files.readAllBytes(f);
  }

  @Test
  void everyTruncationIsRefused() throws IOException {
    Path f = dir.resolve("cut.safetensors");
    for (int n = 0; n < valid.length; n++) {
      Files.write(f, java.util.Arrays.copyOf(valid, n));
      int len = n;
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.load(f),
          "prefix of " + len + " bytes");
      assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }
    assertEquals(baseline, Tensor.liveNativeBytes());
  }

  @Test
  void byteCorruptionsLoadWithinTheFileOrAreRefused() throws IOException {
    Path f = dir.resolve("flip.safetensors");
    int refused = 0;
    for (int pos = 0; pos < valid.length; pos++) {
      for (int mask : new int[] {0x01, 0x20, 0x80, 0xFF}) {
        byte[] b = valid.clone();
        b[pos] ^= (byte) mask;
        refused += loadOrRefuse(f, b, "byte " + pos + " ^ " + mask) ? 0 : 1;
      }
    }
    // Random multi-byte damage, seeded: header digits, quotes and braces are where parsers break.
    SplittableRandom rng = new SplittableRandom(42);
    byte[] alphabet = "0123456789-+.e{}[]\",: \\uF8".getBytes(StandardCharsets.US_ASCII);
    for (int round = 0; round < 1500; round++) {
      byte[] b = valid.clone();
      int edits = 1 + rng.nextInt(4);
      for (int k = 0; k < edits; k++) {
        int pos = rng.nextInt(b.length);
        b[pos] = rng.nextBoolean() ? alphabet[rng.nextInt(alphabet.length)] : (byte) rng.nextInt(256);
      }
      refused += loadOrRefuse(f, b, "round " + round) ? 0 : 1;
    }
    assertTrue(refused > 1000, "most corruptions break the header: " + refused);
    assertEquals(baseline, Tensor.liveNativeBytes());
  }

  /** True when the file loaded (its tensors fit in it), false when it was refused cleanly. */
  private static boolean loadOrRefuse(Path f, byte[] bytes, String what) throws IOException {
    Files.write(f, bytes);
    try (SafeTensors.Contents c = SafeTensors.read(f)) {
      long total = 0;
      for (Tensor t : c.tensors().values()) {
        total += t.numel() * t.dtype().byteSize();
      }
      assertTrue(total <= bytes.length, what + ": loaded " + total + " bytes from a " + bytes.length + "-byte file");
      return true;
    } catch (IllegalArgumentException e) {
      assertTrue(e.getMessage().startsWith("safetensors: " + f), what + ": " + e.getMessage());
      return false;
    } catch (RuntimeException | Error e) {
      fail(what + ": unexpected " + e, e);
      return false;
    }
  }

  private Path file(String name, long headerLength, String json, int dataBytes) throws IOException {
    byte[] h = json.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(headerLength).put(h);
    Path p = dir.resolve(name);
    Files.write(p, b.array());
    return p;
  }

  private Path file(String name, String json, int dataBytes) throws IOException {
    return file(name, json.getBytes(StandardCharsets.UTF_8).length, json, dataBytes);
  }

  private static String entry(String name, String dtype, String shape, String offsets) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
  }

  @Test
  void hostileHeadersAreRefusedBeforeAnyAllocation() throws IOException {
    String ok = "{" + entry("a", "F32", "[2]", "[0,8]") + "}";
    for (long len : new long[] {-1, Long.MIN_VALUE, Long.MAX_VALUE, 1L << 40, 0, 1,
        SafeTensors.MAX_HEADER_BYTES + 1, ok.length() + 9}) {
      assertRefused(file("len" + len, len, ok, 8), "header length " + len);
    }
    assertRefused(file("nobrace", " " + ok.substring(0, ok.length() - 1), 8), "does not start with '{'");
    // 2^61 F64 elements is 2^64 bytes: wraps to 0 in 64-bit arithmetic, so offsets [0,0] would pass.
    assertRefused(file("wrap", "{" + entry("a", "F64", "[2305843009213693952]", "[0,0]") + "}", 0),
        "tensor 'a' shape [2305843009213693952] float64 exceeds");
    assertRefused(file("wrap2", "{" + entry("b", "F32", "[4294967296,4294967296]", "[0,0]") + "}", 0),
        "tensor 'b'");
    assertRefused(file("huge", "{" + entry("c", "F32", "[1099511627776]", "[0,4398046511104]") + "}", 16),
        "fall outside the 16-byte data section");
    assertRefused(file("frac", "{" + entry("d", "F32", "[1.5]", "[0,4]") + "}", 4), "invalid size 1.5");
    assertRefused(file("fracoff", "{" + entry("e", "F32", "[1]", "[0.0,4]") + "}", 4), "non-integer");
    assertRefused(file("bignum", "{" + entry("f", "F32", "[99999999999999999999999]", "[0,4]") + "}", 4),
        "invalid size");
    assertRefused(file("dims", "{" + entry("g", "F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]") + "}", 4),
        "9 dimensions");
    assertRefused(file("dup", "{" + entry("h", "F32", "[1]", "[0,4]") + "," + entry("h", "F32", "[1]", "[4,8]")
        + "}", 8), "not valid JSON");
    assertRefused(file("meta", "{\"__metadata__\":{\"k\":1}," + entry("i", "F32", "[1]", "[0,4]") + "}", 4),
        "not a string");
    assertRefused(file("trail", ok, 12), "trailing bytes");
    assertRefused(file("gap", "{" + entry("j", "F32", "[1]", "[4,8]") + "}", 8), "gap or overlap");
    assertRefused(file("deep", "{\"k\":" + "[".repeat(5000) + "]".repeat(5000) + "}", 0), "not valid JSON");
    assertRefused(file("array", "[1,2]", 0), "does not start with '{'");
    assertRefused(file("str", "{\"l\":\"F32\"}", 0), "needs dtype, shape and two data_offsets");
    assertRefused(file("dtype", "{" + entry("m", "BF16", "[1]", "[0,2]") + "}", 2), "dtype BF16");
    assertEquals(baseline, Tensor.liveNativeBytes());
  }

  private static void assertRefused(Path p, String reason) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.load(p), reason);
    assertTrue(e.getMessage().contains(reason) && e.getMessage().contains(p.toString()),
        reason + " / " + e.getMessage());
  }

  @Test
  void metadataRoundTripsAndHeaderOnlyReadsAgree() throws IOException {
    Path f = dir.resolve("sample2.safetensors");
    Files.write(f, valid);
    assertEquals("fuzz", SafeTensors.readMetadata(f).get("note"));
    assertEquals("fathom", SafeTensors.readMetadata(f).get("producer"));
    Map<String, SafeTensors.TensorInfo> info = SafeTensors.readInfo(f);
    assertEquals(java.util.List.of("w", "i", "flags", "d"), java.util.List.copyOf(info.keySet()));
    assertArrayEquals(new long[] {2, 3}, info.get("w").shape());
    assertEquals(baseline, Tensor.liveNativeBytes());
  }

  @Test
  void aFailedSaveLeavesThePreviousFileAndNoTemporaryFile() throws IOException {
    Path f = dir.resolve("keep.safetensors");
    Files.write(f, valid);
    Tensor closed = Tensor.zeros(4);
    closed.close();
    Map<String, Tensor> m = new LinkedHashMap<>();
    try (Tensor ok = Tensor.ones(1000)) {
      m.put("ok", ok);
      m.put("closed", closed);   // fails inside the writer, after the header and the first tensor
      assertThrows(IllegalStateException.class, () -> SafeTensors.save(m, f));
    }
    assertArrayEquals(valid, Files.readAllBytes(f));
    try (Stream<Path> files = Files.list(dir)) {
      assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temporary file left behind");
    }
    try (SafeTensors.Contents c = SafeTensors.read(f)) {
      assertEquals(4, c.tensors().size());
    }
    assertEquals(baseline, Tensor.liveNativeBytes());
  }
}
