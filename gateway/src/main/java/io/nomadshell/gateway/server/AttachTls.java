package io.nomadshell.gateway.server;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.jspecify.annotations.Nullable;

/**
 * The certificate and key the Attach listener serves TLS with over TCP: the operator's own, or a
 * server certificate signed by a CA this control plane made at its first start under
 * {@code <data-dir>/tls/} (kept and reused; private keys mode 0600). Daemons trust the CA file
 * ({@code NOMAD_SHELL_ATTACH_CA}).
 *
 * @param certificate the PEM certificate chain the server presents
 * @param privateKey its PEM (PKCS#8) private key
 * @param ca the PEM CA certificate daemons should trust; null when the operator brought their own
 */
public record AttachTls(Path certificate, Path privateKey, @Nullable Path ca) {
    static final String CA_CERT = "attach-ca.pem";
    static final String CA_KEY = "attach-ca.key";
    static final String SERVER_CERT = "attach-server.pem";
    static final String SERVER_KEY = "attach-server.key";

    private static final Duration CA_LIFETIME = Duration.ofDays(3650);
    private static final Duration SERVER_LIFETIME = Duration.ofDays(825);
    private static final String SIGNATURE = "SHA256withECDSA";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    public AttachTls {
        requireNonNull(certificate, "certificate");
        requireNonNull(privateKey, "privateKey");
    }

    /** The operator's own certificate and key. */
    public static AttachTls operator(Path certificate, Path privateKey) {
        return new AttachTls(certificate, privateKey, null);
    }

    /**
     * This control plane's own: the CA under {@code directory} (made on first use, then reused) and a
     * server certificate for {@code hosts} plus 127.0.0.1, ::1 and localhost (made again when the
     * names change or it nears its end).
     */
    public static AttachTls generated(Path directory, Collection<String> hosts) throws IOException {
        requireNonNull(hosts, "hosts");
        var dir = Files.createDirectories(requireNonNull(directory, "directory"));
        var names = new LinkedHashSet<String>();
        hosts.stream().map(AttachTls::bare).filter(h -> !h.isEmpty() && !isWildcard(h)).forEach(names::add);
        names.addAll(List.of("127.0.0.1", "::1", "localhost"));
        try {
            var caCertFile = dir.resolve(CA_CERT);
            var caKeyFile = dir.resolve(CA_KEY);
            X509Certificate caCert;
            PrivateKey caKey;
            if (Files.exists(caCertFile) && Files.exists(caKeyFile)) {
                caCert = readCertificate(caCertFile);
                caKey = readKey(caKeyFile);
            } else {
                var pair = newKeyPair();
                caCert = caCertificate(pair);
                caKey = pair.getPrivate();
                writeKey(caKeyFile, caKey);
                writePem(caCertFile, caCert);
            }
            var serverCertFile = dir.resolve(SERVER_CERT);
            var serverKeyFile = dir.resolve(SERVER_KEY);
            if (!Files.exists(serverCertFile) || !Files.exists(serverKeyFile)
                    || !coversExactly(readCertificate(serverCertFile), names, caCert)) {
                var pair = newKeyPair();
                var server = serverCertificate(pair, names, caCert, caKey);
                Files.deleteIfExists(serverKeyFile);
                writeKey(serverKeyFile, pair.getPrivate());
                writePem(serverCertFile, server);
            }
            return new AttachTls(serverCertFile, serverKeyFile, caCertFile);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("the Attach TLS certificates under " + dir + " could not be made: " + e.getMessage(), e);
        }
    }

