package dev.fathom.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import org.junit.jupiter.api.Test;

class CsvTableTest {
  static final Path HOUSE_DIR = Paths.get(System.getProperty("fathom.test.sharedData", "/work/shared/data"));
  static final Path HOUSE_TRAIN = HOUSE_DIR.resolve("kaggle_house_pred_train.csv");
  static final Path HOUSE_TEST = HOUSE_DIR.resolve("kaggle_house_pred_test.csv");

  static void assumeHouseData() {
    assumeTrue(Files.isRegularFile(HOUSE_TRAIN) && Files.isRegularFile(HOUSE_TEST),
        "house-price CSVs not found in " + HOUSE_DIR + " (set -Dfathom.test.sharedData)");
  }

  @Test
  void quotedFieldsWithCommasQuotesAndNewlines() {
    String text = "\uFEFFid,name,note\r\n"
        + "1,\"Smith, Jane\",\"said \"\"hi\"\"\"\r\n"
        + "2,plain,\"two\r\nlines\"\r\n"
        + "3,,NA\r\n";
    CsvTable t = CsvTable.parse(text);
    assertEquals(List.of("id", "name", "note"), t.columns(), "the BOM is not part of the first name");
    assertEquals(3, t.numRows());
    assertEquals("Smith, Jane", t.get(0, "name"));
    assertEquals("said \"hi\"", t.get(0, "note"));
    assertEquals("two\r\nlines", t.get(1, "note"));
    assertEquals(List.of("3", "", "NA"), t.row(2));
    assertEquals(List.of("1", "2", "3"), t.column("id"));
  }

  @Test
  void lfLineEndsAndATrailingNewlineAndBlankLines() {
    CsvTable t = CsvTable.parse("a,b\n1,2\n\n3,4\n");
    assertEquals(2, t.numRows());
    assertEquals(List.of("3", "4"), t.row(1));
  }

  @Test
  void numericColumnsTreatNaAndEmptyAsMissing() {
    CsvTable t = CsvTable.parse("x,y,z,w\n1.5,a,NA,1f\n-2e3,b,,2\n,NA,,3\n.5,c,NA,4\n");
    assertTrue(t.isNumeric("x"));
    assertFalse(t.isNumeric("y"));
    assertTrue(t.isNumeric("z"), "a column with only missing values is numeric, as in pandas");
    assertFalse(t.isNumeric("w"), "'1f' is a Java literal, not a number in a CSV");
    double[] x = t.numericColumn("x");
    assertArrayEquals(new double[] {1.5, -2000, Double.NaN, 0.5}, x);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.numericColumn("y"));
    assertTrue(e.getMessage().contains("'a'") && e.getMessage().contains("row 0"), e.getMessage());
    assertTrue(CsvTable.isMissing("NA") && CsvTable.isMissing("") && !CsvTable.isMissing("na"));
  }

  @Test
  void malformedInputIsRefusedWithAClearMessage() {
    IllegalArgumentException ragged = assertThrows(IllegalArgumentException.class,
        () -> CsvTable.parse("a,b\n1,2\n3\n"));
    assertTrue(ragged.getMessage().contains("1 fields") && ragged.getMessage().contains("header has 2"),
        ragged.getMessage());
    assertThrows(IllegalArgumentException.class, () -> CsvTable.parse("a,a\n1,2\n"), "duplicate names");
    assertThrows(IllegalArgumentException.class, () -> CsvTable.parse(""), "no header");
    assertThrows(IllegalArgumentException.class, () -> CsvTable.parse("a,b\n1,\"unclosed\n"));
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
        () -> CsvTable.parse("a,b\n1,2\n").column("c"));
    assertTrue(unknown.getMessage().contains("'c'"), unknown.getMessage());
  }

  @Test
  void houseTrainingDataParsesTo1460By81() {
    assumeHouseData();
    CsvTable train = CsvTable.read(HOUSE_TRAIN);
    CsvTable test = CsvTable.read(HOUSE_TEST);
    assertEquals(1460, train.numRows());
    assertEquals(81, train.numColumns());
    assertEquals(1459, test.numRows());
    assertEquals(80, test.numColumns());
    assertEquals("Id", train.columns().get(0));
    assertEquals("SalePrice", train.columns().get(80));
    assertEquals("208500", train.get(0, "SalePrice"));
    assertTrue(train.isNumeric("SalePrice"));
    assertTrue(train.isNumeric("LotFrontage"), "numeric with NA values");
    assertFalse(train.isNumeric("MSZoning"));
    assertEquals(79, train.columnsExcept("Id", "SalePrice").size());
  }
}
