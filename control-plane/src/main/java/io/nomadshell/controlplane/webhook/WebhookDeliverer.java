package io.nomadshell.controlplane.webhook;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import com.google.protobuf.util.Timestamps;
import io.nomadshell.controlplane.job.JobMessages;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.WebhookQueue;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.WebhookDelivery;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Semaphore;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers the webhooks every replica shares: claims those due ({@link WebhookQueue}), POSTs each
 * (the job as GetJob shows it, rendered at the first attempt and sent the same at every retry, signed
 * anew each time), and records each attempt's outcome as a {@code webhook_delivery} event of the job.
 * A 2xx answer delivers it; anything else is tried again after a doubling wait, until the retry time
 * since the status change is spent.
 */
public final class WebhookDeliverer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WebhookDeliverer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().preservingProtoFieldNames()
            .omittingInsignificantWhitespace();
    public static final String DELIVERY_HEADER = "Nomad-Shell-Delivery";
    /** How often the queue is asked for due deliveries. */
    private static final Duration POLL = Duration.ofMillis(250);
    private static final int MAX_IN_FLIGHT = 64;
    private static final int MAX_ERROR_CHARS = 300;

    private final WebhookQueue queue;
    private final JobStore store;
    private final WebhookOptions options;
    private final WebhookSecrets secrets;
    private final WebhookAddresses addresses;
    private final WebhookPost post;
    private final Clock clock;
    private final Duration claimLength;
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
    private final Thread poller;
    private volatile boolean closed;

    private WebhookDeliverer(WebhookQueue queue, JobStore store, WebhookOptions options, WebhookSecrets secrets,
            WebhookAddresses addresses, Clock clock) {
        this.queue = requireNonNull(queue, "queue");
        this.store = requireNonNull(store, "store");
        this.options = requireNonNull(options, "options");
        this.secrets = requireNonNull(secrets, "secrets");
        this.addresses = requireNonNull(addresses, "addresses");
        this.clock = requireNonNull(clock, "clock");
        this.post = new WebhookPost(options.connectTimeout(), options.readTimeout());
        // Longer than one attempt can take, so no other replica claims a delivery still being tried.
        this.claimLength = options.connectTimeout().multipliedBy(3).plus(options.readTimeout().multipliedBy(2))
                .plusSeconds(30);
        this.poller = Thread.ofVirtual().name("webhook-deliverer").unstarted(this::poll);
    }

    /** Starts delivering; close stops it (a delivery in flight is claimed and is tried again later). */
    public static WebhookDeliverer start(WebhookQueue queue, JobStore store, WebhookOptions options,
            WebhookSecrets secrets, WebhookAddresses addresses, Clock clock) {
        var deliverer = new WebhookDeliverer(queue, store, options, secrets, addresses, clock);
        deliverer.poller.start();
        return deliverer;
    }

    private void poll() {
        while (!closed) {
            try {
                int room = inFlight.availablePermits();
                if (room > 0) {
                    for (var claim : queue.claim(clock.instant(), claimLength, Math.min(room, 16))) {
                        inFlight.acquireUninterruptibly();
                        Thread.ofVirtual().name("webhook-" + claim.id()).start(() -> {
                            try {
                                attempt(claim);
                            } catch (RuntimeException e) {
                                // Redis failed or is closing: the claim runs out and the delivery is due again.
                                log.warn("webhook delivery {} failed: {}", claim.id(), e.getMessage());
                            } finally {
                                inFlight.release();
                            }
                        });
                    }
                }
                Thread.sleep(POLL);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                if (!closed) {
                    log.warn("webhook deliveries could not be claimed: {}", e.getMessage());
                }
                try {
                    Thread.sleep(POLL.multipliedBy(4));
                } catch (InterruptedException stop) {
                    return;
                }
            }
        }
    }

    /** One attempt of a claimed delivery, its outcome settled and recorded. */
    void attempt(WebhookQueue.Claim claim) {
        ObjectNode record;
        try {
            record = (ObjectNode) JSON.readTree(claim.record());
        } catch (IOException | ClassCastException e) {
            log.warn("dropping webhook delivery {}: its record is not readable", claim.id());
            queue.settle(claim, null, claim.record());
            return;
        }
        var jobId = record.path("job_id").asText();
        int attempt = record.path("attempt").asInt() + 1;
        var url = CallbackUrl.parse(record.path("url").asText());
        var body = record.hasNonNull("body") ? record.get("body").asText() : render(jobId);
        if (body == null) {
            log.info("dropping webhook delivery {}: job {} is no longer stored", claim.id(), jobId);
            queue.settle(claim, null, claim.record());
            return;
        }
        var outcome = WebhookDelivery.newBuilder().setDeliveryId(claim.id()).setUrl(url.text()).setAttempt(attempt)
                .setStatus(record.path("status").asText());
        try {
            var secret = secrets.of(record.path("owner").asText()).orElseThrow(() -> new WebhookRefusedException(
                    "the API key that scheduled the job no longer has a webhook secret"));
            var bytes = body.getBytes(StandardCharsets.UTF_8);
            int status = post.send(url, addresses.resolve(url), Map.of(
                    WebhookSignature.HEADER, WebhookSignature.header(secret, clock.instant().getEpochSecond(), bytes),
                    DELIVERY_HEADER, claim.id()), bytes);
            outcome.setStatusCode(status);
            if (status >= 200 && status < 300) {
                outcome.setDelivered(true);
            } else {
                outcome.setError("the receiver answered HTTP " + status);
            }
        } catch (WebhookRefusedException e) {
            outcome.setError(e.getMessage());
        } catch (IOException e) {
            outcome.setError(words(e));
        }
        Instant next = null;
        if (!outcome.getDelivered()) {
            var giveUpAt = Instant.ofEpochMilli(record.path("since").asLong()).plus(options.retryFor());
            var candidate = clock.instant().plus(options.waitAfter(attempt));
            if (candidate.isAfter(giveUpAt)) {
                outcome.setGaveUp(true);
            } else {
                next = candidate;
                outcome.setNextAttemptAt(Timestamps.fromMillis(next.toEpochMilli()));
            }
        }
        record.put("attempt", attempt).put("body", body);
        if (!queue.settle(claim, next, record.toString())) {
            log.warn("webhook delivery {} took longer than its claim; another replica may try it again", claim.id());
            return;
        }
        log.info("webhook {} of job {} to {}, attempt {}: {}", claim.id(), jobId, url.authority(), attempt,
                outcome.getDelivered() ? "delivered" : outcome.getError() + (outcome.getGaveUp() ? " (gave up)" : ""));
        try {
            store.appendOthersEvent(jobId, JobEvent.newBuilder().setWebhookDelivery(outcome));
        } catch (RuntimeException e) {
            log.warn("the outcome of webhook delivery {} could not be recorded: {}", claim.id(), e.getMessage());
        }
    }

    /** The job as GetJob shows it, or null when it is gone. */
    private @Nullable String render(String jobId) {
        return store.find(jobId).map(job -> {
            try {
                return PRINTER.print(JobMessages.toProto(job));
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
        }).orElse(null);
    }

    private static String words(IOException e) {
        var what = switch (e) {
            case java.net.SocketTimeoutException timeout -> "no answer in time (" + timeout.getMessage() + ")";
            case java.net.ConnectException refused -> "could not connect (" + refused.getMessage() + ")";
            default -> e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        };
        return what.length() > MAX_ERROR_CHARS ? what.substring(0, MAX_ERROR_CHARS) + "…" : what;
    }

    @Override
    public void close() {
        closed = true;
        poller.interrupt();
        try {
            poller.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
