package dev.cleave.cli;

import dev.cleave.nativ.NativeException;
import dev.cleave.train.TrainingDivergedException;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.Versions;
import dev.cleave.util.ProgressListener;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code cleave} command. Bad input (an {@link InvalidInputException} or a picocli usage
 * error) prints one clear message and exits 2; a diverged run exits 3; anything else is a bug
 * and prints its stack trace (exit 1).
 */
@Command(name = "cleave", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Make neural networks modular, and prove it.",
        subcommands = {DemoCommand.class, TrainCommand.class, InitCommand.class, EvalCommand.class, ClusterCommand.class, CoclusterCommand.class, CircuitsCommand.class,
                ReportCommand.class,
                DoctorCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (for tests). */
    public static int run(String... args) {
        System.setProperty("java.awt.headless", "true"); // charts render without a display
        CommandLine cli = new CommandLine(new Main());
        // One rule for every option of every command: given once. A repeated option is an error,
        // never "the last wins" nor (for lists such as --layers) the lists run together.
        cli.setOverwrittenOptionsAllowed(false);
        cli.setExecutionStrategy(parseResult -> {
            requireEachOptionOnce(parseResult);
            return new CommandLine.RunLast().execute(parseResult);
        });
        cli.setParameterExceptionHandler((e, given) -> {
            CommandLine cmd = e.getCommandLine();
            cmd.getErr().println(usageError(e));
            cmd.getErr().flush();
            return 2;
        });
        cli.setExecutionExceptionHandler((e, cmd, parseResult) -> {
            if (e instanceof InvalidInputException) {
                cmd.getErr().println("cleave " + cmd.getCommandName() + ": error: " + e.getMessage());
                return 2;
            }
            if (e instanceof TrainingDivergedException) {
                cmd.getErr().println("cleave " + cmd.getCommandName() + ": " + e.getMessage());
                return 3;
            }
            if (e instanceof ProgressListener.CancelledException) {
                cmd.getErr().println("cleave " + cmd.getCommandName() + ": cancelled: " + e.getMessage());
                return 130;
            }
            if (e instanceof dev.cleave.cluster.EigenNotConvergedException) {
                cmd.getErr().println("cleave " + cmd.getCommandName() + ": " + e.getMessage());
                return 4;
            }
            if (e instanceof dev.cleave.nativ.NativeNumericException) {
                cmd.getErr().println("cleave " + cmd.getCommandName() + ": " + e.getMessage());
                return 3;
            }
            if (e instanceof dev.cleave.nativ.NativeNotConvergedException) {
                cmd.getErr().println("cleave " + cmd.getCommandName() + ": " + e.getMessage());
                return 4;
            }
            if (e instanceof NativeException) {
                cmd.getErr().println("cleave " + cmd.getCommandName() + ": native error: " + e.getMessage());
                return 1;
            }
            throw e;
        });
        return cli.execute(args);
    }

    /** A list option (such as --layers) given more than once: picocli would join the lists. */
    private static void requireEachOptionOnce(CommandLine.ParseResult parseResult) {
        for (CommandLine.ParseResult pr = parseResult; pr != null; pr = pr.subcommand()) {
            for (CommandLine.Model.OptionSpec o : pr.matchedOptions()) {
                if (o.isMultiValue() && o.originalStringValues().size() > 1) {
                    throw new CommandLine.ParameterException(pr.commandSpec().commandLine(), o.longestName()
                            + " is given " + o.originalStringValues().size() + " times: give it once, with all its values ("
                            + String.join(" and ", o.originalStringValues()) + " are separate lists)");
                }
            }
        }
    }

    /** One line for a command line picocli cannot parse: what is wrong, and where the help is. */
    static String usageError(CommandLine.ParameterException e) {
        CommandLine cmd = e.getCommandLine();
        String name = cmd.getCommandSpec().qualifiedName();
        String message = e.getMessage();
        if (e instanceof CommandLine.OverwrittenOptionException o && o.getOverwritten() instanceof CommandLine.Model.OptionSpec spec) {
            message = spec.longestName() + " is given more than once: give it once";
        }
        if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
            message += " (did you mean " + String.join(" or ", u.getSuggestions()) + "?)";
        }
        String line = message.replace('\n', ' ').strip();
        if (line.endsWith(".")) {
            line = line.substring(0, line.length() - 1);
        }
        return name + ": error: " + line + ". See '" + name + " --help'";
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"cleave " + Versions.cleave()};
        }
    }
}
