package dev.fathom.data;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Tensor;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * Fashion-MNIST (Xiao et al. 2017): 28x28 grey images of clothing in 10
 * classes, 60,000 for training and 10,000 for testing, read from the four
 * standard IDX files (plain or {@code .gz}). Nothing is downloaded.
 *
 * <pre>{@code
 * try (TensorDataset train = FashionMnist.load(FashionMnist.Split.TRAIN)) {
 *   // train.features(): float32 [60000, 1, 28, 28] in [0, 1]; train.labels(): int64 [60000]
 *   String name = FashionMnist.CLASS_NAMES.get(9);          // "ankle boot"
 * }
 * }</pre>
 *
 * <p>Where the files are looked for, first match wins (a directory matches
 * when it holds both files of the split): the system property
 * {@value #PROPERTY}, the environment variable {@value #ENV}, the Debian
 * package's {@value #DEBIAN_DIR} ({@code apt-get install dataset-fashion-mnist}),
 * then the cache directory {@code $FATHOM_CACHE_DIR/fashion-mnist} or
 * {@code ~/.cache/fathom/fashion-mnist}.
 *
 * <p>Errors: every failure (files missing, unreadable, or malformed: bad magic
 * number, wrong image size, truncated or trailing data, counts that differ
 * between images and labels, labels outside 0-9) is an
 * {@link UncheckedIOException} whose message names the file and the problem.
 */
public final class FashionMnist {
  /** System property naming a directory with the files. */
  public static final String PROPERTY = "fathom.data.fashionMnist";
  /** Environment variable naming a directory with the files. */
  public static final String ENV = "FATHOM_FASHION_MNIST";
  /** Where Debian's dataset-fashion-mnist package installs them. */
  public static final String DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";

  /** Class names, indexed by label. */
  public static final List<String> CLASS_NAMES = List.of("t-shirt/top", "trouser", "pullover", "dress",
      "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot");

  /** Image height and width. */
  public static final int SIZE = 28;

  // Images are converted this many at a time, bounding the int[] staging copy (~25 MB).
  private static final int CHUNK = 8192;

  /** The training or the test set. */
  public enum Split {
    TRAIN("train"),
    TEST("t10k");

    private final String prefix;

    Split(String prefix) {
      this.prefix = prefix;
    }

    /** Base name of the image file, without {@code .gz}. */
    public String imagesFile() {
      return prefix + "-images-idx3-ubyte";
    }

    /** Base name of the label file, without {@code .gz}. */
    public String labelsFile() {
      return prefix + "-labels-idx1-ubyte";
    }
  }

  /** A place searched, for error messages: where the path came from, and the path (null when unset). */
  record Location(String source, Path dir) {}

  private FashionMnist() {}

  /**
   * Loads a split from the first location of the search path that has it.
   * x is float32 [N, 1, 28, 28] scaled to [0, 1]; y is int64 [N] in 0-9.
   */
  public static TensorDataset load(Split split) {
    return load(split, searchPath());
  }

  /** Loads a split from {@code dir}, which must hold its two files (plain or .gz). */
  public static TensorDataset load(Path dir, Split split) {
    return load(split, List.of(new Location("directory given", dir)));
  }

  /** The locations {@link #load(Split)} searches, in order (unset ones included, with a null dir). */
  static List<Location> searchPath() {
    List<Location> out = new ArrayList<>();
    String prop = System.getProperty(PROPERTY);
    out.add(new Location("system property " + PROPERTY, blank(prop) ? null : Paths.get(prop)));
    String env = System.getenv(ENV);
    out.add(new Location("environment variable " + ENV, blank(env) ? null : Paths.get(env)));
    out.add(new Location("Debian package dataset-fashion-mnist", Paths.get(DEBIAN_DIR)));
    String cache = System.getenv("FATHOM_CACHE_DIR");
    out.add(blank(cache)
        ? new Location("cache", Paths.get(System.getProperty("user.home"), ".cache", "fathom", "fashion-mnist"))
        : new Location("cache (FATHOM_CACHE_DIR)", Paths.get(cache, "fashion-mnist")));
    return out;
  }

  static TensorDataset load(Split split, List<Location> locations) {
    StringBuilder searched = new StringBuilder();
    for (Location loc : locations) {
      searched.append("\n  - ").append(loc.source()).append(": ");
      if (loc.dir() == null) {
        searched.append("not set");
        continue;
      }
      searched.append(loc.dir());
      if (!Files.isDirectory(loc.dir())) {
        searched.append(" (no such directory)");
        continue;
      }
      Path images = find(loc.dir(), split.imagesFile());
      Path labels = find(loc.dir(), split.labelsFile());
      if (images != null && labels != null) {
        return read(images, labels);
      }
      searched.append(" (missing ").append(images == null ? split.imagesFile() + "[.gz]" : "")
          .append(images == null && labels == null ? " and " : "")
          .append(labels == null ? split.labelsFile() + "[.gz]" : "").append(')');
    }
    String msg = "Fashion-MNIST " + split.name().toLowerCase() + " split not found. Expected the files "
        + split.imagesFile() + " and " + split.labelsFile() + " (each plain or with .gz) in one of:" + searched
        + "\nInstall them with `apt-get install dataset-fashion-mnist` (into " + DEBIAN_DIR
        + "), or put the files in a directory and pass it to FashionMnist.load(dir, split), -D" + PROPERTY
        + "=DIR or " + ENV + "=DIR. Nothing is downloaded.";
    throw new UncheckedIOException(msg, new FileNotFoundException(msg));
  }

  /** dir/name, else dir/name.gz, else null. */
  private static Path find(Path dir, String name) {
    Path plain = dir.resolve(name);
    if (Files.isRegularFile(plain)) {
      return plain;
    }
    Path gz = dir.resolve(name + ".gz");
    return Files.isRegularFile(gz) ? gz : null;
  }

  /** Reads and validates one image file and its label file. */
  static TensorDataset read(Path imagesFile, Path labelsFile) {
    IdxFile.Contents images;
    IdxFile.Contents labels;
    try {
      images = IdxFile.readUnsignedBytes(imagesFile, 3);
      labels = IdxFile.readUnsignedBytes(labelsFile, 1);
    } catch (IOException e) {
      throw new UncheckedIOException("FashionMnist: " + e.getMessage(), e);
    }
    long[] d = images.dims();
    if (d[1] != SIZE || d[2] != SIZE) {
      throw invalid(imagesFile, "images are " + d[1] + "x" + d[2] + ", expected " + SIZE + "x" + SIZE);
    }
    if (d[0] != labels.dims()[0]) {
      throw invalid(imagesFile, "holds " + d[0] + " images but " + labelsFile + " holds "
          + labels.dims()[0] + " labels");
    }
    int n = Math.toIntExact(d[0]);
    byte[] labelBytes = labels.data();
    long[] y = new long[n];
    for (int i = 0; i < n; i++) {
      int label = labelBytes[i] & 0xFF;
      if (label >= CLASS_NAMES.size()) {
        throw invalid(labelsFile, "label " + label + " at index " + i + " is outside 0-"
            + (CLASS_NAMES.size() - 1));
      }
      y[i] = label;
    }
    Tensor x = null;
    Tensor yt = null;
    try (GradMode.Guard g = GradMode.disable()) {
      x = pixels(images.data(), n);
      yt = Tensor.fromArray(y, n);
      return new TensorDataset(x, yt);
    } catch (RuntimeException | Error e) {
      if (x != null) {
        x.close();
      }
      if (yt != null) {
        yt.close();
      }
      throw e;
    }
  }

  /** float32 [n, 1, 28, 28] = bytes / 255, converted natively a chunk at a time. */
  private static Tensor pixels(byte[] bytes, int n) {
    int per = SIZE * SIZE;
    Tensor x = Tensor.empty(DType.FLOAT32, n, 1, SIZE, SIZE);
    try {
      int[] staging = new int[Math.min(n, CHUNK) * per];
      for (int start = 0; start < n; start += CHUNK) {
        int count = Math.min(CHUNK, n - start);
        int[] chunk = count * per == staging.length ? staging : new int[count * per];
        int base = start * per;
        for (int i = 0; i < chunk.length; i++) {
          chunk[i] = bytes[base + i] & 0xFF;                 // unsigned byte
        }
        // NOTE: copy_ casts int32 -> float32 natively; the whole tensor is scaled once at the end.
        try (Tensor src = Tensor.fromArray(chunk, count, 1, SIZE, SIZE);
            Tensor dst = x.narrow(0, start, count)) {
          dst.copy_(src);
        }
      }
      x.mul_(1.0 / 255.0);
      // NOTE: 255 * (1/255) may round to just above 1 in float32; clamp keeps the promised range.
      x.clamp_(0.0, 1.0);
      return x;
    } catch (RuntimeException | Error e) {
      x.close();
      throw e;
    }
  }

  private static UncheckedIOException invalid(Path file, String what) {
    IOException e = IdxFile.corrupt(file, what);
    return new UncheckedIOException("FashionMnist: " + e.getMessage(), e);
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
