package dev.fathom.serve;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A closed-loop HTTP load generator (java.net.http): `clients` threads each send
 * `requests` POSTs one after another and time them; reports throughput and
 * latency percentiles. Used by {@code ./fathom loadtest} and the server test.
 *
 * <pre>{@code
 * LoadTest.Result r = LoadTest.run(URI.create("http://127.0.0.1:8080/predict"), body, "application/json", 8, 500, null);
 * System.out.println(r);   // requests/s, p50, p99
 * }</pre>
 */
public final class LoadTest {
  private LoadTest() {}

  /** Totals and latencies (milliseconds) of one run; `errors` counts non-200 answers and failed requests. */
  public record Result(int clients, long requests, long errors, double seconds, double requestsPerSecond,
      double p50Ms, double p90Ms, double p99Ms, double maxMs) {
    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%d clients, %d requests (%d errors) in %.2f s: %.0f requests/s, "
          + "latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms", clients, requests, errors, seconds,
          requestsPerSecond, p50Ms, p90Ms, p99Ms, maxMs);
    }
  }

  /**
   * Runs the load; `check` (may be null) sees every 200 answer's body and counts
   * it as an error when it returns false.
   */
  public static Result run(URI url, byte[] body, String contentType, int clients, int requests,
      Predicate<String> check) throws InterruptedException {
    if (clients < 1 || requests < 1) {
      throw new IllegalArgumentException("loadtest: clients=" + clients + " and requests=" + requests
          + " must be >= 1");
    }
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).build();
    HttpRequest request = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(30))
        .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    long[][] latencies = new long[clients][requests];
    AtomicLong errors = new AtomicLong();
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    long t0;
    long t1;
    try {
      for (int c = 0; c < clients; c++) {
        long[] mine = latencies[c];
        done.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < requests; i++) {
            long s = System.nanoTime();
            try {
              HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
              if (r.statusCode() != 200 || (check != null && !check.test(r.body()))) {
                errors.incrementAndGet();
              }
            } catch (java.io.IOException e) {
              errors.incrementAndGet();
            }
            mine[i] = System.nanoTime() - s;
          }
          return null;
        }));
      }
      t0 = System.nanoTime();
      start.countDown();
      for (Future<?> f : done) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          throw new IllegalStateException("loadtest: a client failed: " + e.getCause(), e.getCause());
        }
      }
      t1 = System.nanoTime();
    } finally {
      pool.shutdownNow();
    }
    long[] all = Arrays.stream(latencies).flatMapToLong(Arrays::stream).sorted().toArray();
    double seconds = (t1 - t0) / 1e9;
    return new Result(clients, all.length, errors.get(), seconds, all.length / seconds, percentile(all, 0.50),
        percentile(all, 0.90), percentile(all, 0.99), all[all.length - 1] / 1e6);
  }

  /** Nearest-rank percentile of sorted nanoseconds, in milliseconds. */
  static double percentile(long[] sorted, double q) {
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.max(0, rank - 1)] / 1e6;
  }
}
