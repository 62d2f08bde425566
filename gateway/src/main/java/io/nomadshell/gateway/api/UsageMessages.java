package io.nomadshell.gateway.api;

import com.google.protobuf.util.Timestamps;
import io.nomadshell.controlplane.quota.KeyUsage;
import io.nomadshell.proto.v1.Usage;
import io.nomadshell.proto.v1.UsageLimits;

/** An API key's use and limits as the API's message. */
final class UsageMessages {
    private UsageMessages() {}

    static Usage toProto(KeyUsage usage) {
        var quota = usage.quota();
        return Usage.newBuilder()
                .setKey(quota.name())
                .setRunningJobs(usage.running())
                .setQueuedJobs(usage.queued())
                .setTokensToday(usage.tokensToday())
                .setCostUsdToday(usage.usdToday())
                .setDayEndsAt(Timestamps.fromMillis(usage.dayEnds().toEpochMilli()))
                .setLimits(UsageLimits.newBuilder()
                        .setRunningJobs(quota.runningJobs())
                        .setQueuedJobs(quota.queuedJobs())
                        .setTokensPerDay(quota.tokensPerDay())
                        .setUsdPerDay(quota.usdPerDay())
                        .setMaxCpuMhz(quota.maxCpuMhz())
                        .setMaxMemoryMb(quota.maxMemoryMb()))
                .build();
    }
}
