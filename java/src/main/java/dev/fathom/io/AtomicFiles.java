package dev.fathom.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * Replaces a file so that a reader, or a crash at any point of the write (kill -9, power loss,
 * a full disk), sees the old contents or the new ones, never a mix: the bytes go to a hidden
 * temporary file in the same directory, are forced to disk, and the temporary file is renamed
 * over the target in one atomic step; the directory is then synced so the rename survives a
 * power loss. If anything fails the target is left as it was and the temporary file is removed.
 * A process killed mid-write can leave a hidden {@code .<name>.<uuid>.tmp} file behind; no
 * loader reads those.
 *
 * <pre>{@code
 * AtomicFiles.writeString(Path.of("runs/x/config.json"), json);
 * AtomicFiles.write(Path.of("runs/x/data.bin"), ch -> AtomicFiles.writeFully(ch, buffer));
 * }</pre>
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Writes the new contents into the channel (positioned at 0 of an empty file). */
  @FunctionalInterface
  public interface ChannelWriter {
    void write(FileChannel channel) throws IOException;
  }

  /** Replaces `file` with what `writer` writes, atomically (see the class comment). */
  public static void write(Path file, ChannelWriter writer) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = temporaryFile(file);
    boolean renamed = false;
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        writer.write(ch);
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      renamed = true;
      syncDirectory(dir);
    } finally {
      if (!renamed) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // The original failure matters more; a stray hidden temp file is harmless.
        }
      }
    }
  }

  /** Replaces `file` with `text` in UTF-8, atomically. */
  public static void writeString(Path file, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    write(file, ch -> writeFully(ch, ByteBuffer.wrap(bytes)));
  }

  /**
   * A new empty file next to `file`, for writing and then renaming over it. Made with
   * createFile, not createTempFile, so it gets the usual permissions (umask), not owner-only
   * ones: a checkpoint written by a service must stay readable by its other processes.
   */
  public static Path temporaryFile(Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    return Files.createFile(dir.resolve("." + file.getFileName() + "." + UUID.randomUUID() + ".tmp"));
  }

  /** Writes all of `buffer` (a channel may write less than asked in one call). */
  public static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
  }

  /** Makes the rename durable (POSIX); a no-op where directories cannot be opened. */
  private static void syncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException ignored) {
      // Windows cannot open a directory; its rename is already ordered with the data.
    }
  }
}
