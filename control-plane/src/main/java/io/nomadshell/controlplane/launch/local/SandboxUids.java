package io.nomadshell.controlplane.launch.local;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.launch.LaunchException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Hands each running sandbox a host uid of its own, from {@code base} to {@code base + count - 1}.
 *
 * <p>Why one uid per sandbox rather than one for all: what the kernel counts per user (inotify
 * instances, process counts, keyrings) is then not shared between jobs, and a process that got out
 * of its sandbox's mount namespace still could not touch another job's files. Why a range far above
 * the ones people use: a uid in {@code /etc/passwd} or {@code /etc/group} (someone's files, a service)
 * is never handed out, nor 0.
 *
 * <p>A uid is held by an exclusive lock on {@code <lockDir>/<uid>.lock}, so two servers on one host
 * (or two launchers in one JVM) never hand out the same one, and the kernel releases it when its
 * holder dies, even by {@code kill -9}.
 */
final class SandboxUids {
    static final int DEFAULT_BASE = 1_100_000;
    static final int DEFAULT_COUNT = 65_536;

    private final int base;
    private final int count;
    private final Path lockDir;
    private final List<Path> idFiles;

    SandboxUids(int base, int count, Path lockDir) {
        this(base, count, lockDir, List.of(Path.of("/etc/passwd"), Path.of("/etc/group")));
    }

    /** @param idFiles passwd- and group-style files whose ids are never handed out */
    SandboxUids(int base, int count, Path lockDir, List<Path> idFiles) {
        if (base <= 0 || count <= 0 || (long) base + count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("the sandbox uid range must be positive: " + base + "+" + count);
        }
        this.base = base;
        this.count = count;
        this.lockDir = requireNonNull(lockDir, "lockDir");
        this.idFiles = List.copyOf(idFiles);
    }

    /** A uid held until {@link Lease#close()}. */
    static final class Lease implements AutoCloseable {
        private final int uid;
        private final FileChannel channel;
        private final FileLock lock;

        private Lease(int uid, FileChannel channel, FileLock lock) {
            this.uid = uid;
            this.channel = channel;
            this.lock = lock;
        }

        int uid() {
            return uid;
        }

        @Override
        public void close() {
            try {
                lock.release();
                channel.close();
            } catch (IOException e) {
                // The channel is gone either way; the lock goes with it.
            }
        }
    }

    /**
     * Takes the lowest free uid of the range that no local user or group has.
     *
     * @throws LaunchException when every uid of the range is in use
     */
    Lease take() throws LaunchException {
        Set<Integer> known = new HashSet<>();
        idFiles.forEach(file -> known.addAll(ids(file)));
        try {
            Files.createDirectories(lockDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new LaunchException("the sandbox uid locks (" + lockDir + ") cannot be written: " + e.getMessage(), e);
        }
        for (int uid = base; uid < base + count; uid++) {
            if (known.contains(uid)) {
                continue;
            }
            Lease lease = tryLock(uid);
            if (lease != null) {
                return lease;
            }
        }
        throw new LaunchException("all " + count + " sandbox uids from " + base + " are in use");
    }

    private @Nullable Lease tryLock(int uid) throws LaunchException {
        FileChannel channel = null;
        try {
            channel = FileChannel.open(lockDir.resolve(uid + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock != null) {
                return new Lease(uid, channel, lock);
            }
        } catch (OverlappingFileLockException e) {
            // Held by another launcher of this JVM.
        } catch (IOException e) {
            throw new LaunchException("the sandbox uid lock " + uid + " cannot be taken: " + e.getMessage(), e);
        }
        try {
            channel.close();
        } catch (IOException e) {
            // nothing held
        }
        return null;
    }

    /** The numeric ids (third field) of a passwd- or group-style file. */
    static Set<Integer> ids(Path file) {
        Set<Integer> ids = new HashSet<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (NoSuchFileException e) {
            return ids;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file, e);
        }
        for (String line : lines) {
            String[] fields = line.split(":", -1);
            if (fields.length > 2) {
                try {
                    ids.add(Integer.parseInt(fields[2]));
                } catch (NumberFormatException e) {
                    // a comment or a NIS line: not a local id
                }
            }
        }
        return ids;
    }
}
