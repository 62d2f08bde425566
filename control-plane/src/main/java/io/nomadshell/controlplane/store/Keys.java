package io.nomadshell.controlplane.store;

/** The Redis key layout, in one place. */
final class Keys {
    static final String QUEUE = "ns:queue";
    static final String QUEUE_GROUP = "dispatchers";
    static final String ACTIVE = "ns:active";
    static final String EVENTS_CHANNEL = "ns:events";
    static final String CANCEL_CHANNEL = "ns:cancel";

    private Keys() {}

    static String job(String id) {
        return "ns:job:" + id;
    }

    static String events(String id) {
        return "ns:events:" + id;
    }

    static String transcript(String id) {
        return "ns:transcript:" + id;
    }

    static String context(String id) {
        return "ns:context:" + id;
    }

    static String output(String id, String handle) {
        return "ns:output:" + id + ":" + handle;
    }

    static String screenshot(String id, String callId) {
        return "ns:screenshot:" + id + ":" + callId;
    }

    static String lease(String id) {
        return "ns:lease:" + id;
    }

    static String ownerIndex(String owner) {
        return "ns:owner:" + owner + ":jobs";
    }

    static String idempotency(String owner, String key) {
        return "ns:idem:" + owner + ":" + key;
    }
}
