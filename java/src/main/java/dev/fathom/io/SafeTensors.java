package dev.fathom.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fathom.internal.nativ.TensorKernels;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.tensor.TensorAccess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (the one Hugging Face and PyTorch users exchange
 * weights in): an 8-byte little-endian header length, a JSON header mapping
 * each name to dtype, shape and byte offsets (plus an optional string-to-string
 * {@code __metadata__} map), then the raw little-endian data.
 *
 * <p>Files are untrusted. Before anything is allocated: the header length must
 * fit the file and {@value #MAX_HEADER_BYTES} bytes; the header must be a JSON
 * object without duplicate keys; every tensor needs a known dtype, at most 8
 * non-negative integral sizes, and offsets inside the data section whose span
 * equals its shape's byte size (computed without overflow); the tensors must tile
 * the data section exactly (no gap, no overlap, nothing left over). So native
 * memory is only allocated for tensors that the file really holds, and never more
 * than the file's size. A file that fails any check is refused whole with an
 * {@link IllegalArgumentException} naming the file and, where there is one, the
 * tensor; read errors become {@link UncheckedIOException}.
 *
 * <pre>{@code
 * SafeTensors.save(model.stateDict(), Path.of("model.safetensors"));
 * Map<String, Tensor> weights = SafeTensors.load(Path.of("model.safetensors"));
 * }</pre>
 */
public final class SafeTensors {
  /** Larger headers are refused (the reference implementation's limit): real ones are a few KB per hundred tensors. */
  public static final long MAX_HEADER_BYTES = 100_000_000L;
  /** Most dimensions a tensor may have (Fathom's native limit). */
  static final int MAX_DIMS = 8;
  // NOTE: one FileChannel read or write per chunk: ByteBuffers hold at most 2 GiB.
  private static final long CHUNK = 1L << 30;
  private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16).build())
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build());

  private SafeTensors() {}

  /** The tensors of a file (owned: {@link #close()} frees them) and its {@code __metadata__}. */
  public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) implements AutoCloseable {
    public Tensor get(String name) {
      return tensors.get(name);
    }

    @Override
    public void close() {
      tensors.values().forEach(Tensor::close);
    }
  }

  /** Writes atomically (temp file, fsync, rename), so a crash never leaves a half-written file. */
  public static void save(Map<String, Tensor> tensors, Path file) {
    save(tensors, Map.of(), file);
  }

  /**
   * Writes `tensors` in iteration order with `metadata` in the header's
   * {@code __metadata__} (safetensors allows only string values there). The file
   * is written to a temporary file in the same directory, forced to disk, and
   * renamed over `file` in one atomic step: readers see the old file or the new
   * one, never a mix, and if anything fails (an I/O error, a closed tensor, a
   * crash) the old file is left as it was and the temporary file is removed.
   */
  public static void save(Map<String, Tensor> tensors, Map<String, String> metadata, Path file) {
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      throw new UnsupportedOperationException("safetensors: writing needs a little-endian platform");
    }
    ObjectNode header = JSON.createObjectNode();
    ObjectNode meta = header.putObject("__metadata__").put("format", "pt").put("producer", "fathom");
    metadata.forEach((k, v) -> {
      if (k == null || v == null) {
        throw new IllegalArgumentException("safetensors: metadata keys and values must not be null (" + k + ")");
      }
      meta.put(k, v);
    });
    long offset = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      Tensor t = e.getValue();
      if (e.getKey() == null || e.getKey().equals("__metadata__")) {
        throw new IllegalArgumentException("safetensors: invalid tensor name '" + e.getKey() + "' for " + file);
      }
      long bytes = t.numel() * t.dtype().byteSize();
      ObjectNode entry = header.putObject(e.getKey());
      entry.put("dtype", code(t.dtype()));
      ArrayNode shape = entry.putArray("shape");
      for (long s : t.shape()) {
        shape.add(s);
      }
      entry.putArray("data_offsets").add(offset).add(offset + bytes);
      offset += bytes;
    }
    byte[] json;
    try {
      json = JSON.writeValueAsBytes(header);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // The spec pads the header with spaces so that the data starts 8-byte aligned.
    int padded = (json.length + 7) / 8 * 8;
    try {
      AtomicFiles.write(file, ch -> {
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
          head.put((byte) ' ');
        }
        head.flip();
        AtomicFiles.writeFully(ch, head);
        for (Tensor t : tensors.values()) {
          try (Scope s = Scope.open()) {
            Tensor c = t.detach().contiguous();
            long address = TensorAccess.address(c);
            long bytes = c.numel() * c.dtype().byteSize();
            for (long done = 0; done < bytes; done += CHUNK) {
              AtomicFiles.writeFully(ch, TensorKernels.view(address + done, Math.min(CHUNK, bytes - done)));
            }
          }
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException("safetensors: cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * A new empty file next to `file`, for writing and then renaming over it.
   *
   * @deprecated use {@link AtomicFiles#write} (or {@link AtomicFiles#temporaryFile}).
   */
  @Deprecated
  public static Path temporaryFile(Path file) throws IOException {
    return AtomicFiles.temporaryFile(file);
  }

  /** Reads every tensor (unowned: the caller closes them, e.g. via {@link Checkpoints#load}). */
  public static Map<String, Tensor> load(Path file) {
    return read(file).tensors();
  }

  /** Reads every tensor and the metadata; close the result to free the tensors. */
  public static Contents read(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      Header h = readHeader(ch, file);
      Map<String, Tensor> out = new LinkedHashMap<>();
      try {
        for (Entry e : h.entries) {
          Tensor t = Tensor.empty(e.dtype, e.shape).unscope();
          out.put(e.name, t);
          long address = TensorAccess.address(t);
          long bytes = e.end - e.begin;
          for (long done = 0; done < bytes; done += CHUNK) {
            readFully(ch, TensorKernels.view(address + done, Math.min(CHUNK, bytes - done)),
                h.dataStart + e.begin + done, file);
          }
          if (e.dtype == DType.BOOL && bytes > 0) {
            try (Scope s = Scope.open()) {
              if (t.gt(1.0).sum().item() > 0) {
                throw invalid(file, "tensor '" + e.name + "' holds bool values other than 0 and 1");
              }
            }
          }
        }
      } catch (RuntimeException | IOException ex) {
        out.values().forEach(Tensor::close);
        throw ex;
      }
      return new Contents(Collections.unmodifiableMap(out), h.metadata);
    } catch (IOException e) {
      throw new UncheckedIOException("safetensors: cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** The header's {@code __metadata__} (validated like a full read, without reading any tensor data). */
  public static Map<String, String> readMetadata(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return readHeader(ch, file).metadata;
    } catch (IOException e) {
      throw new UncheckedIOException("safetensors: cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** Names, dtypes and shapes of the file's tensors (header only), in file order. */
  public static Map<String, TensorInfo> readInfo(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      Map<String, TensorInfo> out = new LinkedHashMap<>();
      for (Entry e : readHeader(ch, file).entries) {
        out.put(e.name, new TensorInfo(e.dtype, e.shape.clone()));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("safetensors: cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** One tensor's dtype and shape as the header declares them. */
  public record TensorInfo(DType dtype, long[] shape) {}

  private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

  private record Header(List<Entry> entries, Map<String, String> metadata, long dataStart) {}

  private static Header readHeader(FileChannel ch, Path file) throws IOException {
    long size = ch.size();
    if (size < 8) {
      throw invalid(file, "file has " + size + " bytes, fewer than the 8-byte header length");
    }
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, lenBuf, 0, file);
    long headerLen = lenBuf.getLong(0);
    if (headerLen < 2 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
      throw invalid(file, "header length " + headerLen + " is impossible for a file of " + size
          + " bytes (at most " + Math.min(MAX_HEADER_BYTES, size - 8) + ")");
    }
    ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
    readFully(ch, hb, 8, file);
    if (hb.get(0) != '{') {
      throw invalid(file, "header does not start with '{'");
    }
    JsonNode header;
    try {
      header = JSON.readTree(hb.array());
    } catch (JsonProcessingException e) {
      throw invalid(file, "header is not valid JSON: " + e.getOriginalMessage());
    }
    if (header == null || !header.isObject()) {
      throw invalid(file, "header is not a JSON object");
    }
    long dataStart = 8 + headerLen;
    long dataLen = size - dataStart;
    List<Entry> entries = new ArrayList<>();
    Map<String, String> metadata = Map.of();
    for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      if (f.getKey().equals("__metadata__")) {
        metadata = parseMetadata(file, f.getValue());
      } else {
        entries.add(parseEntry(file, f.getKey(), f.getValue(), dataLen));
      }
    }
    // The spec requires the tensors to tile the data section exactly: no gaps, no overlaps.
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort((x, y) -> x.begin != y.begin ? Long.compare(x.begin, y.begin) : Long.compare(x.end, y.end));
    long expected = 0;
    for (Entry e : sorted) {
      if (e.begin != expected) {
        throw invalid(file, "tensor '" + e.name + "' starts at byte " + e.begin + " but " + expected
            + " was expected (gap or overlap)");
      }
      expected = e.end;
    }
    if (expected != dataLen) {
      throw invalid(file, "tensors cover " + expected + " bytes but the data section has " + dataLen
          + (expected < dataLen ? " (trailing bytes)" : " (truncated?)"));
    }
    return new Header(entries, metadata, dataStart);
  }

  private static Map<String, String> parseMetadata(Path file, JsonNode v) {
    if (!v.isObject()) {
      throw invalid(file, "__metadata__ must be an object of strings");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      if (!f.getValue().isTextual()) {
        throw invalid(file, "__metadata__ value of '" + f.getKey() + "' is not a string");
      }
      out.put(f.getKey(), f.getValue().asText());
    }
    return Collections.unmodifiableMap(out);
  }

  private static Entry parseEntry(Path file, String name, JsonNode v, long dataLen) {
    if (!v.isObject() || !v.path("dtype").isTextual() || !v.path("shape").isArray()
        || !v.path("data_offsets").isArray() || v.path("data_offsets").size() != 2) {
      throw invalid(file, "entry '" + name + "' needs dtype, shape and two data_offsets");
    }
    DType dtype = dtype(file, name, v.get("dtype").asText());
    JsonNode shapeNode = v.get("shape");
    if (shapeNode.size() > MAX_DIMS) {
      throw invalid(file, "tensor '" + name + "' has " + shapeNode.size() + " dimensions (at most " + MAX_DIMS + ")");
    }
    long[] shape = new long[shapeNode.size()];
    boolean empty = false;
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = shapeNode.get(i);
      if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
        throw invalid(file, "tensor '" + name + "' has an invalid size " + d + " in shape " + shapeNode);
      }
      shape[i] = d.asLong();
      empty |= shape[i] == 0;
    }
    // Bytes are counted with overflow checks, so a lying shape cannot wrap around
    // to a small size; the offsets checks below then bound it by the file.
    long bytes = empty ? 0 : dtype.byteSize();
    for (int i = 0; i < shape.length && bytes > 0; i++) {
      try {
        bytes = Math.multiplyExact(bytes, shape[i]);
      } catch (ArithmeticException overflow) {
        throw invalid(file, "tensor '" + name + "' shape " + shapeNode + " " + dtype + " exceeds the file (more than 2^63 bytes)");
      }
    }
    JsonNode offs = v.get("data_offsets");
    for (JsonNode o : offs) {
      if (!o.isIntegralNumber() || !o.canConvertToLong()) {
        throw invalid(file, "tensor '" + name + "' has non-integer data_offsets " + offs);
      }
    }
    long begin = offs.get(0).asLong();
    long end = offs.get(1).asLong();
    if (begin < 0 || end < begin || end > dataLen) {
      throw invalid(file, "tensor '" + name + "' data_offsets [" + begin + ", " + end
          + "] fall outside the " + dataLen + "-byte data section");
    }
    if (end - begin != bytes) {
      throw invalid(file, "tensor '" + name + "' shape " + shapeNode + " " + dtype + " needs "
          + bytes + " bytes but its offsets span " + (end - begin));
    }
    return new Entry(name, dtype, shape, begin, end);
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long position, Path file) throws IOException {
    long pos = position;
    while (b.hasRemaining()) {
      int n = ch.read(b, pos);
      if (n < 0) {
        throw invalid(file, "file ends early at byte " + pos + " (truncated while reading?)");
      }
      pos += n;
    }
  }

  static String code(DType t) {
    return switch (t) {
      case FLOAT32 -> "F32";
      case FLOAT64 -> "F64";
      case INT32 -> "I32";
      case INT64 -> "I64";
      case BOOL -> "BOOL";
    };
  }

  private static DType dtype(Path file, String name, String code) {
    return switch (code) {
      case "F32" -> DType.FLOAT32;
      case "F64" -> DType.FLOAT64;
      case "I32" -> DType.INT32;
      case "I64" -> DType.INT64;
      case "BOOL" -> DType.BOOL;
      default -> throw invalid(file, "tensor '" + name + "' has dtype " + code
          + ", which Fathom does not read (F32, F64, I32, I64, BOOL)");
    };
  }

  private static IllegalArgumentException invalid(Path file, String what) {
    return new IllegalArgumentException("safetensors: " + file + ": " + what);
  }
}
