package io.nomadshell.e2e;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The TCP sockets that processes listen on, read from {@code /proc}: each process's socket inodes
 * ({@code /proc/<pid>/fd}) looked up in its network namespace's tables ({@code /proc/<pid>/net/tcp}
 * and {@code tcp6}). UDP is left out: the only UDP sockets a server holds are its DNS resolver's
 * (Netty's, bound to an ephemeral port of every address), which take nothing but answers to its own
 * queries.
 */
final class ListeningSockets {
    /** A socket's table state in /proc/net/tcp*: 0A is LISTEN. */
    private static final String TCP_LISTEN = "0A";

    private ListeningSockets() {}

    /** The local addresses of every TCP socket the processes {@code pids} listen on. */
    static Set<InetSocketAddress> of(List<Long> pids) throws IOException {
        var found = new HashSet<InetSocketAddress>();
        for (var pid : pids) {
            try {
                found.addAll(of(pid));
            } catch (NoSuchFileException exited) {
                // a short-lived process (a health check's) ended while read: it listens on nothing
            }
        }
        return found;
    }

    private static Set<InetSocketAddress> of(long pid) throws IOException {
        var found = new HashSet<InetSocketAddress>();
        var inodes = socketInodes(pid);
        for (var table : List.of("tcp", "tcp6")) {
            var file = Path.of("/proc", Long.toString(pid), "net", table);
            if (!Files.exists(file)) {
                continue;
            }
            for (var line : Files.readAllLines(file).stream().skip(1).toList()) {
                var fields = line.strip().split("\\s+");
                // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
                if (inodes.contains(fields[9]) && fields[3].equals(TCP_LISTEN)) {
                    found.add(address(fields[1]));
                }
            }
        }
        return found;
    }

    private static Set<String> socketInodes(long pid) throws IOException {
        var inodes = new HashSet<String>();
        try (var fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (var fd : (Iterable<Path>) fds::iterator) {
                try {
                    var target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring("socket:[".length(), target.length() - 1));
                    }
                } catch (IOException closedMeanwhile) {
                    // the descriptor was closed while listed
                }
            }
        }
        return inodes;
    }

    /** {@code 0100007F:1F90} (IPv4) or 32 hex digits (IPv6), each 32-bit word in host (little-endian) order. */
    private static InetSocketAddress address(String field) throws IOException {
        var parts = field.split(":");
        var hex = parts[0];
        var bytes = new byte[hex.length() / 2];
        for (int word = 0; word < bytes.length / 4; word++) {
            for (int i = 0; i < 4; i++) {
                var at = word * 8 + (3 - i) * 2;
                bytes[word * 4 + i] = (byte) Integer.parseInt(hex.substring(at, at + 2), 16);
            }
        }
        return new InetSocketAddress(InetAddress.getByAddress(bytes), Integer.parseInt(parts[1], 16));
    }

    /** Whether {@code address} is loopback: 127/8, ::1, or 127/8 mapped into IPv6 ({@code ::ffff:127.0.0.1}). */
    static boolean isLoopback(InetSocketAddress address) {
        // InetAddress.getByAddress already turns a v4-mapped IPv6 address into its IPv4 one.
        return address.getAddress().isLoopbackAddress();
    }

    /** Host pids of a container's processes ({@code docker top}). */
    static List<Long> containerPids(String container) throws IOException {
        var result = NomadTestbed.run(List.of("docker", "top", container, "-eo", "pid"), Duration.ofSeconds(30));
        if (result.exit() != 0) {
            throw new IOException("docker top " + container + ": " + result.output());
        }
        var pids = new ArrayList<Long>();
        result.output().lines().skip(1).map(String::strip).filter(line -> !line.isEmpty())
                .forEach(line -> pids.add(Long.parseLong(line)));
        return pids;
    }
}
