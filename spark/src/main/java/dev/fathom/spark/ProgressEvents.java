package dev.fathom.spark;

import dev.fathom.train.EpochMetrics;
import dev.fathom.train.TrainListener;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training progress from the replicas to the driver, so that the driver's listeners (a
 * progress bar, metrics.csv) see the job as one run: each replica sends one line per batch
 * and per epoch over TCP; the driver emits a batch when every replica has reported it
 * (loss averaged, examples summed) and an epoch when every replica has ended it (train
 * metrics averaged, test metrics from replica 0, which alone evaluates). A retried stage
 * announces the epochs its checkpoint holds; what a failed attempt reported beyond them
 * is dropped, so the listeners and the per-step losses describe the run that completed.
 */
final class ProgressEvents {
  private static final Logger LOG = LoggerFactory.getLogger(ProgressEvents.class);

  private ProgressEvents() {}

  /** The driver's end: accepts replicas' connections and turns their lines into listener calls. */
  static final class Server implements AutoCloseable {
    private final ServerSocket socket;
    private final int replicas;
    private final List<TrainListener> listeners;
    private final Thread acceptor;
    private final List<Thread> readers = new ArrayList<>();
    private int attempt = -1;
    private int startedFit;
    private long batchesPerEpoch = -1;
    private int epochs;
    private int currentEpoch;
    private final Map<String, double[]> pendingBatches = new HashMap<>();
    private final Map<Integer, List<String[]>> pendingEpochs = new HashMap<>();
    private final TreeMap<Long, Double> stepLosses = new TreeMap<>();
    private final List<EpochMetrics> history = new ArrayList<>();

    Server(String host, int replicas, List<TrainListener> listeners) {
      try {
        this.socket = new ServerSocket();
        socket.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
      } catch (IOException e) {
        throw new UncheckedIOException("SparkTrainer: cannot open the progress port on " + host, e);
      }
      this.replicas = replicas;
      this.listeners = listeners;
      this.acceptor = new Thread(this::acceptLoop, "fathom-spark-progress");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    String address() {
      return socket.getInetAddress().getHostAddress() + ":" + socket.getLocalPort();
    }

    private void acceptLoop() {
      while (!socket.isClosed()) {
        try {
          Socket s = socket.accept();
          Thread t = new Thread(() -> read(s), "fathom-spark-progress-reader");
          t.setDaemon(true);
          synchronized (readers) {
            readers.add(t);
          }
          t.start();
        } catch (SocketException closed) {
          return;
        } catch (IOException e) {
          LOG.warn("progress: accept failed: {}", e.toString());
        }
      }
    }

    private void read(Socket s) {
      try (s; BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          handle(line.split(" "));
        }
      } catch (IOException e) {
        // A replica that dies closes its connection; the stage retry reconnects.
        LOG.debug("progress: connection ended: {}", e.toString());
      } catch (RuntimeException e) {
        LOG.warn("progress: a listener failed", e);
      }
    }

    private synchronized void handle(String[] f) {
      int a = Integer.parseInt(f[1]);
      if (a < attempt) {
        return;
      }
      if (a > attempt) {
        newAttempt(a);
      }
      switch (f[0]) {
        case "F" -> start(Long.parseLong(f[3]), Integer.parseInt(f[4]), Integer.parseInt(f[5]));
        case "B" -> batch(Integer.parseInt(f[3]), Long.parseLong(f[4]), Double.parseDouble(f[5]), Long.parseLong(f[6]));
        case "E" -> epoch(f);
        default -> LOG.warn("progress: unknown event {}", f[0]);
      }
    }

    private void newAttempt(int a) {
      if (attempt >= 0) {
        LOG.warn("training stage attempt {} failed; attempt {} resumes from the last checkpoint", attempt, a);
      }
      attempt = a;
      startedFit = 0;
      pendingBatches.clear();
      pendingEpochs.clear();
    }

    /** F: a replica starts fit with its batches per epoch, the epochs to train and the epochs its checkpoint holds. */
    private void start(long batches, int totalEpochs, int completed) {
      if (++startedFit < replicas) {
        return;
      }
      while (history.size() > completed) {
        history.remove(history.size() - 1);
      }
      stepLosses.tailMap(completed * Math.max(batches, 1) + 1, true).clear();
      boolean first = batchesPerEpoch < 0;
      batchesPerEpoch = batches;
      epochs = totalEpochs;
      currentEpoch = completed;
      if (first) {
        listeners.forEach(l -> l.onFitStart(epochs, batchesPerEpoch));
        if (!history.isEmpty() || completed > 0) {
          List<EpochMetrics> earlier = List.copyOf(history);
          listeners.forEach(l -> l.onFitResumed(earlier));
        }
      }
    }

