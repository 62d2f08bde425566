package io.nomadshell.controlplane.tunnel;

/** A replica-to-replica request that is not taken, and why (sent back to the asking replica as it is). */
final class PeerRefusedException extends Exception {
    PeerRefusedException(String reason) {
        super(reason, null, false, false);
    }
}
