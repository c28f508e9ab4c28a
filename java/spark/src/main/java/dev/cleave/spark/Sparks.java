package dev.cleave.spark;

import dev.cleave.util.InvalidInputException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** Starting Spark for Cleave: embedded local mode by default, any master URL otherwise. */
public final class Sparks {
    /** How often Spark tries a task before it fails the job (a failed cell is retried). */
    public static final int TASK_ATTEMPTS = 4;

    /** Executor JVM flags: native access for JavaCPP, and the JDK packages Spark 4 reflects into on Java 17. */
    static final String EXECUTOR_FLAGS = "--enable-native-access=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED "
            + "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED "
            + "--add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED "
            + "--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED "
            + "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED "
            + "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED "
            + "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED "
            + "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false "
            + "-Dio.netty.tryReflectionSetAccessible=true";

    /** The driver's JavaCPP cache folder, passed on to executors (where the native libraries are unpacked). */
    private static String cacheDir() {
        String dir = System.getProperty("org.bytedeco.javacpp.cachedir");
        return dir == null || dir.contains(" ") ? "" : " -Dorg.bytedeco.javacpp.cachedir=" + dir;
    }

    private static final Pattern LOCAL = Pattern.compile("local\\[(\\*|\\d+)]");

    private Sparks() {}

    /**
     * The master to use: {@code requested}, or the one spark-submit set, or local[all cores]. A
     * plain local[N] becomes local[N,4], since local mode retries a failed task only when the
     * master names the attempts.
     */
    public static String master(String requested) {
        String m = requested != null ? requested : System.getProperty("spark.master");
        if (m == null || m.isBlank()) {
            m = "local[" + Runtime.getRuntime().availableProcessors() + "]";
        }
        Matcher local = LOCAL.matcher(m.trim());
        return local.matches() ? "local[" + local.group(1) + "," + TASK_ATTEMPTS + "]" : m.trim();
    }

    /** Cores a local master gives Spark, or -1 for a cluster master (Spark's own accounting applies there). */
    public static int localCores(String master) {
        Matcher m = Pattern.compile("local\\[(\\*|\\d+)(,\\d+)?]").matcher(master);
        if (!m.matches()) {
            return master.equals("local") ? 1 : -1;
        }
        return m.group(1).equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(m.group(1));
    }

    /**
     * A session on {@code master} where each task holds {@code taskCpus} cores (spark.task.cpus),
     * so tasks at once x threads per task never exceed the cores Spark was given.
     */
    public static SparkSession session(String master, String app, int taskCpus) {
        int cores = localCores(master);
        if (cores > 0 && taskCpus > cores) {
            throw new InvalidInputException("each task needs " + taskCpus + " threads but " + master + " gives Spark only "
                    + cores + " cores: lower threads_per_cell or give more cores (local[N])");
        }
        SparkConf conf = new SparkConf().setAppName(app).setMaster(master)
                .set("spark.task.cpus", String.valueOf(taskCpus))
                .set("spark.task.maxFailures", String.valueOf(TASK_ATTEMPTS))
                .set("spark.ui.enabled", "false")
                .set("spark.ui.showConsoleProgress", "false")
                .set("spark.sql.shuffle.partitions", "4")
                .set("spark.executor.extraJavaOptions", EXECUTOR_FLAGS + cacheDir());
        String jars = System.getProperty("cleave.jars");
        if (cores < 0 && jars != null && !conf.contains("spark.jars")) {
            conf.set("spark.jars", jars); // the launcher's jars, served by the driver to the executors
        }
        SparkSession s = SparkSession.builder().config(conf).getOrCreate();
        s.sparkContext().setLogLevel("WARN");
        return s;
    }
}
