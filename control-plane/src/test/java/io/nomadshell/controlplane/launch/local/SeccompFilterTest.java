package io.nomadshell.controlplane.launch.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.launch.local.SeccompFilter.Arch;
import io.nomadshell.controlplane.launch.local.SeccompFilter.Denied;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class SeccompFilterTest {
    @Test
    void x86ProgramChecksTheArchitectureRefusesX32AndTheListedCalls() {
        assertThat(ByteOrder.nativeOrder()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
        byte[] program = SeccompFilter.program(Arch.X86_64, List.of(Denied.MOUNT, Denied.PTRACE));

        // struct sock_filter {u16 code; u8 jt; u8 jf; u32 k;}, little-endian, one per line.
        assertThat(HexFormat.of().formatHex(program)).isEqualTo(String.join("",
                "2000000004000000", // ld [4]                 arch
                "150001003e0000c0", // jeq AUDIT_ARCH_X86_64, skip the kill
                "0600000000000080", // ret KILL_PROCESS
                "2000000000000000", // ld [0]                 nr
                "3500030000000040", // jge 0x40000000 → deny  x32
                "15000200a5000000", // jeq 165 (mount) → deny
                "1500010065000000", // jeq 101 (ptrace) → deny
                "060000000000ff7f", // ret ALLOW
                "0600000001000500")); // ret ERRNO | EPERM
    }

    @Test
    void aarch64ProgramHasNoX32CheckAndUsesTheGenericNumbers() {
        byte[] program = SeccompFilter.program(Arch.AARCH64, List.of(Denied.MOUNT));

        assertThat(HexFormat.of().formatHex(program)).isEqualTo(String.join("",
                "2000000004000000",
                "15000100b70000c0",
                "0600000000000080",
                "2000000000000000",
                "1500010028000000", // jeq 40 (mount) → deny
                "060000000000ff7f",
                "0600000001000500"));
    }

    @Test
    void theFullListFitsOneProgram() {
        byte[] program = SeccompFilter.program(Arch.X86_64);

        assertThat(program).hasSize(8 * (4 + 1 + Denied.values().length + 2));
    }
}
