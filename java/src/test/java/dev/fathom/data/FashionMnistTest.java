package dev.fathom.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fathom.data.FashionMnist.Split;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {
  private static final Path DEBIAN = Paths.get(FashionMnist.DEBIAN_DIR);
  private long baseline;

  @TempDir
  Path dir;

  @BeforeEach
  void recordBaseline() {
    baseline = NativeMemory.baseline();
  }

  @AfterEach
  void noLeaks() {
    NativeMemory.assertBackTo(baseline);
  }

  // ---------------------------------------------------------------- the real files

  private static void assumeDebianPackage() {
    assumeTrue(Files.isRegularFile(DEBIAN.resolve("train-images-idx3-ubyte.gz")),
        "dataset-fashion-mnist is not installed in " + DEBIAN);
  }

  @Test
  void loadsTheRealTrainingSet() {
    assumeDebianPackage();
    try (TensorDataset train = FashionMnist.load(DEBIAN, Split.TRAIN)) {
      Tensor x = train.features();
      Tensor y = train.labels();
      assertEquals(60000, train.size());
      assertArrayEquals(new long[] {60000, 1, 28, 28}, x.shape());
      assertEquals(DType.FLOAT32, x.dtype());
      assertArrayEquals(new long[] {60000}, y.shape());
      assertEquals(DType.INT64, y.dtype());
      // NOTE: in a scope: max() makes a flattened view and an index tensor besides its result.
      try (Scope scope = Scope.open()) {
        assertEquals(0.0, x.min().item());
        assertEquals(1.0, x.max().item());
      }
      long[] labels = y.toLongArray();
      long[] histogram = new long[10];
      for (long l : labels) {
        histogram[(int) l]++;
      }
      long[] expected = new long[10];
      Arrays.fill(expected, 6000);
      assertArrayEquals(expected, histogram, "Fashion-MNIST is balanced: 6000 images per class");
      assertArrayEquals(new long[] {9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, Arrays.copyOf(labels, 10));
      assertEquals("ankle boot", FashionMnist.CLASS_NAMES.get((int) labels[0]));
      // The first image's pixel sum (76247 / 255) from the raw file, computed independently.
      try (Scope scope = Scope.open()) {
        assertEquals(76247 / 255.0, x.narrow(0, 0, 1).sum().item(), 1e-3);
      }
    }
  }

  @Test
  void loadsTheRealTestSetThroughTheSearchPath() {
    assumeDebianPackage();
    assumeTrue(System.getProperty(FashionMnist.PROPERTY) == null && System.getenv(FashionMnist.ENV) == null,
        "a configured location would take precedence over the Debian package");
    try (TensorDataset test = FashionMnist.load(Split.TEST)) {
      assertEquals(10000, test.size());
      assertArrayEquals(new long[] {10000, 1, 28, 28}, test.features().shape());
      long[] labels = test.labels().toLongArray();
      long[] histogram = new long[10];
      for (long l : labels) {
        histogram[(int) l]++;
      }
      long[] expected = new long[10];
      Arrays.fill(expected, 1000);
      assertArrayEquals(expected, histogram);
      assertArrayEquals(new long[] {9, 2, 1, 1, 6}, Arrays.copyOf(labels, 5));
    }
  }

  @Test
  void oneShuffledEpochOfTheRealTrainingSetThroughADataLoader() {
    assumeDebianPackage();
    long[] histogram = new long[10];
    int batches = 0;
    try (TensorDataset train = FashionMnist.load(DEBIAN, Split.TRAIN);
        DataLoader loader = DataLoader.builder(train).batchSize(256).shuffle(true).seed(1).prefetch(2).build()) {
      assertEquals(235, loader.numBatches());
      for (Batch b : loader) {
        try (b) {
          assertArrayEquals(new long[] {b.size(), 1, 28, 28}, b.x().shape());
          for (long l : b.y().toLongArray()) {
            histogram[(int) l]++;
          }
          batches++;
          if (batches == 235) {
            assertEquals(60000 - 234 * 256, b.size());
          }
        }
      }
    }
    assertEquals(235, batches);
    long[] expected = new long[10];
    Arrays.fill(expected, 6000);
    assertArrayEquals(expected, histogram);
  }

  @Test
  void classNames() {
    assertEquals(List.of("t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
        "bag", "ankle boot"), FashionMnist.CLASS_NAMES);
  }

  // ---------------------------------------------------------------- small files written here

  /** IDX header: magic, then one big-endian int per dimension. */
  private static byte[] header(int magic, int... dims) {
    ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length);
    b.putInt(magic);
    for (int d : dims) {
      b.putInt(d);
    }
    return b.array();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** Pixel j of image i. */
  private static int pixel(int i, int j) {
    return (i * 7 + j * 3) % 256;
  }

  private static byte[] imagesFile(int n) {
    byte[] data = new byte[n * 784];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < 784; j++) {
        data[i * 784 + j] = (byte) pixel(i, j);
      }
    }
    return concat(header(0x803, n, 28, 28), data);
  }

  private static byte[] labelsFile(int n) {
    byte[] data = new byte[n];
    for (int i = 0; i < n; i++) {
      data[i] = (byte) ((i * 3) % 10);
    }
    return concat(header(0x801, n), data);
  }

  private static byte[] gzip(byte[] raw) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (OutputStream out = new GZIPOutputStream(bytes)) {
      out.write(raw);
    }
    return bytes.toByteArray();
  }

  private void write(Split split, byte[] images, byte[] labels, boolean gz) throws IOException {
    String suffix = gz ? ".gz" : "";
    Files.write(dir.resolve(split.imagesFile() + suffix), gz ? gzip(images) : images);
    Files.write(dir.resolve(split.labelsFile() + suffix), gz ? gzip(labels) : labels);
  }

  private void checkSmall(TensorDataset data, int n) {
    assertEquals(n, data.size());
    assertArrayEquals(new long[] {n, 1, 28, 28}, data.features().shape());
    float[] x = data.features().toFloatArray();
    for (int i = 0; i < n; i += 37) {
      for (int j = 0; j < 784; j += 13) {
        assertEquals((float) (pixel(i, j) / 255.0), x[i * 784 + j], 1e-7f, "pixel " + j + " of image " + i);
      }
    }
    long[] y = data.labels().toLongArray();
    for (int i = 0; i < n; i++) {
      assertEquals((i * 3) % 10, y[i]);
    }
  }

  @Test
  void loadsPlainFilesFromADirectory() throws IOException {
    write(Split.TRAIN, imagesFile(300), labelsFile(300), false);
    write(Split.TEST, imagesFile(120), labelsFile(120), false);
    try (TensorDataset train = FashionMnist.load(dir, Split.TRAIN);
        TensorDataset test = FashionMnist.load(dir, Split.TEST)) {
      checkSmall(train, 300);
      checkSmall(test, 120);
    }
  }

  @Test
  void loadsGzippedFilesFromADirectory() throws IOException {
    write(Split.TRAIN, imagesFile(257), labelsFile(257), true);
    try (TensorDataset train = FashionMnist.load(dir, Split.TRAIN)) {
      checkSmall(train, 257);
    }
  }

  @Test
  void theSystemPropertyComesFirstInTheSearchPath() throws IOException {
    write(Split.TEST, imagesFile(30), labelsFile(30), false);
    String before = System.getProperty(FashionMnist.PROPERTY);
    System.setProperty(FashionMnist.PROPERTY, dir.toString());
    try (TensorDataset test = FashionMnist.load(Split.TEST)) {
      assertEquals(30, test.size(), "the 30-image set from the property, not the Debian one");
    } finally {
      if (before == null) {
        System.clearProperty(FashionMnist.PROPERTY);
      } else {
        System.setProperty(FashionMnist.PROPERTY, before);
      }
    }
    List<FashionMnist.Location> path = FashionMnist.searchPath();
    assertEquals(4, path.size());
    assertEquals(DEBIAN, path.get(2).dir());
    assertTrue(path.get(3).dir().endsWith(Paths.get("fashion-mnist")));
  }

  // ---------------------------------------------------------------- refusing bad files

  private UncheckedIOException refused(Split split) {
    return assertThrows(UncheckedIOException.class, () -> FashionMnist.load(dir, split).close());
  }

  private void assertNames(UncheckedIOException e, String file, String... words) {
    String msg = e.getMessage();
    assertTrue(msg.contains(dir.resolve(file).toString()), "message must name " + file + ": " + msg);
    for (String w : words) {
      assertTrue(msg.contains(w), "message must say '" + w + "': " + msg);
    }
  }

  @Test
  void refusesABadMagicNumber() throws IOException {
    byte[] images = imagesFile(10);
    images[3] = 0x01;                                        // 0x00000801: a label file's magic
    write(Split.TRAIN, images, labelsFile(10), false);
    assertNames(refused(Split.TRAIN), "train-images-idx3-ubyte", "bad magic number 0x00000801", "0x00000803");
  }

  @Test
  void refusesTruncatedData() throws IOException {
    byte[] images = imagesFile(10);
    write(Split.TRAIN, Arrays.copyOf(images, images.length - 100), labelsFile(10), false);
    assertNames(refused(Split.TRAIN), "train-images-idx3-ubyte", "truncated");
  }

  @Test
  void refusesTruncatedGzipData() throws IOException {
    write(Split.TRAIN, imagesFile(10), labelsFile(10), true);
    Path gz = dir.resolve("train-images-idx3-ubyte.gz");
    byte[] bytes = Files.readAllBytes(gz);
    Files.write(gz, Arrays.copyOf(bytes, bytes.length / 2));
    assertNames(refused(Split.TRAIN), "train-images-idx3-ubyte.gz", "truncated");
  }

  @Test
  void refusesAFileNamedGzThatIsNotGzip() throws IOException {
    write(Split.TEST, imagesFile(10), labelsFile(10), false);
    Files.move(dir.resolve("t10k-labels-idx1-ubyte"), dir.resolve("t10k-labels-idx1-ubyte.gz"));
    assertNames(refused(Split.TEST), "t10k-labels-idx1-ubyte.gz", "gzip");
  }

  @Test
  void refusesTrailingData() throws IOException {
    write(Split.TRAIN, imagesFile(10), concat(labelsFile(10), new byte[] {1}), false);
    assertNames(refused(Split.TRAIN), "train-labels-idx1-ubyte", "trailing data");
  }

  @Test
  void refusesALabelOutsideTheClasses() throws IOException {
    byte[] labels = labelsFile(10);
    labels[8 + 4] = 12;
    write(Split.TRAIN, imagesFile(10), labels, false);
    assertNames(refused(Split.TRAIN), "train-labels-idx1-ubyte", "label 12 at index 4");
  }

  @Test
  void refusesImageAndLabelCountsThatDiffer() throws IOException {
    write(Split.TRAIN, imagesFile(10), labelsFile(9), false);
    assertNames(refused(Split.TRAIN), "train-images-idx3-ubyte", "10 images", "9 labels");
  }

  @Test
  void refusesImagesThatAreNot28By28() throws IOException {
    byte[] images = concat(header(0x803, 2, 32, 32), new byte[2 * 32 * 32]);
    write(Split.TRAIN, images, labelsFile(2), false);
    assertNames(refused(Split.TRAIN), "train-images-idx3-ubyte", "32x32");
  }

  @Test
  void refusesAHeaderClaiming2To31ImagesBeforeAllocating() throws IOException {
    // 0x80000000 images is negative as a Java int and 1.7 TB of pixels: neither may be attempted.
    byte[] images = concat(header(0x803, 0x80000000, 28, 28), new byte[784]);
    write(Split.TRAIN, images, labelsFile(1), false);
    assertNames(refused(Split.TRAIN), "train-images-idx3-ubyte", "2147483648", "truncated");
    write(Split.TEST, images, labelsFile(1), true);
    assertNames(refused(Split.TEST), "t10k-images-idx3-ubyte.gz", "2147483648");
    // A gzip header that claims less than an array can hold but more than the stream has.
    write(Split.TEST, concat(header(0x803, 1_000_000, 28, 28), new byte[784]), labelsFile(1), true);
    assertNames(refused(Split.TEST), "t10k-images-idx3-ubyte.gz", "truncated", "784000000");
  }

  @Test
  void refusesATruncatedHeader() throws IOException {
    write(Split.TRAIN, new byte[] {0, 0, 8, 3, 0}, labelsFile(1), false);
    assertNames(refused(Split.TRAIN), "train-images-idx3-ubyte", "truncated header");
  }

  // ---------------------------------------------------------------- nothing found

  @Test
  void aMissingDirectoryIsNamedWithTheExpectedFiles() {
    Path missing = dir.resolve("nowhere");
    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> FashionMnist.load(missing, Split.TRAIN));
    String msg = e.getMessage();
    for (String w : List.of(missing.toString(), "no such directory", "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte", "apt-get install dataset-fashion-mnist")) {
      assertTrue(msg.contains(w), "message must say '" + w + "': " + msg);
    }
  }

  @Test
  void whenNothingIsFoundEverySearchedPlaceIsListed() throws IOException {
    Files.write(dir.resolve("t10k-images-idx3-ubyte.gz"), gzip(imagesFile(1)));   // labels missing
    List<FashionMnist.Location> places = List.of(
        new FashionMnist.Location("system property " + FashionMnist.PROPERTY, null),
        new FashionMnist.Location("environment variable " + FashionMnist.ENV, dir.resolve("absent")),
        new FashionMnist.Location("Debian package dataset-fashion-mnist", dir),
        new FashionMnist.Location("cache", dir.resolve("cache")));
    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> FashionMnist.load(Split.TEST, places));
    String msg = e.getMessage();
    for (String w : List.of("system property fathom.data.fashionMnist: not set",
        "environment variable FATHOM_FASHION_MNIST: " + dir.resolve("absent") + " (no such directory)",
        dir + " (missing t10k-labels-idx1-ubyte[.gz])", dir.resolve("cache").toString(),
        "t10k-images-idx3-ubyte", "apt-get install dataset-fashion-mnist")) {
      assertTrue(msg.contains(w), "message must say '" + w + "': " + msg);
    }
  }
}
