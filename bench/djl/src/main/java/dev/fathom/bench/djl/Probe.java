package dev.fathom.bench.djl;

import java.io.BufferedReader;
import java.io.FileReader;
import java.io.IOException;
import java.lang.management.ManagementFactory;

/**
 * common.py's Probe: wall time of a measured region and the CPU that other
 * processes used meanwhile. foreign_cores = (machine busy CPU-seconds from
 * /proc/stat - this process's CPU-seconds) / wall-seconds; 0 means the machine
 * was otherwise idle, 2 means other work took both cores the whole time.
 */
final class Probe {
  private static final double CLK_TCK = 100.0; // USER_HZ, as sysconf(SC_CLK_TCK) reports on Linux
  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private long t0;
  private double m0;
  private double s0;
  /** Seconds between {@link #start} and {@link #stop}. */
  double wall;
  double selfCores;
  double foreignCores;

  /** Starts the clock first and reads the CPU counters after, as the Python probe does. */
  Probe start() {
    t0 = System.nanoTime();
    m0 = machineBusy();
    s0 = selfCpu();
    return this;
  }

  Probe stop() {
    wall = (System.nanoTime() - t0) / 1e9;
    selfCores = (selfCpu() - s0) / wall;
    foreignCores = Math.max(0.0, (machineBusy() - m0) / wall - selfCores);
    return this;
  }

  private static double machineBusy() {
    try (BufferedReader r = new BufferedReader(new FileReader("/proc/stat"))) {
      String[] f = r.readLine().trim().split("\\s+");
      // cpu user nice system idle iowait irq softirq steal guest guest_nice
      long busy = 0;
      for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
        busy += Long.parseLong(f[i]);
      }
      return busy / CLK_TCK;
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  /** CPU seconds of every thread of this process, the native intra-op threads included. */
  private static double selfCpu() {
    return OS.getProcessCpuTime() / 1e9;
  }
}
