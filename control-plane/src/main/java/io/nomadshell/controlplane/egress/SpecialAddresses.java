package io.nomadshell.controlplane.egress;

import static java.util.Objects.requireNonNull;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The addresses a sandbox may not reach through egress unless the operator allows them: they lead
 * to the host itself, to the private networks around it, or to a cloud's metadata service (which
 * hands out the node's credentials). IPv4 addresses written as IPv6 (mapped {@code ::ffff:a.b.c.d},
 * compatible {@code ::a.b.c.d}, NAT64 {@code 64:ff9b::a.b.c.d}) are judged as the IPv4 address they
 * carry, so a different spelling is no way around the check.
 */
public final class SpecialAddresses {
    private static final List<Kind> KINDS = List.of(
            new Kind("the cloud metadata address", "169.254.169.254/32", "fd00:ec2::254/128"),
            new Kind("a loopback address", "127.0.0.0/8", "::1/128"),
            new Kind("an unspecified address", "0.0.0.0/8", "::/128"),
            new Kind("a private address", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fec0::/10",
                    "64:ff9b:1::/48"),
            new Kind("a link-local address", "169.254.0.0/16", "fe80::/10"),
            new Kind("a carrier-grade NAT address", "100.64.0.0/10"),
            new Kind("a multicast address", "224.0.0.0/4", "ff00::/8"),
            new Kind("a reserved address", "240.0.0.0/4", "192.0.0.0/24", "198.18.0.0/15"),
            new Kind("a documentation address", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"));
    private static final AddressBlock NAT64 = AddressBlock.parse("64:ff9b::/96");
    private static final AddressBlock COMPATIBLE = AddressBlock.parse("::/96");

    private SpecialAddresses() {}

    /**
     * What kind of special address {@code address} is, in words ("a loopback address"); empty for
     * an ordinary public address.
     */
    public static Optional<String> kindOf(InetAddress address) {
        var plain = unmapped(requireNonNull(address, "address"));
        for (var kind : KINDS) {
            if (kind.blocks.stream().anyMatch(block -> block.contains(address) || block.contains(plain))) {
                return Optional.of(kind.words);
            }
        }
        // Whatever the control plane's host listens on (its API, Nomad's, Redis's) under a public address.
        if (isThisHost(address) || isThisHost(plain)) {
            return Optional.of("an address of the control plane's own host");
        }
        return Optional.empty();
    }

    private static boolean isThisHost(InetAddress address) {
        try {
            return NetworkInterface.getByInetAddress(address) != null;
        } catch (SocketException e) {
            return true; // cannot tell: refuse rather than risk reaching the host
        }
    }

    /**
     * The IPv4 address an IPv6 address carries when it is IPv4-mapped, IPv4-compatible or NAT64;
     * otherwise {@code address} itself.
     */
    public static InetAddress unmapped(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address;
        }
        var bytes = address.getAddress();
        boolean mapped = isZero(bytes, 0, 10) && bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff;
        // ::/96 also holds :: and ::1, IPv6's own unspecified and loopback addresses: kindOf checks
        // the address as written first, so they keep their own meaning.
        boolean compatible = COMPATIBLE.contains(address) && !isZero(bytes, 12, 15);
        if (mapped || compatible || NAT64.contains(address)) {
            try {
                return InetAddress.getByAddress(Arrays.copyOfRange(bytes, 12, 16));
            } catch (UnknownHostException e) {
                throw new IllegalStateException("4 bytes are always an IPv4 address", e);
            }
        }
        return address;
    }

    private static boolean isZero(byte[] bytes, int from, int to) {
        for (int i = from; i < to; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private record Kind(String words, List<AddressBlock> blocks) {
        Kind(String words, String... blocks) {
            this(words, Arrays.stream(blocks).map(AddressBlock::parse).toList());
        }
    }
}
