package io.nomadshell.controlplane.launch.local;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sandbox's {@code /etc}: a few host entries programs need plus generated user and host files.
 * The host's {@code /etc} is never bound whole: secrets such as {@code /etc/ssl/private} have no
 * place in a sandbox, whatever their permissions say.
 */
final class SandboxEtc {
    private static final Logger log = LoggerFactory.getLogger(SandboxEtc.class);

    /** Host entries bound read-only when they exist; {@code ssl} only in parts, to leave out private keys. */
    private static final List<String> HOST_ENTRIES = List.of(
            "alternatives",
            "ld.so.cache",
            "ld.so.conf",
            "ld.so.conf.d",
            "localtime",
            "ssl/certs",
            "ssl/openssl.cnf",
            "ca-certificates",
            "ca-certificates.conf",
            "nsswitch.conf",
            "mime.types",
            // The full toolset: fonts for GUI programs and plots; Debian keeps matplotlib's rc here.
            "fonts",
            "matplotlibrc");

    static final List<String> GENERATED = List.of("passwd", "group", "hosts");

    private final Path dir;

    private SandboxEtc(Path dir) {
        this.dir = dir;
    }

    /** Writes the {@link #GENERATED} files into a new temporary directory. */
    static SandboxEtc create() throws IOException {
        SandboxEtc etc = new SandboxEtc(Files.createTempDirectory("nomad-shell-sandbox-"));
        try {
            etc.write();
            // Read by the sandbox's unprivileged uid; nothing here is secret.
            Files.setPosixFilePermissions(etc.dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            for (String name : GENERATED) {
                Files.setPosixFilePermissions(etc.dir.resolve(name), PosixFilePermissions.fromString("rw-r--r--"));
            }
        } catch (IOException e) {
            etc.delete();
            throw e;
        }
        return etc;
    }

    /** The directory holding the {@link #GENERATED} files. */
    Path dir() {
        return dir;
    }

    /** The host {@code /etc} entries to bind at the same path: the fixed list plus python and java config. */
    static List<Path> hostEntries() throws IOException {
        Path etc = Path.of("/etc");
        List<Path> entries = new ArrayList<>();
        for (String name : HOST_ENTRIES) {
            entries.add(etc.resolve(name));
        }
        try (DirectoryStream<Path> configs = Files.newDirectoryStream(etc, "{python,java}*")) {
            configs.forEach(entries::add);
        }
        // Files.exists follows links: a dangling /etc/localtime would make bwrap fail.
        return entries.stream().filter(Files::exists).sorted().toList();
    }

    private void write() throws IOException {
        Files.writeString(dir.resolve("passwd"), """
                sandbox:x:1000:1000:sandbox:/home/sandbox:/bin/sh
                nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
                """);
        Files.writeString(dir.resolve("group"), """
                sandbox:x:1000:
                nogroup:x:65534:
                """);
        // The hostname resolves too, or programs asking for the local host name stall.
        Files.writeString(dir.resolve("hosts"), """
                127.0.0.1 localhost sandbox
                ::1 localhost
                """);
    }

    /** Deletes the directory; never throws. */
    void delete() {
        try {
            for (String name : GENERATED) {
                Files.deleteIfExists(dir.resolve(name));
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            log.warn("cannot delete {}: {}", dir, e.getMessage());
        }
    }
}
