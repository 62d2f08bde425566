package io.nomadshell.cli;

import picocli.CommandLine.Option;

/** The {@code --step} of {@code rollback} and {@code fork}: a step the job has a checkpoint of. */
final class StepOption {
    @Option(names = "--step", required = true, paramLabel = "N",
            description = "A step the job has a checkpoint of (nomad-shell checkpoints JOB_ID); 0 is before the first step.")
    int step;

    int step() {
        if (step < 0) {
            throw new UserError("--step must be 0 or more");
        }
        return step;
    }
}
