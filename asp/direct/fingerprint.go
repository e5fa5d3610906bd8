package direct

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Fingerprint is the SHA-256 hash of a certificate's DER encoding. A connection ticket
// carries the server's fingerprint so that a client can pin the server without a CA.
type Fingerprint [sha256.Size]byte

// CertificateFingerprint returns the fingerprint of the leaf (first) certificate of cert.
// The zero Fingerprint is returned when cert holds no certificate.
func CertificateFingerprint(cert tls.Certificate) Fingerprint {
	if len(cert.Certificate) == 0 {
		return Fingerprint{}
	}
	return sha256.Sum256(cert.Certificate[0])
}

// String renders f as upper-case hex bytes separated by colons, the form SDP uses
// ("AB:CD:...").
func (f Fingerprint) String() string {
	var b strings.Builder
	b.Grow(len(f)*3 - 1)
	for i, c := range f {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}

// IsZero reports whether f is the zero value (no fingerprint).
func (f Fingerprint) IsZero() bool { return f == Fingerprint{} }

// ParseFingerprint parses a SHA-256 fingerprint written as 64 hex digits, optionally
// separated by colons (either case), as String renders it.
func ParseFingerprint(s string) (Fingerprint, error) {
	var f Fingerprint
	raw, err := hex.DecodeString(strings.ReplaceAll(s, ":", ""))
	if err != nil {
		return f, fmt.Errorf("direct: parse fingerprint: %w", err)
	}
	if len(raw) != len(f) {
		return f, fmt.Errorf("direct: parse fingerprint: %d bytes, want %d", len(raw), len(f))
	}
	copy(f[:], raw)
	return f, nil
}

// verifyFingerprint returns a certificate verification callback (crypto/tls and
// pion/dtls share its signature) that accepts exactly the leaf certificate with
// fingerprint want.
func verifyFingerprint(want Fingerprint) func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
	return func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
		if len(rawCerts) == 0 {
			return fmt.Errorf("%w: the server sent no certificate", ErrFingerprint)
		}
		got := Fingerprint(sha256.Sum256(rawCerts[0]))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			return fmt.Errorf("%w: server certificate is %s, want %s", ErrFingerprint, got, want)
		}
		return nil
	}
}

// GenerateCertificate creates a self-signed ECDSA P-256 certificate for a direct
// server, valid from now for validity (a year when validity ≤ 0). Clients pin it by
// its Fingerprint.
func GenerateCertificate(commonName string, validity time.Duration) (tls.Certificate, error) {
	if validity <= 0 {
		validity = 365 * 24 * time.Hour
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("direct: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("direct: serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	if commonName != "" {
		tmpl.DNSNames = []string{commonName}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("direct: create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("direct: parse certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// Sentinel errors. Errors returned by this package wrap them (errors.Is).
var (
	// ErrFingerprint: the server's certificate does not have the pinned fingerprint.
	ErrFingerprint = errors.New("direct: server certificate fingerprint mismatch")
	// ErrClosed: the connection, channel or listener is closed (locally or by the peer).
	ErrClosed = errors.New("direct: closed")
	// ErrTooLarge: a message is larger than MaxMessageSize.
	ErrTooLarge = errors.New("direct: message too large")
	// ErrProtocol: the peer violated the channel-open handshake or the TCP framing.
	ErrProtocol = errors.New("direct: protocol violation")
	// ErrUnreachable: neither UDP nor TCP reached the server.
	ErrUnreachable = errors.New("direct: server unreachable")
)