    private void batch(int epoch, long batch, double loss, long examples) {
      String key = epoch + ":" + batch;
      double[] acc = pendingBatches.computeIfAbsent(key, k -> new double[3]);
      acc[0] += loss;
      acc[1] += examples;
      if (++acc[2] < replicas) {
        return;
      }
      pendingBatches.remove(key);
      if (epoch != currentEpoch) {
        currentEpoch = epoch;
        listeners.forEach(l -> l.onEpochStart(epoch));
      }
      double mean = acc[0] / replicas;
      stepLosses.put((epoch - 1) * batchesPerEpoch + batch, mean);
      long seen = (long) acc[1];
      listeners.forEach(l -> l.onBatchEnd(epoch, batch, batchesPerEpoch, mean, seen));
    }

    /** E: attempt rank epoch trainLoss trainAcc testLoss testAcc seconds examples. */
    private void epoch(String[] f) {
      int epoch = Integer.parseInt(f[3]);
      List<String[]> got = pendingEpochs.computeIfAbsent(epoch, k -> new ArrayList<>());
      got.add(f);
      if (got.size() < replicas) {
        return;
      }
      pendingEpochs.remove(epoch);
      double trainLoss = 0;
      double trainAcc = 0;
      double testLoss = Double.NaN;
      double testAcc = Double.NaN;
      double seconds = 0;
      long examples = 0;
      for (String[] e : got) {
        trainLoss += Double.parseDouble(e[4]) / replicas;
        trainAcc += Double.parseDouble(e[5]) / replicas;
        if (Integer.parseInt(e[2]) == 0) {
          testLoss = Double.parseDouble(e[6]);
          testAcc = Double.parseDouble(e[7]);
        }
        seconds = Math.max(seconds, Double.parseDouble(e[8]));
        examples += Long.parseLong(e[9]);
      }
      EpochMetrics m = new EpochMetrics(epoch, trainLoss, trainAcc, testLoss, testAcc, seconds, examples);
      while (history.size() >= epoch) {
        history.remove(history.size() - 1);
      }
      history.add(m);
      listeners.forEach(l -> l.onEpochEnd(m));
    }

    synchronized List<EpochMetrics> history() {
      return List.copyOf(history);
    }

    synchronized double[] stepLosses() {
      return stepLosses.values().stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** Waits until the replicas' connections have ended (they close before their task returns). */
    void drain(long timeoutMs) {
      long deadline = System.currentTimeMillis() + timeoutMs;
      List<Thread> ts;
      synchronized (readers) {
        ts = List.copyOf(readers);
      }
      for (Thread t : ts) {
        try {
          t.join(Math.max(1, deadline - System.currentTimeMillis()));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }

    @Override
    public void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // Nothing is lost: every event was handled or belongs to a failed attempt.
      }
    }
  }

  /** A replica's end: a listener that sends its batches and epochs to the driver. */
  static final class Client implements TrainListener, AutoCloseable {
    private final Socket socket;
    private final Writer out;
    private final int attempt;
    private final int rank;
    private final int completedEpochs;
    private long batchesPerEpoch;

    Client(String address, int attempt, int rank, int completedEpochs) {
      int colon = address.lastIndexOf(':');
      try {
        this.socket = new Socket(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
        socket.setTcpNoDelay(true);
        this.out = new BufferedWriter(new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new UncheckedIOException("SparkTrainer: replica " + rank + " cannot reach the driver at " + address, e);
      }
      this.attempt = attempt;
      this.rank = rank;
      this.completedEpochs = completedEpochs;
    }

    private void send(String line) {
      try {
        out.write(line);
        out.write('\n');
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException("SparkTrainer: replica " + rank + " lost the driver's progress connection", e);
      }
    }

    @Override
    public void onFitStart(int epochs, long batches) {
      batchesPerEpoch = batches;
      send("F " + attempt + " " + rank + " " + batches + " " + epochs + " " + completedEpochs);
    }

    @Override
    public void onBatchEnd(int epoch, long batch, long total, double loss, long examples) {
      send("B " + attempt + " " + rank + " " + epoch + " " + batch + " " + Double.toString(loss) + " " + examples);
    }

    @Override
    public void onEpochEnd(EpochMetrics m) {
      send(String.format(Locale.ROOT, "E %d %d %d %s %s %s %s %s %d", attempt, rank, m.epoch(),
          Double.toString(m.trainLoss()), Double.toString(m.trainAcc()), Double.toString(m.testLoss()),
          Double.toString(m.testAcc()), Double.toString(m.seconds()), m.trainExamples()));
    }

    @Override
    public void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // The driver reads until the connection ends either way.
      }
    }
  }
}
