package dev.cleave.cli;

import dev.cleave.io.AtomicFiles;
import dev.cleave.report.Report;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cleave report RUN_DIR... --out report.html}: one self-contained HTML file comparing runs. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Write one self-contained HTML report comparing training runs (curves, weight blocks, spectra, "
                + "shuffle tests, ablations, circuit sizes).")
final class ReportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Parameters(arity = "1..*", paramLabel = "RUN_DIR", description = "run folders written by cleave train (and cluster/circuits)")
    List<Path> runs;

    @Option(names = "--out", defaultValue = "report.html", paramLabel = "FILE", description = "the HTML file (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws IOException {
        PrintWriter w = spec.commandLine().getOut();
        common.printHeader(w, "report", "none", 1, common.seed);
        AtomicFiles.ensureWritableFile(out, "--out");
        Report.write(runs, out);
        w.println(common.json ? "{\"report\":\"" + out.toAbsolutePath() + "\"}" : "report written to " + out.toAbsolutePath());
        w.flush();
        return 0;
    }
}
