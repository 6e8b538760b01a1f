package dev.fathom.onnx;

import com.google.protobuf.ByteString;
import dev.fathom.onnx.proto.Onnx.StringStringEntryProto;
import dev.fathom.onnx.proto.Onnx.TensorProto;
import dev.fathom.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/** TensorProto to Tensor (float32 and int64), with every size checked before allocation. */
final class Tensors {
  private Tensors() {}

  static Tensor decode(TensorProto t, Path dir) {
    String what = "tensor '" + t.getName() + "'";
    long[] shape = new long[t.getDimsCount()];
    long numel = 1;
    for (int i = 0; i < shape.length; i++) {
      long d = t.getDims(i);
      if (d < 0) {
        throw new IllegalArgumentException("onnx: " + what + " has a negative dimension: " + t.getDimsList());
      }
      shape[i] = d;
      numel = d == 0 ? 0 : (numel > OnnxModel.MAX_TENSOR_ELEMENTS / d ? Long.MAX_VALUE : numel * d);
    }
    if (numel > OnnxModel.MAX_TENSOR_ELEMENTS) {
      throw new IllegalArgumentException("onnx: " + what + " declares shape " + t.getDimsList()
          + ", more than " + OnnxModel.MAX_TENSOR_ELEMENTS + " elements");
    }
    int n = (int) numel;
    int type = t.getDataType();
    int elemBytes;
    if (type == TensorProto.DataType.FLOAT_VALUE) {
      elemBytes = 4;
    } else if (type == TensorProto.DataType.INT64_VALUE) {
      elemBytes = 8;
    } else {
      throw new IllegalArgumentException("onnx: " + what + " has data type " + typeName(type)
          + "; supported: FLOAT (float32) and INT64");
    }
    ByteBuffer raw = null;
    if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      raw = external(t, dir, what, (long) n * elemBytes);
    } else if (t.hasRawData()) {
      ByteString b = t.getRawData();
      if (b.size() != (long) n * elemBytes) {
        throw new IllegalArgumentException("onnx: " + what + " of shape " + Arrays.toString(shape) + " needs "
            + (long) n * elemBytes + " bytes of raw_data, has " + b.size());
      }
      raw = b.asReadOnlyByteBuffer();
    }
    if (type == TensorProto.DataType.FLOAT_VALUE) {
      float[] v;
      if (raw != null) {
        v = new float[n];
        raw.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
      } else {
        if (t.getFloatDataCount() != n) {
          throw new IllegalArgumentException("onnx: " + what + " of shape " + Arrays.toString(shape) + " has "
              + t.getFloatDataCount() + " float_data values, needs " + n);
        }
        v = new float[n];
        for (int i = 0; i < n; i++) {
          v[i] = t.getFloatData(i);
        }
      }
      return Tensor.fromArray(v, shape);
    }
    long[] v;
    if (raw != null) {
      v = new long[n];
      raw.order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(v);
    } else {
      if (t.getInt64DataCount() != n) {
        throw new IllegalArgumentException("onnx: " + what + " of shape " + Arrays.toString(shape) + " has "
            + t.getInt64DataCount() + " int64_data values, needs " + n);
      }
      v = new long[n];
      for (int i = 0; i < n; i++) {
        v[i] = t.getInt64Data(i);
      }
    }
    return Tensor.fromArray(v, shape);
  }

  private static ByteBuffer external(TensorProto t, Path dir, String what, long needed) {
    String location = null;
    long offset = 0;
    long length = -1;
    for (StringStringEntryProto e : t.getExternalDataList()) {
      try {
        switch (e.getKey()) {
          case "location" -> location = e.getValue();
          case "offset" -> offset = Long.parseLong(e.getValue());
          case "length" -> length = Long.parseLong(e.getValue());
          default -> { }
        }
      } catch (NumberFormatException ex) {
        throw new IllegalArgumentException("onnx: " + what + ": external data " + e.getKey() + " '" + e.getValue()
            + "' is not a number");
      }
    }
    if (dir == null) {
      throw new IllegalArgumentException("onnx: " + what + " has external data, but the model was not read from a file");
    }
    if (location == null || location.isEmpty() || location.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("onnx: " + what + " has external data without a location");
    }
    if (offset < 0 || (length >= 0 && length != needed)) {
      throw new IllegalArgumentException("onnx: " + what + ": external data offset " + offset + ", length " + length
          + ", but the tensor needs " + needed + " bytes");
    }
    if (needed > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("onnx: " + what + " needs " + needed + " bytes of external data, more than "
          + (Integer.MAX_VALUE - 8) + " in one tensor");
    }
    Path base;
    Path file;
    try {
      base = dir.toRealPath();
      Path candidate = base.resolve(location).normalize();
      if (!candidate.startsWith(base)) {
        throw new IllegalArgumentException("onnx: " + what + ": external data '" + location
            + "' is outside the model's folder");
      }
      file = candidate.toRealPath();
      if (!file.startsWith(base) || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
        throw new IllegalArgumentException("onnx: " + what + ": external data '" + location
            + "' is not a file inside the model's folder");
      }
    } catch (java.nio.file.InvalidPathException e) {
      throw new IllegalArgumentException("onnx: " + what + ": invalid external data path '" + location + "'", e);
    } catch (IOException e) {
      throw new UncheckedIOException("onnx: " + what + ": cannot open external data '" + location + "': "
          + e.getMessage(), e);
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (offset > size || size - offset < needed) {
        throw new IllegalArgumentException("onnx: " + what + ": external data '" + location + "' has " + size
            + " bytes; offset " + offset + " + " + needed + " bytes does not fit");
      }
      ByteBuffer buf = ByteBuffer.allocate((int) needed);
      while (buf.hasRemaining()) {
        if (ch.read(buf, offset + buf.position()) < 0) {
          throw new IllegalArgumentException("onnx: " + what + ": external data '" + location + "' ended early");
        }
      }
      buf.flip();
      return buf;
    } catch (IOException e) {
      throw new UncheckedIOException("onnx: " + what + ": cannot read external data '" + location + "': "
          + e.getMessage(), e);
    }
  }

  static String typeName(int type) {
    TensorProto.DataType d = TensorProto.DataType.forNumber(type);
    return d == null ? Integer.toString(type) : d.name();
  }
}
