package dev.fathom.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.junit.jupiter.api.Test;

/**
 * Image decoding for serving: the color types and bit depths that ImageIO writes,
 * and the refusals (decompression bombs, other formats, wrong sizes). {@link #seeds()}
 * are also ImagesFuzzTest's seeds; {@code main(dir)} writes them as files. Before the
 * size check, the 83-byte 20000 x 20000 one made ImageIO allocate a 400 MB raster.
 */
class ImagesTest {
  static final int SIDE = 28;

  /** Gray level (0-255) of pixel (x, y) in the generated images. */
  static int level(int x, int y) {
    return (x * 9 + y * 5) % 256;
  }

  /** Small images of every PNG color type, several bit depths, and the other formats. */
  static Map<String, byte[]> seeds() {
    Map<String, byte[]> s = new LinkedHashMap<>();
    s.put("gray8.png", png(gray(BufferedImage.TYPE_BYTE_GRAY, SIDE, 255), false));
    s.put("gray16.png", png(gray(BufferedImage.TYPE_USHORT_GRAY, SIDE, 65535), false));
    s.put("gray1.png", png(binary(1), false));
    s.put("gray2.png", png(binary(2), false));
    s.put("gray4.png", png(binary(4), false));
    s.put("gray8-interlaced.png", png(gray(BufferedImage.TYPE_BYTE_GRAY, SIDE, 255), true));
    s.put("gray-alpha.png", png(component(ColorSpace.CS_GRAY, true, DataBuffer.TYPE_BYTE), false));
    s.put("rgb8.png", png(rgb(BufferedImage.TYPE_INT_RGB), false));
    s.put("rgba8.png", png(rgb(BufferedImage.TYPE_INT_ARGB), false));
    s.put("rgb16.png", png(component(ColorSpace.CS_sRGB, false, DataBuffer.TYPE_USHORT), false));
    s.put("rgba16-interlaced.png", png(component(ColorSpace.CS_sRGB, true, DataBuffer.TYPE_USHORT), true));
    s.put("palette8.png", png(rgb(BufferedImage.TYPE_BYTE_INDEXED), false));
    s.put("1x1.png", png(gray(BufferedImage.TYPE_BYTE_GRAY, 1, 255), false));
    s.put("bomb-100000x100000.png", bombPng(100_000, 100_000));
    s.put("bomb-20000x20000.png", bombPng(20_000, 20_000));
    s.put("gray.jpg", write(gray(BufferedImage.TYPE_BYTE_GRAY, SIDE, 255), "jpeg"));
    s.put("rgb.gif", write(rgb(BufferedImage.TYPE_INT_RGB), "gif"));
    s.put("rgb.bmp", write(rgb(BufferedImage.TYPE_3BYTE_BGR), "bmp"));
    return s;
  }

  /** Writes {@link #seeds()} into a directory: {@code ImagesTest DIR}. */
  public static void main(String[] args) throws IOException {
    Path dir = Files.createDirectories(Path.of(args[0]));
    for (Map.Entry<String, byte[]> e : seeds().entrySet()) {
      Files.write(dir.resolve(e.getKey()), e.getValue());
    }
  }

