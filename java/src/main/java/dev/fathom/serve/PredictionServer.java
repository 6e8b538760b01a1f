package dev.fathom.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fathom.FathomException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small prediction service on the JDK's built-in HTTP server (no framework),
 * serving one {@link Predictor}:
 * <ul>
 *   <li>{@code GET /health}: {@code {"status":"ok","model":"lenet","input":[1,28,28],"max_concurrency":2}}
 *   <li>{@code POST /predict} with {@code Content-Type: application/json} and a body
 *       {@code {"image": [784 numbers], "top": 3}} (row-major pixels, 0 = background,
 *       1 = full intensity, as Fashion-MNIST's {@code pixel / 255}; "top" is optional,
 *       default 3), or with {@code Content-Type: image/png} and a PNG of the right
 *       size (gray levels / 255). Answer: {@code {"label":9,"class":"ankle boot",
 *       "probability":0.98,"top":[{"label":9,"class":"ankle boot","probability":0.98},...]}}.
 * </ul>
 * Errors are JSON {@code {"error": "..."}} with 400 (bad input), 404, 405, 413
 * (body over {@value #MAX_BODY_BYTES} bytes), 503 (shutting down, or out of native memory
 * under {@code Fathom.setMemoryLimit}, with {@code Retry-After}) or 500.
 *
 * <p>Request bodies are untrusted: a declared Content-Length over the limit gets 413
 * before any of the body is read, a chunked body is read only up to the limit, PNG
 * bodies are checked by {@link Images} before they are decoded, and a client that
 * takes over {@value #MAX_REQUEST_SECONDS} s to send its request is disconnected.
 * No body makes the server answer 5xx (PredictionServerFuzzTest).
 *
 * <pre>{@code
 * try (Predictor p = Predictor.builder(Path.of("runs/lenet/model.safetensors")).build();
 *      PredictionServer server = PredictionServer.start(p, new InetSocketAddress("127.0.0.1", 8080), 4)) {
 *   server.awaitTermination();
 * }
 * }</pre>
 */
public final class PredictionServer implements AutoCloseable {
  /** Largest accepted request body: a 28x28 image as JSON is about 10 KB. */
  public static final int MAX_BODY_BYTES = 1 << 20;
  private static final Logger LOG = LoggerFactory.getLogger(PredictionServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /**
   * Longest a client may take to send one request, headers and body: {@value} s. A
   * slower one is disconnected, so that clients which stall mid-request (or declare
   * a body they never send) cannot hold the worker threads.
   */
  public static final int MAX_REQUEST_SECONDS = 10;
  private static final String NODELAY = "sun.net.httpserver.nodelay";
  private static final String MAX_REQ_TIME = "sun.net.httpserver.maxReqTime";

  private final Predictor predictor;
  private final HttpServer server;
  private final ExecutorService workers;
  private final Object stopped = new Object();
  private boolean closed;

  private PredictionServer(Predictor predictor, HttpServer server, ExecutorService workers) {
    this.predictor = predictor;
    this.server = server;
    this.workers = workers;
  }

  /**
   * Starts serving on `address` (port 0 picks a free one) with `threads` worker
   * threads. The predictor stays the caller's: close it after the server.
   */
  public static PredictionServer start(Predictor predictor, InetSocketAddress address, int threads)
      throws IOException {
    if (threads < 1) {
      throw new IllegalArgumentException("PredictionServer: threads=" + threads + " must be >= 1");
    }
    // NOTE: without TCP_NODELAY the response body waits for the client's delayed
    // ACK of the headers: ~40 ms per request on Linux. The JDK server reads this
    // property once, when its first server starts.
    if (System.getProperty(NODELAY) == null) {
      System.setProperty(NODELAY, "true");
    }
    // NOTE: the JDK server's worker threads read the request themselves and, unless
    // this is set, wait for a stalled client forever (and, after a 413 or 404 that
    // left the body unread, for up to 64 KB of it). Read once, like the one above;
    // a value set beforehand is kept.
    if (System.getProperty(MAX_REQ_TIME) == null) {
      System.setProperty(MAX_REQ_TIME, Integer.toString(MAX_REQUEST_SECONDS));
    }
    HttpServer http = HttpServer.create(address, 128);
    AtomicInteger n = new AtomicInteger();
    ExecutorService workers = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "fathom-http-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    PredictionServer s = new PredictionServer(predictor, http, workers);
    http.createContext("/", s::handle);
    http.setExecutor(workers);
    http.start();
    LOG.info("serving {} on http://{}:{}/predict with {} threads", predictor.name(),
        http.getAddress().getHostString(), http.getAddress().getPort(), threads);
    return s;
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      try {
        if (path.equals("/health")) {
          if (!method.equals("GET")) {
            send(ex, 405, error("use GET /health"));
            return;
          }
          ObjectNode h = JSON.createObjectNode().put("status", "ok").put("model", predictor.name());
          ArrayNode in = h.putArray("input");
          Arrays.stream(predictor.exampleShape()).forEach(in::add);
          h.put("max_concurrency", predictor.maxConcurrency());
          send(ex, 200, h);
        } else if (path.equals("/predict")) {
          if (!method.equals("POST")) {
            send(ex, 405, error("use POST /predict"));
            return;
          }
          // A declared length over the limit is refused before any of the body is read
          // (the JDK server drains a little of it and closes the connection); a chunked
          // body is read up to one byte past the limit.
          long declared = contentLength(ex);
          byte[] body = declared > MAX_BODY_BYTES ? null : readBody(ex.getRequestBody());
          if (body == null) {
            ex.getResponseHeaders().set("Connection", "close");
            send(ex, 413, error("request body of " + (declared > MAX_BODY_BYTES ? declared + " bytes" : "more bytes")
                + " is over the limit of " + MAX_BODY_BYTES + " bytes"));
            return;
          }
          send(ex, 200, predict(ex.getRequestHeaders().getFirst("Content-Type"), body));
        } else {
          send(ex, 404, error("no such path " + path + " (GET /health, POST /predict)"));
        }
      } catch (IllegalArgumentException e) {
        send(ex, 400, error(e.getMessage()));
      } catch (IllegalStateException e) {
        send(ex, 503, error(e.getMessage()));
      } catch (FathomException e) {
        if (e.status() != FathomException.Status.OUT_OF_MEMORY) {
          LOG.error("{} {} failed", method, path, e);
          send(ex, 500, error("internal error: " + e));
          return;
        }
        // Over Fathom.setMemoryLimit (or out of memory): the request was fine and may succeed
        // once other requests free their tensors, so 503 and a retry hint, not 500.
        LOG.warn("{} {}: {}", method, path, e.getMessage());
        ex.getResponseHeaders().set("Retry-After", "1");
        send(ex, 503, error("out of native memory: " + e.getMessage()));
      } catch (RuntimeException e) {
        LOG.error("{} {} failed", method, path, e);
        send(ex, 500, error("internal error: " + e));
      }
    }
  }

  private ObjectNode predict(String contentType, byte[] body) {
    String type = mediaType(contentType);
    float[] pixels;
    int top = 3;
    if (type.equals("image/png")) {
      pixels = decodePng(body);
    } else if (type.equals("application/json")) {
      JsonNode req;
      try {
        req = JSON.readTree(body);
      } catch (IOException e) {
        throw new IllegalArgumentException("body is not valid JSON: " + e.getMessage());
      }
      JsonNode image = req == null ? null : req.get("image");
      if (image == null || !image.isArray()) {
        throw new IllegalArgumentException("expected {\"image\": [" + predictor.exampleSize() + " numbers]}");
      }
      if (image.size() != predictor.exampleSize()) {
        throw new IllegalArgumentException("\"image\" has " + image.size() + " values, expected "
            + predictor.exampleSize() + " for " + Arrays.toString(predictor.exampleShape()));
      }
      pixels = new float[image.size()];
      for (int i = 0; i < pixels.length; i++) {
        if (!image.get(i).isNumber()) {
          throw new IllegalArgumentException("\"image\" value " + i + " is not a number: " + image.get(i));
        }
        pixels[i] = image.get(i).floatValue();
      }
      if (req.has("top")) {
        if (!req.get("top").canConvertToInt() || req.get("top").asInt() < 1) {
          throw new IllegalArgumentException("\"top\" must be a positive integer, got " + req.get("top"));
        }
        top = req.get("top").asInt();
      }
    } else {
      throw new IllegalArgumentException("Content-Type " + type + " is not application/json or image/png");
    }
    Predictor.Classification c = predictor.classify(pixels, top);
    ObjectNode out = JSON.createObjectNode().put("label", c.label()).put("class", c.name())
        .put("probability", c.probability());
    ArrayNode list = out.putArray("top");
    for (Predictor.Score s : c.top()) {
      list.addObject().put("label", s.label()).put("class", s.name()).put("probability", s.probability());
    }
    return out;
  }

  /** Gray levels / 255 of a PNG whose size matches the predictor's single-channel example. */
  private float[] decodePng(byte[] body) {
    long[] shape = predictor.exampleShape();
    if (shape.length != 3 || shape[0] != 1) {
      throw new IllegalArgumentException("PNG input needs a single-channel image model, this one takes "
          + Arrays.toString(shape));
    }
    return Images.grayPixels(body, (int) shape[1], (int) shape[2]);
  }

  /** The media type of a Content-Type header, lower case without parameters; JSON when absent. */
  static String mediaType(String contentType) {
    if (contentType == null) {
      return "application/json";
    }
    int semicolon = contentType.indexOf(';');
    return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
  }

  /** The request's Content-Length, or -1 when it has none (chunked). */
  private static long contentLength(HttpExchange ex) {
    String length = ex.getRequestHeaders().getFirst("Content-Length");
    if (length == null) {
      return -1;
    }
    try {
      return Long.parseLong(length.trim());
    } catch (NumberFormatException e) {
      // The JDK server refuses such a request before it gets here.
      throw new IllegalArgumentException("Content-Length " + length + " is not a number");
    }
  }

  /** The body, or null when it is longer than MAX_BODY_BYTES. */
  private static byte[] readBody(InputStream in) throws IOException {
    byte[] b = in.readNBytes(MAX_BODY_BYTES + 1);
    return b.length > MAX_BODY_BYTES ? null : b;
  }

  private static ObjectNode error(String message) {
    return JSON.createObjectNode().put("error", message);
  }

  private static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
    byte[] bytes = JSON.writeValueAsString(body).getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** Blocks until {@link #close()} is called (from another thread or a shutdown hook). */
  public void awaitTermination() throws InterruptedException {
    synchronized (stopped) {
      while (!closed) {
        stopped.wait();
      }
    }
  }

  /** Stops accepting requests, lets those in progress finish (up to 2 s) and stops the workers. */
  @Override
  public void close() {
    synchronized (stopped) {
      if (closed) {
        return;
      }
      closed = true;
      stopped.notifyAll();
    }
    server.stop(1);
    workers.shutdown();
    try {
      workers.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    workers.shutdownNow();
  }
}
