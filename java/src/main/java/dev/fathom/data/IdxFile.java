package dev.fathom.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files of unsigned bytes (the MNIST family's format: a big-endian
 * header {@code 0x00 0x00 0x08 rank}, one int per dimension, then the data),
 * plain or gzipped. Not a general IDX reader: other element types are refused.
 * Files are treated as untrusted: the header's sizes are checked against the
 * bytes actually present before anything of that size is allocated.
 */
final class IdxFile {
  /** Largest Java array; a larger header is refused rather than attempted. */
  static final long MAX_BYTES = Integer.MAX_VALUE - 8;
  private static final int UBYTE = 0x08;

  /** dims as declared (each checked >= 0 as unsigned) and the data bytes, row-major. */
  record Contents(long[] dims, byte[] data) {}

  private IdxFile() {}

  /** The file's dimensions and bytes; {@code rank} is the number of dimensions it must declare. */
  static Contents readUnsignedBytes(Path file, int rank) throws IOException {
    boolean gz = file.getFileName().toString().endsWith(".gz");
    long fileSize = Files.size(file);
    int headerBytes = 4 + 4 * rank;
    try (InputStream buffered = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        InputStream in = gz ? new GZIPInputStream(buffered, 1 << 16) : buffered) {
      byte[] header = in.readNBytes(headerBytes);
      if (header.length < headerBytes) {
        throw corrupt(file, "truncated header: " + header.length + " bytes, an IDX file of rank " + rank
            + " needs " + headerBytes);
      }
      ByteBuffer h = ByteBuffer.wrap(header);              // big-endian by default, as IDX is
      int magic = h.getInt();
      int expected = (UBYTE << 8) | rank;
      if (magic != expected) {
        throw corrupt(file, String.format("bad magic number 0x%08X, expected 0x%08X (unsigned bytes, %d dimension%s)",
            magic, expected, rank, rank == 1 ? "" : "s"));
      }
      long[] dims = new long[rank];
      long count = 1;
      for (int i = 0; i < rank; i++) {
        // NOTE: sizes are unsigned 32-bit in the format; read as long so 2^31 is not negative.
        dims[i] = Integer.toUnsignedLong(h.getInt());
        count = dims[i] == 0 ? 0 : (count > Long.MAX_VALUE / dims[i] ? Long.MAX_VALUE : count * dims[i]);
      }
      if (!gz && count != fileSize - headerBytes) {
        long have = fileSize - headerBytes;
        throw corrupt(file, (count > have ? "truncated" : "trailing data") + ": header declares "
            + shape(dims) + " = " + count + " bytes of data, the file holds " + have + " after the header");
      }
      if (count > MAX_BYTES) {
        throw corrupt(file, "header declares " + shape(dims) + " = " + count
            + " bytes of data, more than one array can hold (" + MAX_BYTES + ")");
      }
      // NOTE: readNBytes grows its buffer as data arrives, so a gzip stream that
      // lies about its size costs only the bytes it really has.
      byte[] data = in.readNBytes((int) count);
      if (data.length < count) {
        throw corrupt(file, "truncated: header declares " + shape(dims) + " = " + count
            + " bytes of data, the file holds " + data.length);
      }
      if (in.read() != -1) {
        throw corrupt(file, "trailing data after the " + count + " bytes that the header declares "
            + shape(dims));
      }
      return new Contents(dims, data);
    } catch (ZipException | EOFException e) {
      // GZIPInputStream: bad gzip header, bad CRC, or a stream cut short.
      throw corrupt(file, "corrupt or truncated gzip data (" + e.getMessage() + ")");
    }
  }

  static IOException corrupt(Path file, String what) {
    return new IOException(file + ": " + what);
  }

  static String shape(long[] dims) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < dims.length; i++) {
      sb.append(i == 0 ? "" : ", ").append(dims[i]);
    }
    return sb.append(']').toString();
  }
}
