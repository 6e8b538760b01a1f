package dev.fathom.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fathom.data.FashionMnist;
import dev.fathom.tensor.Generator;
import dev.fathom.zoo.Models;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing of PredictionServer's request handling (Jazzer; see
 * data.LoaderFuzzTest). One server per class, on an ephemeral loopback port, serving
 * softmax regression on 1x28x28; the input is split into a Content-Type and a path,
 * each picked from a small set by its last two bytes, and the POST body (the rest).
 *
 * <p>Contract: 200 with the documented JSON answer (probabilities in [0, 1]), or a
 * 4xx with a JSON {"error": "..."}; never a 5xx, never no answer within 10 s, and
 * the server still answers a valid request afterwards (checked every 50 inputs and
 * at the end).
 */
class PredictionServerFuzzTest {
  /** Content types, chosen by the input's last byte (index modulo the count). */
  static final String[] TYPES = {"application/json", "image/png", "application/json; charset=utf-8",
      "IMAGE/PNG ; x=1", "text/plain", "", ";", null};
  /** Paths, chosen by the input's next-to-last byte. */
  static final String[] PATHS = {"/predict", "/predict?top=1", "/health", "/predict/", "/"};
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private static Predictor predictor;
  private static PredictionServer server;
  private static HttpClient http;
  private static URI base;
  private static byte[] validBody;
  private static int inputs;

  @BeforeAll
  static void start() throws IOException {
    predictor = Predictor.builder(Models.softmaxRegression(10, new Generator(3)), 1, 28, 28)
        .labels(FashionMnist.CLASS_NAMES).maxConcurrency(2).build();
    server = PredictionServer.start(predictor, new InetSocketAddress("127.0.0.1", 0), 2);
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();
    base = URI.create("http://127.0.0.1:" + server.port());
    StringBuilder json = new StringBuilder("{\"image\": [");
    for (int i = 0; i < 784; i++) {
      json.append(i == 0 ? "" : ",").append(i % 29 / 28.0);
    }
    validBody = json.append("], \"top\": 2}").toString().getBytes(StandardCharsets.UTF_8);
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      checkAlive();
    } finally {
      server.close();
      predictor.close();
    }
  }

  @FuzzTest(maxDuration = "10s")
  void requestBody(FuzzedDataProvider in) throws Exception {
    String type = TYPES[in.consumeInt(0, TYPES.length - 1)];
    String path = PATHS[in.consumeInt(0, PATHS.length - 1)];
    byte[] body = in.consumeRemainingAsBytes();
    HttpResponse<String> r = post(path, type, body);
    String what = "POST " + path + " (" + type + ", " + body.length + " bytes) -> " + r.statusCode() + " "
        + r.body();
    JsonNode answer;
    try {
      answer = JSON.readTree(r.body());
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + what, e);
    }
    boolean predict = path.equals("/predict") || path.startsWith("/predict?");
    if (predict && r.statusCode() == 200) {
      checkAnswer(answer, what);
    } else {
      checkError(r.statusCode(), answer, what);
    }
    if (++inputs % 50 == 0) {
      checkAlive();
    }
  }

  private static HttpResponse<String> post(String path, String type, byte[] body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(TIMEOUT)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (type != null) {
      b.header("Content-Type", type);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void checkAnswer(JsonNode a, String what) {
    if (!a.path("label").isInt() || !a.path("class").isTextual() || !a.path("top").isArray()
        || a.path("top").isEmpty()) {
      throw new AssertionError("malformed answer: " + what);
    }
    checkProbability(a, what);
    for (JsonNode s : a.get("top")) {
      if (!s.path("label").isInt() || !s.path("class").isTextual()) {
        throw new AssertionError("malformed top entry: " + what);
      }
      checkProbability(s, what);
    }
  }

  private static void checkProbability(JsonNode a, String what) {
    double p = a.path("probability").isNumber() ? a.get("probability").asDouble() : Double.NaN;
    if (!(p >= 0 && p <= 1)) {
      throw new AssertionError("probability is not in [0, 1]: " + what);
    }
  }

  private static void checkError(int status, JsonNode a, String what) {
    if (status < 400 || status > 499) {
      throw new AssertionError("status is not 4xx: " + what);
    }
    if (!a.path("error").isTextual() || a.get("error").asText().isBlank()) {
      throw new AssertionError("4xx without an error message: " + what);
    }
  }

  /** A valid request still gets its answer. */
  private static void checkAlive() throws Exception {
    HttpResponse<String> r = post("/predict", "application/json", validBody);
    assertEquals(200, r.statusCode(), r.body());
    checkAnswer(JSON.readTree(r.body()), "the valid request");
  }
}
