package dev.fathom.bench.djl;

import java.io.DataInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** Reads the gzip-compressed IDX files of the Debian dataset-fashion-mnist package (fmnist.py). */
final class FashionMnist {
  static final String DEFAULT_DIR = "/usr/share/datasets/fashion-mnist";

  /** Images as float32 in [0, 1], row-major (N, 28, 28); labels 0..9. */
  record Split(float[] images, long[] labels, int n, int rows, int cols) {}

  private FashionMnist() {}

  static Split load(String dir, String split) throws IOException {
    String p = split.equals("train") ? "train" : "t10k";
    byte[] img = readIdx(Path.of(dir, p + "-images-idx3-ubyte.gz"), 3);
    byte[] lab = readIdx(Path.of(dir, p + "-labels-idx1-ubyte.gz"), 1);
    int n = lab.length;
    int pixels = img.length / n;
    int side = (int) Math.round(Math.sqrt(pixels));
    float[] x = new float[img.length];
    for (int i = 0; i < img.length; i++) {
      x[i] = (img[i] & 0xff) / 255.0f;
    }
    long[] y = new long[n];
    for (int i = 0; i < n; i++) {
      y[i] = lab[i] & 0xff;
    }
    return new Split(x, y, n, side, side);
  }

  /** The unsigned-byte payload of an IDX file with {@code ndim} dimensions. */
  private static byte[] readIdx(Path path, int ndim) throws IOException {
    try (InputStream raw = new FileInputStream(path.toFile());
        DataInputStream in = new DataInputStream(new GZIPInputStream(raw, 1 << 16))) {
      int zero = in.readUnsignedShort();
      int dtype = in.readUnsignedByte();
      int dims = in.readUnsignedByte();
      if (zero != 0 || dtype != 0x08 || dims != ndim) {
        throw new IOException(path + ": not a uint8 IDX file with " + ndim + " dimensions");
      }
      long size = 1;
      for (int i = 0; i < dims; i++) {
        size *= in.readInt();
      }
      byte[] data = new byte[Math.toIntExact(size)];
      in.readFully(data);
      return data;
    }
  }
}
