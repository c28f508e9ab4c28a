package dev.cleave.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "Using the clustering engine from Java" example, kept honest: the test reads the
 * Java block from README.md, compiles it (imports as written, the statements as the body of a
 * method) against the library, runs it, and checks the labels against the value the README's
 * comment states. A README change that no longer compiles, runs or gives those labels fails here.
 */
class ReadmeExampleTest {
    private static final String SECTION = "## Using the clustering engine from Java";

    @Test
    void readmeExampleCompilesRunsAndGivesTheLabelsItStates(@TempDir Path dir) throws Exception {
        String block = javaBlock(Files.readString(Path.of("..", "README.md")));
        List<String> imports = new ArrayList<>();
        StringBuilder body = new StringBuilder();
        for (String line : block.split("\n")) {
            if (line.startsWith("import ")) {
                imports.add(line);
            } else {
                body.append("        ").append(line).append('\n');
            }
        }
        String source = String.join("\n", imports) + "\n\npublic final class ReadmeSnippet {\n"
                + "    public static ClusterResult run() throws Exception {\n" + body + "        return r;\n    }\n}\n";
        Path file = dir.resolve("ReadmeSnippet.java");
        Files.writeString(file, source);

        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        StringWriter diagnostics = new StringWriter();
        String classPath = Path.of(ClusterResult.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .toString();
        boolean ok = javac.getTask(diagnostics, null, null, List.of("-classpath", classPath, "-d", dir.toString(),
                "-proc:none", "-Xlint:none"), null,
                javac.getStandardFileManager(null, null, null).getJavaFileObjects(file.toFile())).call();
        assertTrue(ok, "README.md's Java example no longer compiles:\n" + diagnostics + "\n" + source);

        ClusterResult r;
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
            r = (ClusterResult) loader.loadClass("ReadmeSnippet").getMethod("run").invoke(null);
        }
        Matcher stated = Pattern.compile("r\\.labels\\(\\);\\s*//\\s*(\\[[0-9, -]+\\])").matcher(block);
        assertTrue(stated.find(), "README.md's example no longer states the labels (r.labels(); // [...])");
        assertEquals(stated.group(1), Arrays.toString(r.labels()), "the labels README.md states");
        // what the README's other comments say: the n-cut of the partition, the 2 smallest eigenvalues
        assertEquals(2, r.eigenvalues().length);
        assertEquals(0.0, r.eigenvalues()[0], 1e-8);
        assertEquals(2 * 0.01 / 6.01, r.ncut(), 1e-6); // cut 0.01 each way; volumes 6.01 and 6.01
    }

    /** The first ```java block after the section heading. */
    private static String javaBlock(String readme) throws IOException {
        int at = readme.indexOf(SECTION);
        assertTrue(at >= 0, "README.md has no section '" + SECTION + "'");
        int start = readme.indexOf("```java\n", at);
        assertTrue(start >= 0, "no ```java block after '" + SECTION + "' in README.md");
        start += "```java\n".length();
        int end = readme.indexOf("```", start);
        return readme.substring(start, end);
    }
}
