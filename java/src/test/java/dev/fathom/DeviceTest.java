package dev.fathom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fathom.nn.Linear;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Devices on every machine; what runs on a GPU is in GpuTensorTest (tag gpu). */
class DeviceTest {
  @Test
  void namesParseAndPrintAsInPyTorch() {
    assertEquals(Device.cpu(), Device.parse("cpu"));
    assertEquals(Device.cuda(0), Device.parse("cuda"));
    assertEquals(Device.cuda(3), Device.parse(" CUDA:3 "));
    assertEquals("cuda:3", Device.cuda(3).toString());
    assertEquals("cpu", Device.cpu().toString());
    assertNotEquals(Device.cuda(0), Device.cuda(1));
    assertEquals(Device.cuda(2), Device.ofCode(Device.cuda(2).code()));
    assertEquals(0x201, Device.cuda(2).code());
    for (String bad : new String[] {"tpu", "cuda:", "cuda:-1", "cuda:x", ""}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Device.parse(bad));
      assertTrue(e.getMessage().contains("device:") || e.getMessage().contains("cuda:"),
          e.getMessage());
    }
  }

  @Test
  void gpuCountAgreesWithTheNativeRuntime() {
    assertEquals(Fathom.runtimeInfo().get("cuda.devices"),
        Integer.toString(Device.cudaDeviceCount()));
    assertTrue(Device.cpu().isAvailable());
    assertEquals(Device.cudaDeviceCount() > 0, Device.cuda(0).isAvailable());
  }

  @Test
  void tensorsStartOnTheHostAndToTheSameDeviceIsTheTensorItself() {
    try (Tensor t = Tensor.ones(2, 3)) {
      assertEquals(Device.cpu(), t.device());
      assertSame(t, t.to(Device.cpu()));
    }
  }

  @Test
  void withoutAGpuMovingThereFailsNamingTheDeviceAndWhy() {
    assumeTrue(Device.cudaDeviceCount() == 0, "this machine has a GPU");
    long live = Device.cpu().memory()[0];
    try (Tensor t = Tensor.ones(2, 3)) {
      FathomException e = assertThrows(FathomException.class, () -> t.to(Device.cuda(0)));
      assertEquals(FathomException.Status.UNSUPPORTED, e.status());
      assertTrue(e.getMessage().contains("tensor float32 [2, 3] on cuda:0")
          && e.getMessage().contains("cuda:0 is not available"), e.getMessage());
      FathomException empty = assertThrows(FathomException.class,
          () -> Tensor.empty(Device.cuda(1), dev.fathom.tensor.DType.FLOAT32, 4));
      assertTrue(empty.getMessage().contains("cuda:1"), empty.getMessage());
    }
    assertEquals(live, Device.cpu().memory()[0], "a refused move allocates nothing");
  }

  @Test
  void modulesMoveOnlyToDevicesThatExist() {
    try (Linear fc = new Linear(4, 3, true, new Generator(0))) {
      Tensor weight = fc.weight();
      assertSame(fc, fc.to(Device.cpu()));
      assertSame(weight, fc.weight(), "moving to where it is keeps the parameters");
      if (Device.cudaDeviceCount() == 0) {
        assertThrows(FathomException.class, () -> fc.to(Device.cuda(0)));
        assertSame(weight, fc.weight(), "a refused move leaves the module as it was");
        assertEquals(Device.cpu(), fc.bias().device());
      }
    }
  }
}
