package dev.fathom.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/** Starts Spark's local-cluster mode (separate executor JVMs) from a test or example JVM. */
final class LocalCluster {
  private LocalCluster() {}

  static SparkSession start(String master, Path scratch) throws Exception {
    // The workers launch executors as `java -cp <Spark home>/jars/*:<extraClassPath>`, and
    // their Spark home is $SPARK_HOME or the working folder (surefire's is
    // target/spark-home): an empty jars folder and this JVM's class path give the executors
    // Spark, Fathom and the tests. Without SPARK_SCALA_VERSION the launcher infers the
    // Scala version from a build folder there.
    Path home = Path.of(System.getenv().getOrDefault("SPARK_HOME", "")).toAbsolutePath();
    Files.createDirectories(home.resolve("jars"));
    Files.createDirectories(home.resolve("launcher/target/scala-2.13"));
    return SparkSession.builder().master(master).appName("fathom-spark-cluster-test")
        .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
        .config("spark.executor.memory", "1g")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.local.dir", scratch.resolve("spark-local").toString())
        .getOrCreate();
  }
}
