package dev.fathom.serve;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Image files to model input: gray levels scaled to [0, 1] (Fashion-MNIST's
 * {@code pixel / 255}), row-major. Decoding uses the JDK's ImageIO readers for
 * PNG, JPEG, GIF (first frame) and BMP, headless.
 *
 * <p>The bytes are untrusted (a request body, a user's file), so they are checked
 * before anything is decoded: at most {@link #MAX_FILE_BYTES} bytes; the
 * signature of one of those four formats (other formats that ImageIO knows, such
 * as TIFF or WBMP, are refused); and the width and height that the header declares
 * (read alone first) must be exactly the expected ones, at most {@link #MAX_PIXELS}
 * pixels. A header that claims 100000 x 100000 pixels is therefore refused before
 * any pixel memory is allocated; so is a BMP whose header declares more pixel data
 * or profile bytes than the file holds, or embeds a JPEG or PNG stream. Only then
 * is the pixel data decoded, with the
 * metadata the model does not need (text chunks, comments) skipped. Decoding
 * allocates the file's size plus at most 8 bytes per pixel (a 16-bit RGBA raster)
 * plus the 4-byte-per-pixel result.
 *
 * <p>Every refusal, and every file the decoder cannot read, is an
 * {@link IllegalArgumentException} whose message says what was wrong.
 *
 * <pre>{@code
 * float[] pixels = Images.grayPixels(Files.readAllBytes(Path.of("boot.png")), 28, 28);
 * }</pre>
 */
public final class Images {
  /** Largest accepted file: 64 MiB (a 28x28 PNG is well under 1 KB). */
  public static final int MAX_FILE_BYTES = 1 << 26;
  /** Largest accepted image, width x height: 4,194,304 pixels (2048 x 2048). */
  public static final long MAX_PIXELS = 1L << 22;

  static {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  private Images() {}

  /** A decoded image: gray levels in [0, 1], row-major. */
  record Gray(int width, int height, float[] pixels) {}

  /**
   * The image's gray levels / max level. The file's header must declare exactly
   * width x height pixels; see the class comment for the other checks.
   *
   * @throws IllegalArgumentException when the file is too large, not a PNG, JPEG,
   *     GIF or BMP image, not of the expected size, or cannot be decoded
   */
  public static float[] grayPixels(byte[] file, int height, int width) {
    if (height < 1 || width < 1 || (long) height * width > MAX_PIXELS) {
      throw new IllegalArgumentException("Images: expected size " + width + "x" + height
          + " must be positive and at most " + MAX_PIXELS + " pixels");
    }
    return decode(file, height, width, MAX_PIXELS).pixels();
  }

  /**
   * Decodes `file` as {@link #grayPixels} does; with height and width 0, any size
   * the header declares is accepted up to `maxPixels`.
   */
  static Gray decode(byte[] file, int height, int width, long maxPixels) {
    if (file == null) {
      throw new IllegalArgumentException("Images: no image bytes (null)");
    }
    if (file.length > MAX_FILE_BYTES) {
      throw new IllegalArgumentException("image file is " + file.length + " bytes, over the limit of "
          + MAX_FILE_BYTES);
    }
    String format = format(file);
    if (format.equals("BMP")) {
      checkBmp(file);
    }
    ImageReader reader = reader(format);
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(file))) {
      reader.setInput(in, true, true);
      // The header alone: PNG's IHDR, JPEG's SOF, GIF's first image descriptor, BMP's info header.
      int[] size = call(format, "header", () -> new int[] {reader.getWidth(0), reader.getHeight(0)});
      int w = size[0];
      int h = size[1];
      if (w < 1 || h < 1) {
        throw new IllegalArgumentException(format + " image header declares " + w + "x" + h + " pixels");
      }
      if (height > 0 && (w != width || h != height)) {
        throw new IllegalArgumentException(format + " image is " + w + "x" + h + ", expected " + width + "x"
            + height);
      }
      if ((long) w * h > maxPixels) {
        throw new IllegalArgumentException(format + " image is " + w + "x" + h + " = " + (long) w * h
            + " pixels, over the limit of " + maxPixels);
      }
      BufferedImage img = call(format, "pixel data", () -> reader.read(0));
      if (img == null || img.getWidth() != w || img.getHeight() != h) {
        throw new IllegalArgumentException(format + " image decoded to "
            + (img == null ? "nothing" : img.getWidth() + "x" + img.getHeight()) + ", its header declares "
            + w + "x" + h);
      }
      return new Gray(w, h, call(format, "pixel data", () -> gray(img)));
    } catch (IOException e) {
      // Closing an in-memory stream; not expected.
      throw new IllegalArgumentException("not a readable " + format + " image: " + describe(e), e);
    } finally {
      reader.dispose();
    }
  }

  /** The format named by the file's signature, or an IllegalArgumentException. */
  private static String format(byte[] f) {
    if (starts(f, 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a)) {
      return "PNG";
    }
    if (starts(f, 0xff, 0xd8, 0xff)) {
      return "JPEG";
    }
    if (starts(f, 'G', 'I', 'F', '8', '7', 'a') || starts(f, 'G', 'I', 'F', '8', '9', 'a')) {
      return "GIF";
    }
    if (starts(f, 'B', 'M')) {
      return "BMP";
    }
    StringBuilder head = new StringBuilder();
    for (int i = 0; i < Math.min(8, f.length); i++) {
      head.append(String.format(Locale.ROOT, "%02x", f[i] & 0xff));
    }
    throw new IllegalArgumentException("not a PNG, JPEG, GIF or BMP image: " + (f.length == 0 ? "0 bytes"
        : f.length + " bytes starting 0x" + head));
  }

  /**
   * The BMP header fields from which the JDK's reader sizes buffers before the
   * pixel check can help: the size of an embedded JPEG or PNG stream (allocated in
   * one piece: 400 MB for a 78-byte file), of RLE data and of an ICC profile. Each
   * must fit in the file; embedded streams and profiles linked by file name are
   * refused outright.
   */
  private static void checkBmp(byte[] f) {
    long header = le32(f, 14);
    if (header < 40) {
      return;  // OS/2 core header: no compression, no profile
    }
    long compression = le32(f, 30);
    if (compression == 4 || compression == 5) {
      throw new IllegalArgumentException("BMP images with an embedded " + (compression == 4 ? "JPEG" : "PNG")
          + " stream are not supported");
    }
    long imageSize = le32(f, 34);
    if (imageSize > f.length) {
      throw new IllegalArgumentException("BMP header declares " + imageSize + " bytes of pixel data, the file has "
          + f.length);
    }
    if (header >= 108 && le32(f, 70) == 0x4c494e4bL) {  // 'LINK'
      throw new IllegalArgumentException("BMP images with a linked color profile are not supported");
    }
    if (header >= 124 && le32(f, 14 + 116) > f.length) {
      throw new IllegalArgumentException("BMP header declares a " + le32(f, 14 + 116)
          + "-byte color profile, the file has " + f.length);
    }
  }

  /** Unsigned little-endian 32-bit value at `at`, 0 past the end. */
  private static long le32(byte[] f, int at) {
    if (at + 4 > f.length) {
      return 0;
    }
    return (f[at] & 0xffL) | (f[at + 1] & 0xffL) << 8 | (f[at + 2] & 0xffL) << 16 | (f[at + 3] & 0xffL) << 24;
  }

  private static boolean starts(byte[] f, int... signature) {
    if (f.length < signature.length) {
      return false;
    }
    for (int i = 0; i < signature.length; i++) {
      if ((f[i] & 0xff) != signature[i]) {
        return false;
      }
    }
    return true;
  }

  private static ImageReader reader(String format) {
    Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format.toLowerCase(Locale.ROOT));
    if (!readers.hasNext()) {
      throw new IllegalArgumentException("no ImageIO reader for " + format + " images in this JVM");
    }
    return readers.next();
  }

  private interface Step<T> {
    T run() throws IOException;
  }

  /**
   * Runs one step of the decoder. Corrupt data surfaces from ImageIO as an
   * IIOException, and also as runtime exceptions from deeper down (a bad ICC
   * profile, an index past a palette): all of them become IllegalArgumentExceptions.
   */
  private static <T> T call(String format, String what, Step<T> step) {
    try {
      return step.run();
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("not a readable " + format + " image (" + what + "): " + describe(e), e);
    }
  }

  /** The message of `e` and its causes, or their class names where they have none. */
  private static String describe(Throwable e) {
    StringBuilder s = new StringBuilder();
    for (Throwable t = e; t != null && s.length() < 300; t = t.getCause() == t ? null : t.getCause()) {
      String m = t.getMessage();
      s.append(s.length() == 0 ? "" : ": ").append(m == null || m.isBlank() ? t.getClass().getSimpleName() : m);
    }
    return s.toString();
  }

  private static float[] gray(BufferedImage img) {
    int width = img.getWidth();
    int height = img.getHeight();
    float[] px = new float[width * height];
    ColorModel cm = img.getColorModel();
    Raster raster = img.getRaster();
    // NOTE: gray samples are read as stored: getRGB() would pass them through a
    // linear-to-sRGB conversion and brighten them.
    boolean gray = cm.getNumColorComponents() == 1;
    double grayMax = gray ? (1 << cm.getComponentSize(0)) - 1 : 255;
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        double v;
        if (gray) {
          v = raster.getSample(x, y, 0) / grayMax;
        } else {
          int rgb = img.getRGB(x, y);
          // Luma with ITU-R BT.601 weights.
          v = (0.299 * (rgb >> 16 & 0xff) + 0.587 * (rgb >> 8 & 0xff) + 0.114 * (rgb & 0xff)) / 255.0;
        }
        px[y * width + x] = (float) Math.min(1.0, v);
      }
    }
    return px;
  }
}