  private static BufferedImage gray(int type, int side, int max) {
    BufferedImage img = new BufferedImage(side, side, type);
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        img.getRaster().setSample(x, y, 0, level(x, y) * max / 255);
      }
    }
    return img;
  }

  /** A gray ramp of 2^bits levels, packed. */
  private static BufferedImage binary(int bits) {
    int n = 1 << bits;
    byte[] ramp = new byte[n];
    for (int i = 0; i < n; i++) {
      ramp[i] = (byte) (i * 255 / (n - 1));
    }
    BufferedImage img = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_BYTE_BINARY,
        new IndexColorModel(bits, n, ramp, ramp, ramp));
    for (int y = 0; y < SIDE; y++) {
      for (int x = 0; x < SIDE; x++) {
        img.getRaster().setSample(x, y, 0, level(x, y) * (n - 1) / 255);
      }
    }
    return img;
  }

  private static BufferedImage rgb(int type) {
    BufferedImage img = new BufferedImage(SIDE, SIDE, type);
    for (int y = 0; y < SIDE; y++) {
      for (int x = 0; x < SIDE; x++) {
        int v = level(x, y);
        img.setRGB(x, y, 0xff000000 | (v << 16) | ((255 - v) << 8) | (x * 7 & 0xff));
      }
    }
    return img;
  }

  private static BufferedImage component(int space, boolean alpha, int dataType) {
    ColorModel cm = new ComponentColorModel(ColorSpace.getInstance(space), alpha, false,
        alpha ? Transparency.TRANSLUCENT : Transparency.OPAQUE, dataType);
    WritableRaster r = cm.createCompatibleWritableRaster(SIDE, SIDE);
    int max = dataType == DataBuffer.TYPE_USHORT ? 65535 : 255;
    for (int y = 0; y < SIDE; y++) {
      for (int x = 0; x < SIDE; x++) {
        for (int b = 0; b < r.getNumBands(); b++) {
          r.setSample(x, y, b, (level(x, y) + 40 * b) % 256 * max / 255);
        }
      }
    }
    return new BufferedImage(cm, r, false, null);
  }

  private static byte[] png(BufferedImage img, boolean interlaced) {
    ImageWriter w = ImageIO.getImageWritersByFormatName("png").next();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream s = new MemoryCacheImageOutputStream(out)) {
      w.setOutput(s);
      ImageWriteParam p = w.getDefaultWriteParam();
      p.setProgressiveMode(interlaced ? ImageWriteParam.MODE_DEFAULT : ImageWriteParam.MODE_DISABLED);
      w.write(null, new IIOImage(img, null, null), p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      w.dispose();
    }
    return out.toByteArray();
  }

  private static byte[] write(BufferedImage img, String format) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      assertTrue(ImageIO.write(img, format, out), format);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** A valid PNG whose IHDR claims width x height 8-bit gray pixels, with one compressed row. */
  static byte[] bombPng(int width, int height) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      DataOutputStream d = new DataOutputStream(out);
      d.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a});
      ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
      DataOutputStream h = new DataOutputStream(ihdr);
      h.writeInt(width);
      h.writeInt(height);
      h.write(new byte[] {8, 0, 0, 0, 0});
      chunk(d, "IHDR", ihdr.toByteArray());
      Deflater z = new Deflater();
      z.setInput(new byte[1 + Math.min(width, 4096)]);
      z.finish();
      byte[] idat = new byte[8192];
      int n = z.deflate(idat);
      z.end();
      chunk(d, "IDAT", java.util.Arrays.copyOf(idat, n));
      chunk(d, "IEND", new byte[0]);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void chunk(DataOutputStream d, String type, byte[] data) throws IOException {
    d.writeInt(data.length);
    byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    d.write(t);
    d.write(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    d.writeInt((int) crc.getValue());
  }

  private static float[] expectedGray(int levels) {
    float[] px = new float[SIDE * SIDE];
    for (int y = 0; y < SIDE; y++) {
      for (int x = 0; x < SIDE; x++) {
        px[y * SIDE + x] = (float) ((double) (level(x, y) * (levels - 1) / 255) / (levels - 1));
      }
    }
    return px;
  }

  @Test
  void decodesGrayLevelsAsStored() {
    Map<String, byte[]> s = seeds();
    assertArrayEquals(expectedGray(256), Images.grayPixels(s.get("gray8.png"), SIDE, SIDE));
    assertArrayEquals(expectedGray(256), Images.grayPixels(s.get("gray8-interlaced.png"), SIDE, SIDE));
    assertArrayEquals(expectedGray(256), Images.grayPixels(s.get("gray16.png"), SIDE, SIDE), 1e-6f);
    for (int bits : new int[] {1, 2, 4}) {
      assertArrayEquals(expectedGray(1 << bits), Images.grayPixels(s.get("gray" + bits + ".png"), SIDE, SIDE),
          1e-6f, bits + " bits");
    }
    assertArrayEquals(expectedGray(256), Images.grayPixels(s.get("gray-alpha.png"), SIDE, SIDE));
    assertArrayEquals(new float[] {0}, Images.grayPixels(s.get("1x1.png"), 1, 1));
  }

  @Test
  void everySeedDecodesToItsSizeWithinRange() {
    for (Map.Entry<String, byte[]> e : seeds().entrySet()) {
      if (e.getKey().startsWith("bomb")) {
        continue;
      }
      Images.Gray g = Images.decode(e.getValue(), 0, 0, Images.MAX_PIXELS);
      int side = e.getKey().equals("1x1.png") ? 1 : SIDE;
      assertEquals(side, g.width(), e.getKey());
      assertEquals(side, g.height(), e.getKey());
      for (float v : g.pixels()) {
        assertTrue(v >= 0 && v <= 1, e.getKey() + ": " + v);
      }
    }
    // Luma of the RGB images: the red-green ramp of rgb(), BT.601 weights.
    float[] rgb = Images.grayPixels(seeds().get("rgb8.png"), SIDE, SIDE);
    int v = level(3, 2);
    assertEquals((0.299 * v + 0.587 * (255 - v) + 0.114 * 21) / 255, rgb[2 * SIDE + 3], 1e-6);
  }

  @Test
  void refusesABombHeaderBeforeAllocatingItsPixels() {
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    byte[] bomb = bombPng(100_000, 100_000);
    Images.decode(seeds().get("gray8.png"), 0, 0, Images.MAX_PIXELS);  // ImageIO's classes loaded
    long before = threads.getCurrentThreadAllocatedBytes();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Images.decode(bomb, 0, 0, Images.MAX_PIXELS));
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertTrue(e.getMessage().contains("100000x100000 = 10000000000 pixels, over the limit of 4194304"),
        e.getMessage());
    assertTrue(allocated < 4 << 20, allocated + " bytes allocated");
    // 20000 x 20000 fits an int: ImageIO alone would allocate its 400 MB raster.
    byte[] bomb20k = bombPng(20_000, 20_000);
    before = threads.getCurrentThreadAllocatedBytes();
    e = assertThrows(IllegalArgumentException.class, () -> Images.grayPixels(bomb20k, SIDE, SIDE));
    allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertEquals("PNG image is 20000x20000, expected 28x28", e.getMessage());
    assertTrue(allocated < 4 << 20, allocated + " bytes allocated");
    e = assertThrows(IllegalArgumentException.class, () -> Images.grayPixels(bomb, SIDE, SIDE));
    assertEquals("PNG image is 100000x100000, expected 28x28", e.getMessage());
    // 2048 x 2049: just over the limit; 2048 x 2048 is within it but has only one row of data.
    e = assertThrows(IllegalArgumentException.class, () -> Images.decode(bombPng(2048, 2049), 0, 0,
        Images.MAX_PIXELS));
    assertTrue(e.getMessage().contains("over the limit"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Images.decode(bombPng(2048, 2048), 0, 0,
        Images.MAX_PIXELS));
    assertTrue(e.getMessage().startsWith("not a readable PNG image (pixel data)"), e.getMessage());
  }

  @Test
  void refusesOtherFormatsSizesAndOversizedFiles() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Images.grayPixels(write(gray(BufferedImage.TYPE_BYTE_GRAY, SIDE, 255), "tiff"), SIDE, SIDE));
    assertTrue(e.getMessage().startsWith("not a PNG, JPEG, GIF or BMP image: "), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Images.grayPixels(new byte[0], SIDE, SIDE));
    assertEquals("not a PNG, JPEG, GIF or BMP image: 0 bytes", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> Images.grayPixels(new byte[Images.MAX_FILE_BYTES + 1], SIDE, SIDE));
    assertTrue(e.getMessage().contains("over the limit of " + Images.MAX_FILE_BYTES), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Images.grayPixels(seeds().get("1x1.png"), SIDE, SIDE));
    assertEquals("PNG image is 1x1, expected 28x28", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Images.grayPixels(seeds().get("gray8.png"), 0, SIDE));
    assertTrue(e.getMessage().contains("must be positive"), e.getMessage());
    byte[] truncated = java.util.Arrays.copyOf(seeds().get("gray8.png"), 60);
    e = assertThrows(IllegalArgumentException.class, () -> Images.grayPixels(truncated, SIDE, SIDE));
    assertTrue(e.getMessage().startsWith("not a readable PNG image"), e.getMessage());
  }
}
