package dev.fathom.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.tensor.TensorAccess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (the one Hugging Face and PyTorch users exchange
 * weights in): an 8-byte little-endian header length, a JSON header mapping
 * each name to dtype, shape and byte offsets, then the raw little-endian data.
 * Files are untrusted: every size, offset and dtype is checked before anything
 * is allocated, and a file that fails any check is refused whole.
 *
 * <pre>{@code
 * SafeTensors.save(model.stateDict(), Path.of("model.safetensors"));
 * Map<String, Tensor> weights = SafeTensors.load(Path.of("model.safetensors"));
 * }</pre>
 */
public final class SafeTensors {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Larger headers are refused: real ones are a few KB per hundred tensors. */
  static final long MAX_HEADER_BYTES = 100L << 20;

  private SafeTensors() {}

  /** Writes atomically (temp file + rename), so a crash never leaves a half-written checkpoint. */
  public static void save(Map<String, Tensor> tensors, Path file) {
    ObjectNode header = JSON.createObjectNode();
    header.putObject("__metadata__").put("format", "pt").put("producer", "fathom");
    long offset = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      Tensor t = e.getValue();
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
    int padded = (json.length + 7) / 8 * 8;
    try {
      Path dir = file.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
          head.put((byte) ' ');
        }
        head.flip();
        writeFully(ch, head);
        for (Tensor t : tensors.values()) {
          try (Scope s = Scope.open()) {
            Tensor c = t.detach().contiguous();
            long bytes = c.numel() * c.dtype().byteSize();
            if (bytes > 0) {
              writeFully(ch, dev.fathom.internal.nativ.TensorKernels.view(TensorAccess.address(c), bytes));
            }
          }
        }
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("safetensors: cannot write " + file, e);
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /** Reads every tensor (unowned: the caller closes them, e.g. via {@link Checkpoints#load}). */
  public static Map<String, Tensor> load(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 8) {
        throw invalid(file, "file has " + size + " bytes, fewer than the 8-byte header length");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0, file);
      long headerLen = lenBuf.getLong(0);
      if (headerLen < 2 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
        throw invalid(file, "header length " + headerLen + " is impossible for a file of " + size + " bytes");
      }
      ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
      readFully(ch, hb, 8, file);
      JsonNode header;
      try {
        header = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw invalid(file, "header is not valid JSON: " + e.getMessage());
      }
      if (header == null || !header.isObject()) {
        throw invalid(file, "header is not a JSON object");
      }
      long dataStart = 8 + headerLen;
      long dataLen = size - dataStart;
      List<Entry> entries = new ArrayList<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> f = it.next();
        if (f.getKey().equals("__metadata__")) {
          continue;
        }
        entries.add(parseEntry(file, f.getKey(), f.getValue(), dataLen));
      }
      // The spec requires the tensors to tile the data section exactly: no gaps, no overlaps.
      List<Entry> sorted = new ArrayList<>(entries);
      sorted.sort((x, y) -> Long.compare(x.begin, y.begin));
      long expected = 0;
      for (Entry e : sorted) {
        if (e.begin != expected) {
          throw invalid(file, "tensor '" + e.name + "' starts at byte " + e.begin + " but " + expected
              + " was expected (gap or overlap)");
        }
        expected = e.end;
      }
      if (expected != dataLen) {
        throw invalid(file, "tensors cover " + expected + " bytes but the data section has " + dataLen);
      }
      Map<String, Tensor> out = new LinkedHashMap<>();
      try {
        for (Entry e : entries) {
          Tensor t = Tensor.empty(e.dtype, e.shape).unscope();
          out.put(e.name, t);
          if (e.end > e.begin) {
            ByteBuffer dst = dev.fathom.internal.nativ.TensorKernels.view(TensorAccess.address(t), e.end - e.begin);
            readFully(ch, dst, dataStart + e.begin, file);
            if (e.dtype == DType.BOOL) {
              try (Scope s = Scope.open()) {
                if (t.gt(1.0).sum().item() > 0) {
                  throw invalid(file, "tensor '" + e.name + "' holds bool values other than 0 and 1");
                }
              }
            }
          }
        }
      } catch (RuntimeException ex) {
        out.values().forEach(Tensor::close);
        throw ex;
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("safetensors: cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

  private static Entry parseEntry(Path file, String name, JsonNode v, long dataLen) {
    if (!v.isObject() || !v.path("dtype").isTextual() || !v.path("shape").isArray()
        || !v.path("data_offsets").isArray() || v.path("data_offsets").size() != 2) {
      throw invalid(file, "entry '" + name + "' needs dtype, shape and two data_offsets");
    }
    DType dtype = dtype(file, name, v.get("dtype").asText());
    JsonNode shapeNode = v.get("shape");
    if (shapeNode.size() > 8) {
      throw invalid(file, "tensor '" + name + "' has " + shapeNode.size() + " dimensions (at most 8)");
    }
    long[] shape = new long[shapeNode.size()];
    long numel = 1;
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = shapeNode.get(i);
      if (!d.canConvertToLong() || d.asLong() < 0) {
        throw invalid(file, "tensor '" + name + "' has an invalid size " + d);
      }
      shape[i] = d.asLong();
      if (shape[i] > 0 && numel > dataLen / shape[i] + 1) {
        throw invalid(file, "tensor '" + name + "' shape " + shapeNode + " exceeds the file");
      }
      numel *= shape[i];
    }
    JsonNode offs = v.get("data_offsets");
    if (!offs.get(0).canConvertToLong() || !offs.get(1).canConvertToLong()) {
      throw invalid(file, "tensor '" + name + "' has non-integer data_offsets");
    }
    long begin = offs.get(0).asLong();
    long end = offs.get(1).asLong();
    if (begin < 0 || end < begin || end > dataLen) {
      throw invalid(file, "tensor '" + name + "' data_offsets [" + begin + ", " + end
          + "] fall outside the " + dataLen + "-byte data section");
    }
    if (end - begin != numel * dtype.byteSize()) {
      throw invalid(file, "tensor '" + name + "' shape " + shapeNode + " " + dtype + " needs "
          + numel * dtype.byteSize() + " bytes but its offsets span " + (end - begin));
    }
    return new Entry(name, dtype, shape, begin, end);
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long position, Path file) throws IOException {
    long pos = position;
    while (b.hasRemaining()) {
      int n = ch.read(b, pos);
      if (n < 0) {
        throw invalid(file, "file ends early (truncated?)");
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
      default -> throw invalid(file, "tensor '" + name + "' has dtype " + code + ", which Fathom does not read");
    };
  }

  private static IllegalArgumentException invalid(Path file, String what) {
    return new IllegalArgumentException("safetensors: " + file + ": " + what);
  }
}
