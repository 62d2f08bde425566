package io.nomadshell.controlplane.launch.local;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The seccomp program every local sandbox runs under, handed to bubblewrap's {@code --seccomp}: a
 * classic BPF filter (an array of {@code struct sock_filter}) that makes the system calls a build
 * tool never needs fail with {@code EPERM}, and kills any process that calls in through another
 * architecture's table (on x86-64, {@code int 0x80} would reach the i386 numbers unchecked).
 *
 * <p>The program, for a denied list {@code n1..nk}:
 * <pre>
 *   ld  [4]                 ; seccomp_data.arch
 *   jeq ARCH, +1, +0
 *   ret KILL_PROCESS        ; a foreign syscall table
 *   ld  [0]                 ; seccomp_data.nr
 *   jge 0x40000000 → deny   ; x86-64 only: the x32 table
 *   jeq n1 → deny ... jeq nk → deny
 *   ret ALLOW
 *   deny: ret ERRNO | EPERM
 * </pre>
 */
final class SeccompFilter {
    // Classic BPF opcodes (linux/bpf_common.h).
    private static final short LD_W_ABS = 0x20;
    private static final short JMP_JEQ_K = 0x15;
    private static final short JMP_JGE_K = 0x35;
    private static final short RET_K = 0x06;

    // linux/seccomp.h and linux/audit.h.
    static final int RET_KILL_PROCESS = 0x80000000;
    static final int RET_ERRNO = 0x00050000;
    static final int RET_ALLOW = 0x7fff0000;
    private static final int EPERM = 1;
    private static final int OFFSET_NR = 0;
    private static final int OFFSET_ARCH = 4;
    private static final int X32_SYSCALL_BIT = 0x40000000;

    /** A syscall table this filter knows: its audit architecture and how it numbers the denied calls. */
    enum Arch {
        X86_64(0xC000003E),
        AARCH64(0xC00000B7);

        final int audit;

        Arch(int audit) {
            this.audit = audit;
        }

        /** The architecture this JVM runs on, or null when the filter has no table for it. */
        static @Nullable Arch host() {
            return switch (System.getProperty("os.arch", "").toLowerCase(Locale.ROOT)) {
                case "amd64", "x86_64" -> X86_64;
                case "aarch64", "arm64" -> AARCH64;
                default -> null;
            };
        }
    }

    /**
     * What no sandboxed program may do, with its number on x86-64 and on aarch64 (the generic table).
     * Mounting and namespaces (the sandbox's own walls), kernel modules, kexec and reboot, BPF and perf
     * (kernel attack surface), reading or writing another process (ptrace, process_vm_*, pidfd_getfd:
     * the daemon's memory), keyrings, file handles (open_by_handle_at walked out of containers before),
     * swap, accounting, the clock and the kernel log.
     */
    enum Denied {
        MOUNT(165, 40), UMOUNT2(166, 39), PIVOT_ROOT(155, 41),
        OPEN_TREE(428, 428), MOVE_MOUNT(429, 429), FSOPEN(430, 430), FSCONFIG(431, 431), FSMOUNT(432, 432),
        FSPICK(433, 433), MOUNT_SETATTR(442, 442),
        // Namespaces: bwrap's --disable-userns already stops new user namespaces; the rest need
        // capabilities the sandbox lacks. Denied anyway: no build tool needs them.
        UNSHARE(272, 97), SETNS(308, 268),
        KEXEC_LOAD(246, 104), KEXEC_FILE_LOAD(320, 294), REBOOT(169, 142),
        INIT_MODULE(175, 105), FINIT_MODULE(313, 273), DELETE_MODULE(176, 106),
        BPF(321, 280), PERF_EVENT_OPEN(298, 241), USERFAULTFD(323, 282),
        // io_uring: a large kernel surface that no build tool needs (Docker's default profile denies it too).
        IO_URING_SETUP(425, 425), IO_URING_ENTER(426, 426), IO_URING_REGISTER(427, 427),
        PTRACE(101, 117), PROCESS_VM_READV(310, 270), PROCESS_VM_WRITEV(311, 271), PIDFD_GETFD(438, 438),
        KEYCTL(250, 219), ADD_KEY(248, 217), REQUEST_KEY(249, 218),
        OPEN_BY_HANDLE_AT(304, 265), NAME_TO_HANDLE_AT(303, 264),
        SWAPON(167, 224), SWAPOFF(168, 225), ACCT(163, 89), QUOTACTL(179, 60),
        SETTIMEOFDAY(164, 170), CLOCK_SETTIME(227, 112), CLOCK_ADJTIME(305, 266), ADJTIMEX(159, 171),
        SYSLOG(103, 116);

        private final int x86_64;
        private final int aarch64;

        Denied(int x86_64, int aarch64) {
            this.x86_64 = x86_64;
            this.aarch64 = aarch64;
        }

        int number(Arch arch) {
            return arch == Arch.X86_64 ? x86_64 : aarch64;
        }
    }

    private SeccompFilter() {}

    /** The filter for {@code arch} denying every {@link Denied} call, as bwrap reads it from a file descriptor. */
    static byte[] program(Arch arch) {
        return program(arch, List.of(Denied.values()));
    }

    /** The filter for {@code arch} denying {@code denied}. */
    static byte[] program(Arch arch, List<Denied> denied) {
        requireNonNull(arch, "arch");
        requireNonNull(denied, "denied");
        List<Insn> code = new ArrayList<>();
        code.add(new Insn(LD_W_ABS, 0, 0, OFFSET_ARCH));
        code.add(new Insn(JMP_JEQ_K, 1, 0, arch.audit));
        code.add(new Insn(RET_K, 0, 0, RET_KILL_PROCESS));
        code.add(new Insn(LD_W_ABS, 0, 0, OFFSET_NR));
        // Each check jumps to "deny", the last instruction: its offset shrinks by one per instruction.
        int checks = denied.size() + (arch == Arch.X86_64 ? 1 : 0);
        int remaining = checks;
        if (arch == Arch.X86_64) {
            code.add(new Insn(JMP_JGE_K, remaining--, 0, X32_SYSCALL_BIT));
        }
        for (Denied call : denied) {
            code.add(new Insn(JMP_JEQ_K, remaining--, 0, call.number(arch)));
        }
        code.add(new Insn(RET_K, 0, 0, RET_ALLOW));
        code.add(new Insn(RET_K, 0, 0, RET_ERRNO | EPERM));
        // struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; } in the machine's byte order.
        ByteBuffer out = ByteBuffer.allocate(code.size() * 8).order(ByteOrder.nativeOrder());
        for (Insn insn : code) {
            if (insn.jt > 255) {
                throw new IllegalArgumentException("too many denied calls for one jump");
            }
            out.putShort(insn.code).put((byte) insn.jt).put((byte) insn.jf).putInt(insn.k);
        }
        return out.array();
    }

    private record Insn(short code, int jt, int jf, int k) {}
}
