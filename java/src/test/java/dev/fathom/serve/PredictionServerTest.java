package dev.fathom.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fathom.Fathom;
import dev.fathom.io.Checkpoints;
import dev.fathom.nn.Module;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.zoo.ModelSpec;
import dev.fathom.zoo.Models;
import java.time.Duration;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The example service on loopback: endpoints, errors, and a small concurrent load test. */
class PredictionServerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> send(URI uri, String method, String type, byte[] body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri);
    b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
        : b.header("Content-Type", type).method(method, HttpRequest.BodyPublishers.ofByteArray(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  @Timeout(120)
  void servesPredictionsAndSurvivesConcurrentClients(@TempDir Path dir) throws Exception {
    System.setProperty("java.awt.headless", "true");
    long baseline = Tensor.liveNativeBytes();
    Path weights = dir.resolve("lenet.safetensors");
    try (Module m = Models.create("lenet", 10, new Generator(8))) {
      Checkpoints.save(m, ModelSpec.of("lenet").toMetadata(), weights);
    }
    float[] pixels;
    try (Scope s = Scope.open()) {
      pixels = Tensor.rand(new Generator(9), 784).toFloatArray();
    }
    // The PNG path quantises to 8 bits: send the same quantised pixels as JSON.
    BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
    for (int i = 0; i < 784; i++) {
      int v = Math.round(pixels[i] * 255);
      pixels[i] = v / 255f;
      img.getRaster().setSample(i % 28, i / 28, 0, v);
    }
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(img, "png", png);
    StringBuilder json = new StringBuilder("{\"top\": 2, \"image\": [");
    for (int i = 0; i < pixels.length; i++) {
      json.append(i == 0 ? "" : ",").append(pixels[i]);
    }
    byte[] body = json.append("]}").toString().getBytes(StandardCharsets.UTF_8);

    try (Predictor p = Predictor.builder(weights).maxConcurrency(4).build();
        PredictionServer server = PredictionServer.start(p, new InetSocketAddress("127.0.0.1", 0), 4)) {
      Predictor.Classification expected = p.classify(pixels, 2);
      URI base = URI.create("http://127.0.0.1:" + server.port());
      HttpResponse<String> r = send(base.resolve("/health"), "GET", null, null);
      assertEquals(200, r.statusCode());
      assertEquals("lenet", JSON.readTree(r.body()).get("model").asText());

      r = send(base.resolve("/predict"), "POST", "application/json", body);
      assertEquals(200, r.statusCode(), r.body());
      JsonNode answer = JSON.readTree(r.body());
      assertEquals(expected.label(), answer.get("label").asInt(), r.body() + " vs " + expected);
      assertEquals(expected.probability(), answer.get("probability").asDouble(), 1e-7);
      assertEquals(2, answer.get("top").size());
      r = send(base.resolve("/predict"), "POST", "image/png", png.toByteArray());
      assertEquals(200, r.statusCode(), r.body());
      assertEquals(expected.label(), JSON.readTree(r.body()).get("label").asInt());
      assertEquals(expected.probability(), JSON.readTree(r.body()).get("probability").asDouble(), 1e-7);

      for (Object[] bad : List.of(
          new Object[] {"POST", "/predict", "application/json", "{\"image\": [1, 2]}", 400, "expected 784"},
          new Object[] {"POST", "/predict", "application/json", "{nope", 400, "not valid JSON"},
          new Object[] {"POST", "/predict", "application/json", "{\"image\": [\"x\"]}", 400, "784"},
          new Object[] {"POST", "/predict", "image/png", "not a png", 400, "PNG"},
          new Object[] {"POST", "/predict", "text/plain", "hi", 400, "Content-Type text/plain"},
          new Object[] {"GET", "/predict", null, null, 405, "POST /predict"},
          new Object[] {"GET", "/nowhere", null, null, 404, "no such path"})) {
        r = send(base.resolve((String) bad[1]), (String) bad[0], (String) bad[2],
            bad[3] == null ? null : ((String) bad[3]).getBytes(StandardCharsets.UTF_8));
        assertEquals(bad[4], r.statusCode(), r.body());
        assertTrue(JSON.readTree(r.body()).get("error").asText().contains((String) bad[5]), r.body());
      }
      r = send(base.resolve("/predict"), "POST", "application/json", new byte[PredictionServer.MAX_BODY_BYTES + 10]);
      assertEquals(413, r.statusCode());

      String label = "\"label\":" + expected.label() + ",";
      LoadTest.Result load = LoadTest.run(base.resolve("/predict"), body, "application/json", 4, 100,
          b -> b.startsWith("{" + label));
      LoggerFactory.getLogger(PredictionServerTest.class).info("loopback load test (LeNet, JSON 28x28): {}", load);
      assertEquals(400, load.requests());
      assertEquals(0, load.errors(), load.toString());
      assertTrue(load.p50Ms() <= load.p99Ms() && load.p99Ms() <= load.maxMs());
    }
    assertEquals(baseline, Tensor.liveNativeBytes());
  }

  /**
   * A body over MAX_BODY_BYTES gets 413: at once and unread when its Content-Length
   * says so, after MAX_BODY_BYTES + 1 bytes when it is chunked. The server closes
   * that connection and goes on serving others; a client that stalls is dropped.
   */
  @Test
  @Timeout(60)
  void refusesOversizedBodiesWithoutReadingThem() throws Exception {
    try (Predictor p = Predictor.builder(Models.softmaxRegression(10, new Generator(1)), 1, 28, 28).build();
        PredictionServer server = PredictionServer.start(p, new InetSocketAddress("127.0.0.1", 0), 1)) {
      // Headers alone: a server that waited for the declared gigabyte would not answer.
      try (Socket s = new Socket("127.0.0.1", server.port())) {
        s.setSoTimeout(10_000);
        OutputStream out = s.getOutputStream();
        out.write(("POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + "Content-Length: 1000000000\r\n\r\n{\"image\": [").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        byte[] head = new byte[12];
        int n = in.readNBytes(head, 0, head.length);
        assertEquals("HTTP/1.1 413", new String(head, 0, n, StandardCharsets.US_ASCII));
        // This client never sends the body: the server drops it after MAX_REQUEST_SECONDS,
        // freeing its one worker (which would otherwise wait for the body forever).
        s.setSoTimeout((PredictionServer.MAX_REQUEST_SECONDS + 20) * 1000);
        long start = System.nanoTime();
        in.readAllBytes();
        double waited = (System.nanoTime() - start) / 1e9;
        assertTrue(waited < PredictionServer.MAX_REQUEST_SECONDS + 5, waited + " s");
      }
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      URI predict = URI.create("http://127.0.0.1:" + server.port() + "/predict");
      // Chunked (no length): read up to one byte past the limit.
      byte[] big = new byte[PredictionServer.MAX_BODY_BYTES + 4096];
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(predict).timeout(Duration.ofSeconds(20))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(413, r.statusCode(), r.body());
      assertTrue(JSON.readTree(r.body()).get("error").asText().contains("over the limit of 1048576 bytes"),
          r.body());
      // The one worker is free again.
      r = client.send(HttpRequest.newBuilder(predict).timeout(Duration.ofSeconds(20))
          .POST(HttpRequest.BodyPublishers.ofString("{\"image\": [1]}")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(400, r.statusCode(), r.body());
    }
  }

  @Test
  @Timeout(60)
  void outOfNativeMemoryIsA503AndTheServerRecovers() throws Exception {
    long saved = Fathom.memoryLimit();
    try (Predictor p = Predictor.builder(Models.create("lenet", 10, new Generator(1)), 1, 28, 28).build();
        PredictionServer server = PredictionServer.start(p, new InetSocketAddress("127.0.0.1", 0), 1)) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      StringBuilder image = new StringBuilder("{\"image\": [0");
      image.append(", 0.5".repeat(28 * 28 - 1)).append("]}");
      HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/predict"))
          .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(image.toString())).build();
      assertEquals(200, client.send(request, HttpResponse.BodyHandlers.ofString()).statusCode());
      // No room for one more activation: every request is refused, the server stays up.
      Fathom.setMemoryLimit(Tensor.liveNativeBytes() + 4096);
      HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
      assertEquals(503, r.statusCode(), r.body());
      assertEquals("1", r.headers().firstValue("Retry-After").orElse(null));
      assertTrue(JSON.readTree(r.body()).get("error").asText().contains("would exceed the memory limit"), r.body());
      Fathom.setMemoryLimit(0);
      assertEquals(200, client.send(request, HttpResponse.BodyHandlers.ofString()).statusCode());
    } finally {
      Fathom.setMemoryLimit(saved);
    }
  }
}
