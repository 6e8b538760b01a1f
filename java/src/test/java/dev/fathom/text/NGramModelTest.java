package dev.fathom.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Counts and perplexities on a corpus small enough to do by hand: "a b a b a c" (a=0, b=1, c=2,
 * V=3). Unigrams a3 b2 c1; bigrams ab2 ba2 ac1; trigrams aba2 bab1 bac1.
 */
class NGramModelTest {
  private static final int A = 0;
  private static final int B = 1;
  private static final int C = 2;
  private static final int[] CORPUS = {A, B, A, B, A, C};

  @Test
  void countsEveryOrder() {
    NGramModel m = NGramModel.count(CORPUS, 3, 3);
    assertEquals(3, m.count(A));
    assertEquals(2, m.count(B));
    assertEquals(1, m.count(C));
    assertEquals(2, m.count(A, B));
    assertEquals(2, m.count(B, A));
    assertEquals(1, m.count(A, C));
    assertEquals(0, m.count(B, B));
    assertEquals(2, m.count(A, B, A));
    assertEquals(1, m.count(B, A, B));
    assertEquals(1, m.count(B, A, C));
    assertEquals(0, m.count(A, B, C));
    assertEquals(6, m.tokens());
  }

  @Test
  void addOneProbabilitiesByHand() {
    NGramModel m = NGramModel.count(CORPUS, 3, 3);
    // P(a) = (3+1)/(6+3); P(b|a) = (2+1)/(3+3): history a occurs 3 times as a bigram start;
    // P(a|a,b) = (2+1)/(2+3); an unseen history (c,c) is uniform.
    assertEquals(4.0 / 9, m.probability(new int[] {A}, 0, 1, 1), 1e-15);
    assertEquals(3.0 / 6, m.probability(new int[] {A, B}, 1, 2, 1), 1e-15);
    assertEquals(1.0 / 6, m.probability(new int[] {A, A}, 1, 2, 1), 1e-15);
    assertEquals(3.0 / 5, m.probability(new int[] {A, B, A}, 2, 3, 1), 1e-15);
    assertEquals(1.0 / 3, m.probability(new int[] {C, C, A}, 2, 3, 1), 1e-15);
    // add-0.5: P(b|a) = (2+0.5)/(3+1.5)
    assertEquals(2.5 / 4.5, m.probability(new int[] {A, B}, 1, 2, 0.5), 1e-15);
  }

  @Test
  void probabilitiesSumToOneForEveryHistory() {
    NGramModel m = NGramModel.count(CORPUS, 3, 3);
    for (int h1 = 0; h1 < 3; h1++) {
      for (int h2 = 0; h2 < 3; h2++) {
        for (int n = 1; n <= 3; n++) {
          double sum = 0;
          for (int w = 0; w < 3; w++) {
            sum += m.probability(new int[] {h1, h2, w}, 2, n, 0.3);
          }
          assertEquals(1, sum, 1e-12, "history " + h1 + "," + h2 + " n=" + n);
        }
      }
    }
  }

  @Test
  void heldOutPerplexityByHand() {
    NGramModel m = NGramModel.count(CORPUS, 3, 3);
    int[] heldOut = {B, A, B, A, C};   // scored: positions 2..4 (b | b a), (a | a b), (c | b a)
    assertEquals(Math.pow(2.0 / 5 * 3.0 / 5 * 2.0 / 5, -1.0 / 3), m.perplexity(heldOut, 3, 1), 1e-12);
    assertEquals(Math.pow(1.0 / 2 * 3.0 / 5 * 1.0 / 3, -1.0 / 3), m.perplexity(heldOut, 2, 1), 1e-12);
    assertEquals(Math.pow(3.0 / 9 * 4.0 / 9 * 2.0 / 9, -1.0 / 3), m.perplexity(heldOut, 1, 1), 1e-12);
    double[] l = {0.2, 0.3, 0.5};
    double expected = Math.pow(
        (l[0] * 3 / 9 + l[1] * 1 / 2 + l[2] * 2 / 5)
            * (l[0] * 4 / 9 + l[1] * 3 / 5 + l[2] * 3 / 5)
            * (l[0] * 2 / 9 + l[1] * 1 / 3 + l[2] * 2 / 5), -1.0 / 3);
    assertEquals(expected, m.interpolatedPerplexity(heldOut, l, 1), 1e-12);
    // More context fits this repetitive text better.
    assertTrue(m.perplexity(CORPUS, 3, 0.1) < m.perplexity(CORPUS, 2, 0.1));
    assertTrue(m.perplexity(CORPUS, 2, 0.1) < m.perplexity(CORPUS, 1, 0.1));
  }

  @Test
  void badArgumentsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> NGramModel.count(CORPUS, 4, 3));
    assertThrows(IllegalArgumentException.class, () -> NGramModel.count(new int[] {0, 3}, 2, 3));
    NGramModel m = NGramModel.count(CORPUS, 2, 3);
    assertThrows(IllegalArgumentException.class, () -> m.perplexity(CORPUS, 2, 0));
    assertThrows(IllegalArgumentException.class, () -> m.perplexity(CORPUS, 3, 1));
    assertThrows(IllegalArgumentException.class, () -> m.interpolatedPerplexity(CORPUS, new double[] {0.5, 0.6}, 1));
    assertThrows(IllegalArgumentException.class, () -> m.perplexity(new int[] {0}, 1, 1));
  }
}
