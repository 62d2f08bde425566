package io.nomadshell.cli;

import io.nomadshell.proto.v1.GetJobRequest;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** Forwards a local port to a port inside a job's sandbox until interrupted. */
@Command(name = "port-forward",
        description = "Forward 127.0.0.1:LOCAL_PORT to SANDBOX_PORT inside a running job's sandbox (Ctrl-C stops).")
final class PortForwardCommand implements Callable<Integer> {
    @Mixin
    ClientOptions client = new ClientOptions();

    @Parameters(index = "0", paramLabel = "JOB_ID")
    String jobId = "";

    @Parameters(index = "1", paramLabel = "SANDBOX_PORT")
    int sandboxPort;

    @Parameters(index = "2", paramLabel = "LOCAL_PORT", arity = "0..1",
            description = "default: the same as SANDBOX_PORT; 0 picks a free port")
    Integer localPort;

    @Override
    public Integer call() throws Exception {
        if (sandboxPort < 1 || sandboxPort > 65535 || (localPort != null && (localPort < 0 || localPort > 65535))) {
            throw new UserError("ports must be between 1 and 65535");
        }
        try (var connection = client.connect()) {
            // Fails with the server's words (unknown job, bad key) before anything listens.
            connection.jobs().getJob(GetJobRequest.newBuilder().setJobId(jobId).build());
        }
        try (var forwarder = PortForwarder.start(client.server, client.apiKey, jobId, sandboxPort,
                localPort == null ? sandboxPort : localPort, System.err)) {
            System.err.printf("Forwarding 127.0.0.1:%d -> %s:%d%n", forwarder.localPort(), jobId, sandboxPort);
            new CountDownLatch(1).await();
        }
        return 0;
    }
}
