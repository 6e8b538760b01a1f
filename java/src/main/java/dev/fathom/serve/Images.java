package dev.fathom.serve;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;

/**
 * Image files to model input: gray levels scaled to [0, 1] (Fashion-MNIST's
 * {@code pixel / 255}), row-major. Decoding uses the JDK's ImageIO (PNG, JPEG,
 * BMP, GIF), headless.
 *
 * <pre>{@code
 * float[] pixels = Images.grayPixels(Files.readAllBytes(Path.of("boot.png")), 28, 28);
 * }</pre>
 */
public final class Images {
  static {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  private Images() {}

  /** The image's gray levels / max level; it must be exactly width x height. */
  public static float[] grayPixels(byte[] file, int height, int width) {
    BufferedImage img;
    try {
      img = javax.imageio.ImageIO.read(new ByteArrayInputStream(file));
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("not a readable PNG image: " + e.getMessage());
    }
    if (img == null) {
      throw new IllegalArgumentException("not a readable PNG image");
    }
    if (img.getHeight() != height || img.getWidth() != width) {
      throw new IllegalArgumentException("PNG image is " + img.getWidth() + "x" + img.getHeight() + ", expected "
          + width + "x" + height);
    }
    float[] px = new float[width * height];
    boolean gray = img.getColorModel().getNumColorComponents() == 1;
    // NOTE: gray samples are read as stored: getRGB() would pass them through a
    // linear-to-sRGB conversion and brighten them.
    double grayMax = gray ? (1 << img.getColorModel().getComponentSize(0)) - 1 : 255;
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        double v;
        if (gray) {
          v = img.getRaster().getSample(x, y, 0) / grayMax;
        } else {
          int rgb = img.getRGB(x, y);
          // Luma with ITU-R BT.601 weights.
          v = (0.299 * (rgb >> 16 & 0xff) + 0.587 * (rgb >> 8 & 0xff) + 0.114 * (rgb & 0xff)) / 255.0;
        }
        px[y * width + x] = (float) v;
      }
    }
    return px;
  }
}
