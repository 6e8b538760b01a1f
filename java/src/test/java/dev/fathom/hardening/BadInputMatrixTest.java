package dev.fathom.hardening;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.fathom.FathomException;
import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.nn.BatchNorm2d;
import dev.fathom.nn.Conv2d;
import dev.fathom.nn.Embedding;
import dev.fathom.nn.LSTM;
import dev.fathom.nn.Linear;
import dev.fathom.nn.MaxPool2d;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Functional;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Bad input over the public API, one row per case: the call must throw an
 * IllegalArgumentException, IllegalStateException or FathomException (never
 * another exception, a crash or a result), and the message must name the op
 * and the offending shape or value.
 */
class BadInputMatrixTest {
  private record Case(String name, Supplier<Object> call, List<String> mentions) {}

  private static Case bad(String name, Supplier<Object> call, String... mentions) {
    return new Case(name, call, List.of(mentions));
  }

  private static Tensor t(long... shape) {
    return Tensor.zeros(shape);
  }

  private static Tensor closed() {
    Tensor x = Tensor.ones(2, 2);
    x.close();
    return x;
  }

  private static Stream<Case> cases() {
    return Stream.of(
        bad("matmul inner sizes", () -> t(2, 3).matmul(t(4, 5)), "matmul", "[2, 3]", "[4, 5]"),
        bad("add broadcast", () -> t(2, 3).add(t(4, 3)), "add", "[2, 3]", "[4, 3]"),
        bad("reshape numel", () -> t(2, 3).reshape(4, 2), "reshape", "[2, 3]"),
        bad("reshape negative", () -> t(2, 3).reshape(-2, 3), "reshape", "-2"),
        bad("permute dims", () -> t(2, 3).permute(0, 0), "permute"),
        bad("narrow range", () -> t(2, 3).narrow(1, 2, 5), "narrow", "[2, 3]"),
        bad("sum dim", () -> t(2, 3).sum(5, false), "sum", "5"),
        bad("cat shapes", () -> Tensor.cat(List.of(t(2, 3), t(2, 4)), 0), "cat", "[2, 3]", "[2, 4]"),
        bad("indexSelect float index", () -> t(4, 3).indexSelect(0, t(2)), "indexSelect", "float32"),
        bad("indexSelect out of range", () -> t(4, 3).indexSelect(0, Tensor.fromArray(new long[] {0, 9}, 2)),
            "index", "9"),
        bad("gather rank", () -> t(4, 3).gather(1, Tensor.zeros(DType.INT64, 4)), "gather"),
        bad("closed tensor", () -> closed().add(t(2, 2)), "add", "closed"),
        bad("negative size", () -> Tensor.zeros(2, -1), "-1"),
        bad("conv2d channels", () -> Functional.conv2d(t(2, 3, 8, 8), t(4, 2, 3, 3), null, 1, 0),
            "conv2d", "[4,2,3,3]", "[2,3,8,8]"),
        bad("conv2d rank", () -> Functional.conv2d(t(3, 8, 8), t(4, 3, 3, 3), null, 1, 0), "conv2d", "[3, 8, 8]"),
        bad("conv2d kernel larger than input", () -> Functional.conv2d(t(1, 1, 2, 2), t(1, 1, 3, 3), null, 1, 0),
            "conv2d"),
        bad("maxPool2d padding", () -> Functional.maxPool2d(t(1, 1, 8, 8), 2, 2, 2), "pool2d", "padding"),
        bad("batchNorm channels", () -> Functional.batchNorm(t(2, 3, 4, 4), t(4), t(4), t(4), t(4), true, 0.1, 1e-5),
            "batchNorm", "[4]"),
        bad("Conv2d layer input", () -> {
          try (Conv2d c = new Conv2d(3, 4, 3)) {
            return c.forward(t(1, 2, 8, 8));
          }
        }, "Conv2d", "[1, 2, 8, 8]"),
        bad("Linear layer input", () -> {
          try (Linear l = new Linear(5, 2)) {
            return l.forward(t(3, 4));
          }
        }, "[3, 4]"),
        bad("MaxPool2d config", () -> new MaxPool2d(2, 2, 2), "MaxPool2d"),
        bad("BatchNorm2d input", () -> {
          try (BatchNorm2d bn = new BatchNorm2d(3)) {
            return bn.forward(t(2, 5, 4, 4));
          }
        }, "[2, 5, 4, 4]"),
        bad("Embedding index range", () -> {
          try (Embedding e = new Embedding(10, 4)) {
            return e.forward(Tensor.fromArray(new long[] {3, 12}, 2));
          }
        }, "12"),
        bad("LSTM input size", () -> {
          try (LSTM l = new LSTM(4, 8)) {
            return l.forward(t(5, 2, 3));
          }
        }, "[5, 2, 3]"),
        bad("cross entropy targets", () -> new CrossEntropyLoss().apply(t(4, 3), Tensor.zeros(DType.INT64, 5)),
            "[4, 3]", "[5]"),
        bad("softmax dim", () -> t(2, 3).softmax(2), "softmax", "2"),
        bad("item of many", () -> t(2, 3).item(), "item", "[2, 3]"),
        // Wrong dtypes.
        bad("matmul int64", () -> Tensor.zeros(DType.INT64, 2, 3).matmul(Tensor.zeros(DType.INT64, 3, 2)), "matmul",
            "int64"),
        bad("conv2d int64", () -> Functional.conv2d(Tensor.zeros(DType.INT64, 1, 1, 4, 4),
            Tensor.zeros(DType.INT64, 1, 1, 3, 3), null, 1, 0), "conv2d", "int64"),
        bad("cross entropy float targets", () -> new CrossEntropyLoss().apply(t(4, 3), t(4)), "CrossEntropyLoss",
            "[4,3]", "[4]", "int64"),
        // Huge and overflowing sizes: refused before any allocation.
        bad("numel overflow", () -> Tensor.zeros(1L << 40, 1L << 40), "[1099511627776, 1099511627776]"),
        bad("reshape overflow", () -> t(4).reshape(1L << 62, 4), "reshape"),
        bad("arange step 0", () -> Tensor.arange(0, 10, 0), "arange", "0"),
        bad("conv2d stride 0", () -> Functional.conv2d(t(1, 1, 4, 4), t(1, 1, 3, 3), null, 0, 0), "conv2d", "stride"),
        bad("oneHot classes", () -> Tensor.oneHot(Tensor.fromArray(new long[] {0, 3}, 2), 3), "oneHot", "3"),
        bad("cross entropy class out of range", () -> new CrossEntropyLoss().apply(t(2, 3),
            Tensor.fromArray(new long[] {0, 7}, 2)), "7"),
        // NaN and Inf where they are configuration, not data.
        bad("dropout p NaN", () -> new dev.fathom.nn.Dropout(Double.NaN), "Dropout", "NaN"),
        bad("dropout p 1.5", () -> new dev.fathom.nn.Dropout(1.5), "Dropout", "1.5"),
        bad("SGD lr NaN", () -> new dev.fathom.optim.SGD(List.of(t(2).requiresGrad(true)), Double.NaN), "SGD", "NaN"),
        bad("Adam lr negative", () -> new dev.fathom.optim.Adam(List.of(t(2).requiresGrad(true)), -1), "Adam", "-1"),
        bad("clip max norm Inf", () -> dev.fathom.optim.ClipGrad.clipGradNorm(List.of(t(2).requiresGrad(true)),
            Double.POSITIVE_INFINITY), "Infinity"),
        // A tensor whose scope another thread closed is closed here too, not freed memory.
        bad("tensor of another thread's closed scope", BadInputMatrixTest::fromAnotherThreadsScope, "add", "closed"));
  }

  private static Object fromAnotherThreadsScope() {
    Tensor[] made = new Tensor[1];
    Thread other = new Thread(() -> {
      try (Scope s = Scope.open()) {
        made[0] = Tensor.ones(2, 2);
      }
    });
    other.start();
    try {
      other.join();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    return made[0].add(t(2, 2));
  }

  @TestFactory
  Stream<DynamicTest> everyBadInputIsAClearException() {
    return cases().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
      try (Scope s = Scope.open()) {
        Object result;
        try {
          result = c.call().get();
        } catch (IllegalArgumentException | IllegalStateException | FathomException e) {
          String msg = e.getMessage();
          assertNotNull(msg, c.name() + ": no message");
          String flat = msg.replace(", ", ",");
          for (String m : c.mentions()) {
            assertTrue(msg.contains(m) || flat.contains(m.replace(", ", ",")),
                c.name() + ": message should mention '" + m + "': " + msg);
          }
          return;
        }
        fail(c.name() + ": no exception, got " + result);
      }
    }));
  }
}
