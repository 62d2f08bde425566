package io.nomadshell.controlplane.egress;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * A CIDR block such as {@code 127.0.0.0/8} or {@code fd00::/8}. IPv4 blocks match IPv4 addresses
 * only; compare an IPv4-mapped IPv6 address through {@link SpecialAddresses#unmapped}.
 *
 * @param network the block's first address (host bits cleared)
 * @param prefix how many leading bits are fixed
 */
public record AddressBlock(InetAddress network, int prefix) {

    public AddressBlock {
        requireNonNull(network, "network");
        if (prefix < 0 || prefix > network.getAddress().length * 8) {
            throw new IllegalArgumentException("prefix /" + prefix + " does not fit " + network.getHostAddress());
        }
    }

    /**
     * Parses {@code a.b.c.d/n}, {@code v6::/n}, or a single address (a block of one).
     *
     * @throws IllegalArgumentException when it is not an IP address with an optional prefix length
     */
    public static AddressBlock parse(String text) {
        requireNonNull(text, "text");
        var slash = text.indexOf('/');
        var address = (slash < 0 ? text : text.substring(0, slash)).strip();
        // Literals only: a name here would be resolved, and the block must not depend on DNS.
        if (address.isEmpty() || !address.matches("[0-9a-fA-F:.]+")) {
            throw new IllegalArgumentException("'" + text + "' is not an address block such as 10.0.0.0/8 or fd00::/8");
        }
        InetAddress network;
        try {
            network = InetAddress.getByName(address);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + text + "' is not an address block such as 10.0.0.0/8 or fd00::/8");
        }
        int bits = network.getAddress().length * 8;
        int prefix;
        try {
            prefix = slash < 0 ? bits : Integer.parseInt(text.substring(slash + 1).strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' has no valid prefix length");
        }
        if (prefix < 0 || prefix > bits) {
            throw new IllegalArgumentException("'" + text + "': the prefix length must be 0-" + bits);
        }
        return new AddressBlock(masked(network, prefix), prefix);
    }

    /** Whether {@code address} lies in this block (an IPv4 block never holds an IPv6 address). */
    public boolean contains(InetAddress address) {
        var bytes = address.getAddress();
        var mine = network.getAddress();
        if (bytes.length != mine.length) {
            return false;
        }
        for (int bit = 0; bit < prefix; bit++) {
            int mask = 0x80 >>> (bit % 8);
            if ((bytes[bit / 8] & mask) != (mine[bit / 8] & mask)) {
                return false;
            }
        }
        return true;
    }

    private static InetAddress masked(InetAddress address, int prefix) {
        var bytes = address.getAddress();
        for (int bit = prefix; bit < bytes.length * 8; bit++) {
            bytes[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("an address of 4 or 16 bytes is always valid", e);
        }
    }

    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefix;
    }
}