    private static X509Certificate caCertificate(KeyPair pair) throws GeneralSecurityException, OperatorCreationException,
            IOException {
        var name = new X500Name("CN=Nomad Shell Attach CA");
        var now = Instant.now();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(CA_LIFETIME)), name, pair.getPublic());
        var extensions = new JcaX509ExtensionUtils();
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        builder.addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(pair.getPublic()));
        return sign(builder, pair.getPrivate());
    }

    private static X509Certificate serverCertificate(KeyPair pair, Set<String> names, X509Certificate ca,
            PrivateKey caKey) throws GeneralSecurityException, OperatorCreationException, IOException {
        var now = Instant.now();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca, serial(),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(SERVER_LIFETIME)),
                new X500Name("CN=Nomad Shell Attach"), pair.getPublic());
        var extensions = new JcaX509ExtensionUtils();
        var alternatives = new ArrayList<GeneralName>();
        for (var name : names) {
            alternatives.add(isIpLiteral(name) ? new GeneralName(GeneralName.iPAddress, name)
                    : new GeneralName(GeneralName.dNSName, name));
        }
        builder.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(alternatives.toArray(GeneralName[]::new)));
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        builder.addExtension(Extension.authorityKeyIdentifier, false, extensions.createAuthorityKeyIdentifier(ca));
        return sign(builder, caKey);
    }

    /** Whether {@code certificate} is still good for a while, was signed by {@code ca} and names exactly {@code names}. */
    private static boolean coversExactly(X509Certificate certificate, Set<String> names, X509Certificate ca)
            throws GeneralSecurityException {
        try {
            certificate.verify(ca.getPublicKey());
            certificate.checkValidity(Date.from(Instant.now().plus(Duration.ofDays(30))));
        } catch (GeneralSecurityException e) {
            return false;
        }
        var present = new LinkedHashSet<String>();
        var alternatives = certificate.getSubjectAlternativeNames();
        if (alternatives != null) {
            for (List<?> entry : alternatives) {
                present.add(canonical(String.valueOf(entry.get(1))));
            }
        }
        var wanted = new LinkedHashSet<String>();
        names.forEach(name -> wanted.add(canonical(name)));
        return present.equals(wanted);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
            throws GeneralSecurityException, OperatorCreationException {
        var signer = new JcaContentSignerBuilder(SIGNATURE).build(key);
        return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    }

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        var generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256, RANDOM);
        return generator.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }

    private static void writePem(Path file, Object object) throws IOException {
        var text = new StringWriter();
        try (var writer = new JcaPEMWriter(text)) {
            writer.writeObject(object);
        }
        Files.writeString(file, text.toString());
    }

    /** Created with mode 0600 before a byte of the key is written. */
    private static void writeKey(Path file, PrivateKey key) throws IOException {
        var text = new StringWriter();
        try (var writer = new JcaPEMWriter(text)) {
            writer.writeObject(new JcaPKCS8Generator(key, null));
        }
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, text.toString());
    }

    private static X509Certificate readCertificate(Path file) throws IOException, GeneralSecurityException {
        try (var in = Files.newInputStream(file)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    private static PrivateKey readKey(Path file) throws IOException {
        try (var parser = new PEMParser(new StringReader(Files.readString(file)))) {
            var object = parser.readObject();
            if (!(object instanceof PrivateKeyInfo info)) {
                throw new IOException(file + " holds no PKCS#8 private key");
            }
            return new JcaPEMKeyConverter().getPrivateKey(info);
        }
    }

    /** A host as a certificate names it: no brackets around an IPv6 literal. */
    private static String bare(String host) {
        var stripped = host.strip();
        return stripped.startsWith("[") && stripped.endsWith("]") ? stripped.substring(1, stripped.length() - 1) : stripped;
    }

    private static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("*");
    }

    private static boolean isIpLiteral(String host) {
        return IPV4.matcher(host).matches() || host.contains(":");
    }

    /** IP literals compared as addresses ("::1" and "0:0:0:0:0:0:0:1" are one), names case-insensitively. */
    private static String canonical(String name) {
        if (isIpLiteral(name)) {
            try {
                return InetAddress.getByName(name).getHostAddress();
            } catch (UnknownHostException e) {
                return name;
            }
        }
        return name.toLowerCase(Locale.ROOT);
    }
}
