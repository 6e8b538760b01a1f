package dev.fathom.data.preprocess;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fathom.data.CsvTable;
import dev.fathom.data.NativeMemory;
import dev.fathom.data.preprocess.OneHotEncoder.HandleUnknown;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PreprocessTest {
  private static final Path HOUSE_DIR =
      Paths.get(System.getProperty("fathom.test.sharedData", "/work/shared/data"));
  private long baseline;

  @BeforeEach
  void recordBaseline() {
    baseline = NativeMemory.baseline();
  }

  @AfterEach
  void noLeaks() {
    NativeMemory.assertBackTo(baseline);
  }

  private static final double NAN = Double.NaN;

  @Test
  void standardizerByHand() {
    // Column 0: 1, 2, 3, missing -> mean 2, unbiased std 1.
    // Column 1: 5, 5, 5, 5 -> std 0: centred only, so 0.
    // Column 2: 0, 2, missing, missing -> mean 1, std sqrt(2).
    double[] train = {1, 5, 0, 2, 5, 2, 3, 5, NAN, NAN, 5, NAN};
    try (Tensor x = Tensor.fromArray(train, 4, 3)) {
      Standardizer s = Standardizer.fit(x);
      assertArrayEquals(new double[] {2, 5, 1}, s.mean(), 1e-12);
      assertArrayEquals(new double[] {1, 0, Math.sqrt(2)}, s.std(), 1e-12);
      try (Tensor z = s.transform(x)) {
        double r = 1 / Math.sqrt(2);
        assertArrayEquals(new double[] {-1, 0, -r, 0, 0, r, 1, 0, 0, 0, 0, 0}, z.toDoubleArray(), 1e-12,
            "missing values become 0 (the mean) after standardising");
        assertEquals(DType.FLOAT64, z.dtype());
      }
      // Test data uses the training statistics, not its own.
      try (Tensor test = Tensor.fromArray(new float[] {4, 7, 3, 4, 7, 3}, 2, 3); Tensor z = s.transform(test)) {
        assertEquals(DType.FLOAT32, z.dtype());
        float r2 = (float) Math.sqrt(2);
        // Column 1 had std 0: test values are only centred (7 - 5), like scikit-learn's scale of 1.
        assertArrayEquals(new float[] {2, 2, 2 / r2, 2, 2, 2 / r2}, z.toFloatArray(), 1e-6f);
      }
      try (Tensor wrong = Tensor.zeros(2, 4)) {
        assertThrows(IllegalArgumentException.class, () -> s.transform(wrong));
      }
    }
  }

  @Test
  void oneHotWithMissingAndUnseenCategories() {
    OneHotEncoder enc = OneHotEncoder.builder("c").build().fit(List.of("b", "a", "NA", "b"));
    assertEquals(List.of("a", "b"), enc.categories());
    assertEquals(List.of("c_a", "c_b", "c_nan"), enc.featureNames());
    try (Tensor t = enc.transform(List.of("a", "zz", "", "b"))) {
      assertArrayEquals(new long[] {4, 3}, t.shape());
      assertArrayEquals(new float[] {1, 0, 0, /* unseen */ 0, 0, 0, /* missing */ 0, 0, 1, 0, 1, 0},
          t.toFloatArray());
    }
    OneHotEncoder indicator = OneHotEncoder.builder("c").handleUnknown(HandleUnknown.INDICATOR).build()
        .fit(List.of("b", "a"));
    assertEquals(List.of("c_a", "c_b", "c_nan", "c_<unknown>"), indicator.featureNames());
    try (Tensor t = indicator.transform(List.of("zz", "NA"))) {
      assertArrayEquals(new float[] {0, 0, 0, 1, 0, 0, 1, 0}, t.toFloatArray());
    }
    OneHotEncoder noNa = OneHotEncoder.builder("c").dummyNa(false).handleUnknown(HandleUnknown.ERROR).build()
        .fit(List.of("a", "b"));
    assertEquals(2, noNa.width());
    try (Tensor t = noNa.transform(List.of("NA", "b"))) {
      assertArrayEquals(new float[] {0, 0, 0, 1}, t.toFloatArray(), "missing without dummyNa: all zero");
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> noNa.transform(List.of("q")));
    assertTrue(e.getMessage().contains("'q'"), e.getMessage());
    // Fitting on train and test together learns the test-only category.
    OneHotEncoder both = OneHotEncoder.builder("c").build().fit(List.of(List.of("a"), List.of("b", "NA")));
    assertEquals(List.of("a", "b"), both.categories());
    assertThrows(IllegalStateException.class, () -> OneHotEncoder.builder("c").build().width());
  }

  @Test
  void tabularPreprocessorLayoutAndTrainStatistics() {
    CsvTable train = CsvTable.parse("id,size,kind,code,price\n1,10,x,3,100\n2,20,y,4,200\n3,NA,x,3,300\n");
    CsvTable test = CsvTable.parse("id,size,kind,code\n4,40,z,5\n");
    TabularPreprocessor prep = TabularPreprocessor.builder(train.columnsExcept("id", "price"))
        .categorical("code").build().fit(train);
    assertEquals(List.of("size"), prep.numericColumns());
    assertEquals(List.of("kind", "code"), prep.categoricalColumns());
    assertEquals(List.of("size", "kind_x", "kind_y", "kind_nan", "code_3", "code_4", "code_nan"),
        prep.featureNames());
    double std = Math.sqrt(50);                              // of 10 and 20
    try (Tensor a = prep.transform(train); Tensor b = prep.transform(test)) {
      assertEquals(DType.FLOAT32, a.dtype());
      assertArrayEquals(new long[] {3, 7}, a.shape());
      assertArrayEquals(new float[] {
          (float) (-5 / std), 1, 0, 0, 1, 0, 0,
          (float) (5 / std), 0, 1, 0, 0, 1, 0,
          0, 1, 0, 0, 1, 0, 0}, a.toFloatArray(), 1e-6f);
      // size 40 with the training mean 15: (40 - 15) / std; z and 5 are unseen: all-zero groups.
      assertArrayEquals(new float[] {(float) (25 / std), 0, 0, 0, 0, 0, 0}, b.toFloatArray(), 1e-6f);
    }
  }

  @Test
  void housePricesGive331Features() {
    Path trainFile = HOUSE_DIR.resolve("kaggle_house_pred_train.csv");
    Path testFile = HOUSE_DIR.resolve("kaggle_house_pred_test.csv");
    assumeTrue(Files.isRegularFile(trainFile) && Files.isRegularFile(testFile), "house-price CSVs not found");
    CsvTable train = CsvTable.read(trainFile);
    CsvTable test = CsvTable.read(testFile);
    List<String> features = train.columnsExcept("Id", "SalePrice");
    TabularPreprocessor prep = TabularPreprocessor.builder(features).build().fit(train, test);
    // 36 numeric columns + 43 categorical ones with 252 categories and 43 "_nan" columns, as
    // pandas get_dummies(dummy_na=True) gives the d2l book (331).
    assertEquals(36, prep.numericColumns().size());
    assertEquals(43, prep.categoricalColumns().size());
    assertEquals(331, prep.numFeatures());
    assertEquals(331, prep.featureNames().size());
    assertEquals("MSSubClass", prep.featureNames().get(0));
    assertTrue(prep.featureNames().contains("MSZoning_RL") && prep.featureNames().contains("Alley_nan"));
    // The test set brings no category that train lacks, so train alone gives the same width.
    assertEquals(331, TabularPreprocessor.builder(features).build().fit(train).numFeatures());
    // Treating the MSSubClass codes (16 values) as categories: 331 - 1 + 16 + 1.
    assertEquals(347, TabularPreprocessor.builder(features).categorical("MSSubClass").build().fit(train, test)
        .numFeatures());
    try (Scope scope = Scope.open()) {                       // frees the temporaries of the checks
      Tensor a = prep.transform(train);
      Tensor b = prep.transform(test);
      assertArrayEquals(new long[] {1460, 331}, a.shape());
      assertArrayEquals(new long[] {1459, 331}, b.shape());
      assertEquals(0.0, a.ne(a).to(DType.FLOAT32).sum().item(), "no missing value survives");
      assertEquals(0.0, b.ne(b).to(DType.FLOAT32).sum().item());
      int lotArea = prep.featureNames().indexOf("LotArea");
      double mean = 10516.828082191782;                     // of the training LotArea, computed with Python
      double std = 9981.26493237915;
      float[] testRow0 = b.narrow(0, 0, 1).toFloatArray();
      assertEquals((11622 - mean) / std, testRow0[lotArea], 1e-5, "test data uses the training statistics");
      Tensor col = a.narrow(1, lotArea, 1);
      assertEquals(0.0, col.mean().item(), 1e-5);
      assertEquals(1.0, col.std().item(), 1e-5);
      // One-hot groups: each row has exactly one 1 among MSZoning's columns (nan included).
      int first = prep.featureNames().indexOf("MSZoning_C (all)");
      int width = prep.encoder("MSZoning").width();
      Tensor rowSums = a.narrow(1, first, width).sum(1, false);
      assertEquals(1460.0, rowSums.eq(1).to(DType.FLOAT32).sum().item());
    }
  }

  @Test
  void validation() {
    assertThrows(IllegalArgumentException.class, () -> TabularPreprocessor.builder(List.of()));
    assertThrows(IllegalArgumentException.class,
        () -> TabularPreprocessor.builder(List.of("a")).categorical("b").build());
    assertThrows(IllegalStateException.class, () -> TabularPreprocessor.builder(List.of("a")).build().featureNames());
    try (Tensor v = Tensor.zeros(DType.INT64, 3, 2)) {
      assertThrows(IllegalArgumentException.class, () -> Standardizer.fit(v));
    }
    assertFalse(Standardizer.of(new double[] {1}, new double[] {0}).toString().isEmpty());
  }
}
