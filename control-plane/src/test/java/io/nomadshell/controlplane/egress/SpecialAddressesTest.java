package io.nomadshell.controlplane.egress;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The address classifier: what egress refuses unless the operator allows it. */
class SpecialAddressesTest {

    @Test
    void everyAddressOfThisHostIsSpecial() throws Exception {
        // Whatever its interfaces carry (a public address included), egress must not reach this host.
        var addresses = java.net.NetworkInterface.networkInterfaces()
                .flatMap(java.net.NetworkInterface::inetAddresses).toList();
        assertThat(addresses).isNotEmpty();
        for (var address : addresses) {
            assertThat(SpecialAddresses.kindOf(address)).as("%s", address).isPresent();
        }
    }

    @ParameterizedTest
    @CsvSource({
        "127.0.0.1, a loopback address",
        "127.255.0.9, a loopback address",
        "::1, a loopback address",
        "0.0.0.0, an unspecified address",
        "::, an unspecified address",
        "10.1.2.3, a private address",
        "172.16.0.1, a private address",
        "172.31.255.255, a private address",
        "192.168.1.1, a private address",
        "fc00::1, a private address",
        "fd12:3456::1, a private address",
        "169.254.169.254, the cloud metadata address",
        "fd00:ec2::254, the cloud metadata address",
        "169.254.1.1, a link-local address",
        "fe80::1, a link-local address",
        "100.64.0.1, a carrier-grade NAT address",
        "100.127.255.254, a carrier-grade NAT address",
        "224.0.0.1, a multicast address",
        "ff02::1, a multicast address",
        "255.255.255.255, a reserved address",
        "192.0.2.7, a documentation address",
        "203.0.113.1, a documentation address",
        "2001:db8::1, a documentation address",
        "64:ff9b:1::1, a private address",
        // IPv4 spelled as IPv6: mapped, compatible and NAT64.
        "::ffff:127.0.0.1, a loopback address",
        "::ffff:10.0.0.1, a private address",
        "::ffff:169.254.169.254, the cloud metadata address",
        "::127.0.0.1, a loopback address",
        "64:ff9b::a9fe:a9fe, the cloud metadata address",
        "64:ff9b::192.168.0.1, a private address",
    })
    void specialAddressesAreNamed(String address, String kind) throws Exception {
        assertThat(SpecialAddresses.kindOf(InetAddress.getByName(address))).contains(kind);
    }

    @Test
    void aMappedAddressGivenAsSixteenRawBytesIsJudgedAsItsIpv4() throws Exception {
        byte[] raw = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 127, 0, 0, 1};
        var address = java.net.Inet6Address.getByAddress(null, raw, -1);

        assertThat(SpecialAddresses.kindOf(address)).contains("a loopback address");
    }

    @ParameterizedTest
    @ValueSource(strings = {"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "192.169.0.1", "2001:4860:4860::8888",
        "::ffff:8.8.8.8", "64:ff9b::808:808"})
    void publicAddressesAreOrdinary(String address) throws Exception {
        assertThat(SpecialAddresses.kindOf(InetAddress.getByName(address))).isEmpty();
    }

    @Test
    void blocksMatchByPrefixAndFamily() throws Exception {
        var block = AddressBlock.parse("127.0.0.0/8");

        assertThat(block.contains(InetAddress.getByName("127.9.9.9"))).isTrue();
        assertThat(block.contains(InetAddress.getByName("128.0.0.1"))).isFalse();
        assertThat(block.contains(InetAddress.getByName("::1"))).isFalse();
        assertThat(AddressBlock.parse("10.1.2.3/16").toString()).isEqualTo("10.1.0.0/16");
        assertThat(AddressBlock.parse("fd00::/8").contains(InetAddress.getByName("fd99::1"))).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost/8", "10.0.0.0/33", "::/129", "10.0.0.0/x", "", "evil.example"})
    void blocksAreLiteralsWithAValidPrefix(String text) {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> AddressBlock.parse(text))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
