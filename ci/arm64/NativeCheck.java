import dev.fathom.Fathom;
import dev.fathom.RuntimeInfo;
import dev.fathom.tensor.Tensor;
import java.util.Arrays;
import java.util.Map;
import org.bytedeco.javacpp.Loader;

/**
 * Run by ci/test-arm64-jvm.sh before the JUnit selection: prints the JVM's
 * architecture, JavaCPP's platform and the path of every native library the
 * loader has loaded ("lib <name> <path>" lines, which the script checks with
 * readelf), and fails unless the JVM is an aarch64 one and a small matmul on
 * the native core gives the hand-computed result.
 */
public final class NativeCheck {
  public static void main(String[] args) {
    String arch = System.getProperty("os.arch");
    System.out.println("os.arch " + arch);
    System.out.println("javacpp.platform " + Loader.getPlatform());
    RuntimeInfo info = Fathom.runtimeInfo();
    System.out.println("runtime " + info);
    float[] c;
    try (Tensor a = Tensor.fromArray(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor b = Tensor.fromArray(new float[] {5, 6, 7, 8}, 2, 2);
        Tensor p = a.matmul(b)) {
      c = p.toFloatArray();
    }
    System.out.println("matmul " + Arrays.toString(c));
    for (Map.Entry<String, String> e : Loader.getLoadedLibraries().entrySet()) {
      System.out.println("lib " + e.getKey() + " " + e.getValue());
    }
    if (!"aarch64".equals(arch) || !"linux-arm64".equals(Loader.getPlatform())) {
      throw new AssertionError("not an arm64 JVM: os.arch " + arch + ", platform " + Loader.getPlatform());
    }
    if (!Arrays.equals(c, new float[] {19, 22, 43, 50})) {
      throw new AssertionError("matmul gave " + Arrays.toString(c));
    }
  }
}
