package dev.fathom.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.nn.Module;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.zoo.Models;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
  @Test
  void roundTripKeepsNamesShapesDtypesAndBits(@TempDir Path dir) throws Exception {
    long baseline = Tensor.liveNativeBytes();
    Path f = dir.resolve("t.safetensors");
    try (Scope s = Scope.open()) {
      Map<String, Tensor> m = new LinkedHashMap<>();
      m.put("w", Tensor.randn(new Generator(1), 3, 4));
      m.put("d", Tensor.fromArray(new double[] {1.5, -2}, 2));
      m.put("i", Tensor.fromArray(new long[] {7, 8, 9}, 3));
      m.put("s", Tensor.scalar(3.0));
      m.put("e", Tensor.zeros(0, 5));
      m.put("t", Tensor.randn(new Generator(2), 4, 3).t());   // non-contiguous view
      SafeTensors.save(m, f);
      Map<String, Tensor> back = SafeTensors.load(f);
      for (String k : m.keySet()) {
        Tensor a = m.get(k);
        Tensor b = s.adopt(back.get(k));
        assertEquals(a.dtype(), b.dtype(), k);
        assertArrayEquals(a.shape(), b.shape(), k);
        assertArrayEquals(a.toDoubleArray(), b.toDoubleArray(), k);
      }
      // The header is the standard one: 8-byte length, then JSON.
      byte[] bytes = Files.readAllBytes(f);
      long len = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
      String json = new String(bytes, 8, (int) len, StandardCharsets.UTF_8);
      assertTrue(json.contains("\"w\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,48]}"), json);
    }
    assertEquals(baseline, Tensor.liveNativeBytes());
  }

  @Test
  void checkpointRestoresAModel(@TempDir Path dir) {
    Path f = dir.resolve("lenet.safetensors");
    try (Module a = Models.create("lenet-bn", 10, new Generator(1));
        Module b = Models.create("lenet-bn", 10, new Generator(2));
        Scope s = Scope.open()) {
      Checkpoints.save(a, f);
      Checkpoints.load(b, f);
      Tensor x = Tensor.randn(new Generator(3), 2, 1, 28, 28);
      a.eval();
      b.eval();
      // Bitwise: the same computation on the same weights (determinism, not a tolerance).
      assertArrayEquals(a.forward(x).toFloatArray(), b.forward(x).toFloatArray());
    }
    try (Module other = Models.create("lenet", 10, new Generator(1))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(other, f));
      assertTrue(e.getMessage().contains("unexpected"), e.getMessage());
    }
  }

  private static Path write(Path dir, String name, String json, byte[] data) throws Exception {
    byte[] h = json.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h).put(data);
    Path p = dir.resolve(name);
    Files.write(p, b.array());
    return p;
  }

  @Test
  void corruptFilesAreRefusedWithAReason(@TempDir Path dir) throws Exception {
    long baseline = Tensor.liveNativeBytes();
    Path tiny = dir.resolve("tiny");
    Files.write(tiny, new byte[] {1, 2, 3});
    assertRefused(tiny, "fewer than the 8-byte header");
    Path hugeHeader = dir.resolve("huge");
    Files.write(hugeHeader, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
    assertRefused(hugeHeader, "header length");
    assertRefused(write(dir, "json", "{not json", new byte[0]), "not valid JSON");
    assertRefused(write(dir, "dtype", "{\"a\":{\"dtype\":\"F8\",\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[1]),
        "dtype F8");
    assertRefused(write(dir, "size", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]),
        "needs 12 bytes");
    assertRefused(write(dir, "oob", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[8]),
        "outside");
    assertRefused(write(dir, "overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]), "gap or overlap");
    assertRefused(write(dir, "neg", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", new byte[0]),
        "invalid size");
    assertRefused(write(dir, "bool", "{\"a\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[0,2]}}",
        new byte[] {1, 7}), "bool values");
    assertRefused(write(dir, "bigshape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1000000000,1000000000,1000000000],"
        + "\"data_offsets\":[0,4]}}", new byte[4]), "exceeds the file");
    assertEquals(baseline, Tensor.liveNativeBytes());
  }

  private static void assertRefused(Path p, String reason) {
    RuntimeException e = assertThrows(RuntimeException.class, () -> SafeTensors.load(p));
    assertTrue(e.getMessage().contains(reason), reason + " / " + e.getMessage());
  }
}
