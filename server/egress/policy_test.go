package egress

import (
	"errors"
	"net"
	"strings"
	"testing"
)

// cidrs parses networks as config.WebhookAllowedNetworks does.
func cidrs(t *testing.T, ss ...string) []*net.IPNet {
	t.Helper()
	var out []*net.IPNet
	for _, s := range ss {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// reasonOf returns the refusal's reason, "" for nil, or fails the test for
// another error.
func reasonOf(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var r *Refusal
	if !errors.As(err, &r) {
		t.Fatalf("error %v is not a *Refusal", err)
	}
	return r.Reason
}

func TestCheckURLDefaultPolicy(t *testing.T) {
	tests := []struct {
		url  string
		want string // reason; "" = allowed
	}{
		// Public destinations.
		{"https://example.com/hooks/payments", ""},
		{"http://example.com:8080/h?x=1", ""},
		{"https://EXAMPLE.com./h", ""},
		{"http://93.184.215.14/", ""},
		{"http://1.1.1.1:443/", ""},
		{"https://[2606:4700::1111]/", ""},
		{"http://[64:ff9b::5db8:d70e]/", ""}, // NAT64 of 93.184.215.14
		{"https://한국.kr/hook", ""},
		{"https://xn--3e0b707e.kr/hook", ""},
		{"http://metadata.example.com/", ""},
		{"http://localhost.example.com/", ""},

		// Loopback in every spelling.
		{"http://127.0.0.1/", "loopback address"},
		{"http://127.0.0.1:37820/", "loopback address"},
		{"http://127.255.255.254/", "loopback address"},
		{"http://127.0.0.1./", "loopback address"},
		{"http://127.0.0.%31/", "malformed URL"}, // net/url refuses ASCII escapes in hosts
		{"http://１２７．０．０．１/", "loopback address"},
		{"http://[::1]/", "loopback address"},
		{"http://[0:0:0:0:0:0:0:1]:9090/", "loopback address"},
		{"http://[::ffff:127.0.0.1]/", "loopback address"},
		{"http://[::ffff:7f00:1]/", "loopback address"},
		{"http://[64:ff9b::7f00:1]/", "loopback address"},
		{"http://[2002:7f00:1::1]/", "loopback address"},
		{"http://2130706433/", "loopback address"},
		{"http://0x7f000001/", "loopback address"},
		{"http://0X7F000001/", "loopback address"},
		{"http://017700000001/", "loopback address"},
		{"http://0177.0.0.1/", "loopback address"},
		{"http://0x7f.0.0.1/", "loopback address"},
		{"http://127.1/", "loopback address"},
		{"http://127.0.1/", "loopback address"},
		{"http://localhost/", "loopback name"},
		{"http://LocalHost.:8080/", "loopback name"},
		{"http://api.localhost/", "loopback name"},

		// Unspecified (reaches the host itself).
		{"http://0.0.0.0/", "unspecified address"},
		{"http://0/", "unspecified address"},
		{"http://0.0.0.1/", "unspecified address"},
		{"http://[::]/", "unspecified address"},
		{"http://[::ffff:0.0.0.0]/", "unspecified address"},

		// Private and local networks.
		{"http://10.0.0.5/", "private address"},
		{"http://167772165/", "private address"},
		{"http://172.16.0.1/", "private address"},
		{"http://172.31.255.255/", "private address"},
		{"http://192.168.1.1/", "private address"},
		{"http://0xc0a80101/", "private address"},
		{"http://[::ffff:192.168.1.1]/", "private address"},
		{"http://[64:ff9b::a00:1]/", "private address"},
		{"http://100.64.0.1/", "shared (CGNAT) address"},
		{"http://100.127.255.254/", "shared (CGNAT) address"},
		{"http://169.254.1.1/", "link-local address"},
		{"http://[fe80::1]/", "link-local address"},
		{"http://[fe80::1%25eth0]/", "link-local address"},
		{"http://[fd00::1]/", "unique-local address"},
		{"http://[fc00::1]/", "unique-local address"},

		// Cloud metadata.
		{"http://169.254.169.254/latest/meta-data/", "cloud metadata endpoint"},
		{"http://2852039166/", "cloud metadata endpoint"},
		{"http://[::ffff:169.254.169.254]/", "cloud metadata endpoint"},
		{"http://169.254.170.2/v2/credentials", "cloud metadata endpoint"},
		{"http://[fd00:ec2::254]/", "cloud metadata endpoint"},
		{"http://100.100.100.200/", "cloud metadata endpoint"},
		{"http://192.0.0.192/", "cloud metadata endpoint"},
		{"http://metadata.google.internal/computeMetadata/v1/", "cloud metadata endpoint"},
		{"http://Metadata.Google.Internal./", "cloud metadata endpoint"},
		{"http://metadata/", "cloud metadata endpoint"},
		{"http://metadata.goog/", "cloud metadata endpoint"},
		{"http://instance-data/", "cloud metadata endpoint"},

		// Multicast, broadcast, documentation and reserved.
		{"http://224.0.0.1/", "multicast address"},
		{"http://239.255.255.250/", "multicast address"},
		{"http://[ff02::1]/", "multicast address"},
		{"http://255.255.255.255/", "broadcast address"},
		{"http://240.0.0.1/", "reserved address"},
		{"http://192.0.2.10/", "documentation address"},
		{"http://198.51.100.10/", "documentation address"},
		{"http://203.0.113.10/", "documentation address"},
		{"http://[2001:db8::1]/", "documentation address"},
		{"http://198.18.0.1/", "benchmarking address"},
		{"http://192.0.0.8/", "IETF protocol address"},
		{"http://[2001::1]/", "IETF protocol address"}, // Teredo
		{"http://[::127.0.0.1]/", "reserved address"},  // IPv4-compatible
		{"http://[100::1]/", "reserved address"},
		{"http://[4000::1]/", "reserved address"},
		{"http://[64:ff9b:1::a00:1]/", "local NAT64 address"},

		// Hosts that look like IPv4 addresses but are none.
		{"http://1.2.3.256/", "malformed IPv4 address"},
		{"http://1.2.3.4.5/", "malformed IPv4 address"},
		{"http://4294967296/", "malformed IPv4 address"},
		{"http://08.0.0.1/", "malformed IPv4 address"},
		{"http://example.123/", "malformed IPv4 address"},
		{"http://0x1g/", ""}, // not a number: a (bad, unresolvable) name

		// The URL's form.
		{"ftp://example.com/", "scheme other than http or https"},
		{"file:///etc/passwd", "scheme other than http or https"},
		{"gopher://example.com:70/", "scheme other than http or https"},
		{"javascript:alert(1)", "scheme other than http or https"},
		{"//example.com/", "scheme other than http or https"},
		{"HTTP://example.com/", ""},
		{"http:example.com", "malformed URL"},
		{"http://exa mple.com/", "malformed URL"},
		{"http://user:pass@example.com/", "user information"},
		{"http://user@example.com/", "user information"},
		{"http://example.com@127.0.0.1/", "user information"},
		{"http://example.com:0/", "port out of range"},
		{"http://example.com:65536/", "port out of range"},
		{"http://example.com:99999999999999999999/", "port out of range"},
		{"http:///hook", "missing host"},
		{"http://:8080/hook", "missing host"},
	}
	p := New(Options{})
	for _, tt := range tests {
		err := p.CheckURL(tt.url)
		if got := reasonOf(t, err); got != tt.want {
			t.Errorf("CheckURL(%q) = %v, want reason %q", tt.url, err, tt.want)
		}
	}
}

func TestCheckURLOptions(t *testing.T) {
	tests := []struct {
		name string
		opts func(t *testing.T) Options
		url  string
		want string
	}{
		{"allowed loopback", func(t *testing.T) Options { return Options{Allowed: cidrs(t, "127.0.0.0/8")} }, "http://127.0.0.1:9/", ""},
		{"allowed loopback, short form", func(t *testing.T) Options { return Options{Allowed: cidrs(t, "127.0.0.0/8")} }, "http://127.1:9/", ""},
		{"allowed loopback, mapped", func(t *testing.T) Options { return Options{Allowed: cidrs(t, "127.0.0.0/8")} }, "http://[::ffff:127.0.0.1]/", ""},
		{"allowed loopback, not IPv6 ::1", func(t *testing.T) Options { return Options{Allowed: cidrs(t, "127.0.0.0/8")} }, "http://[::1]/", "loopback address"},
		{"allowed network names no hosts", func(t *testing.T) Options { return Options{Allowed: cidrs(t, "127.0.0.0/8")} }, "http://localhost/", "loopback name"},
		{"allowed private", func(t *testing.T) Options { return Options{Allowed: cidrs(t, "10.0.0.0/8", "fd00::/8")} }, "http://10.1.2.3:8080/", ""},
		{"allowed unique-local", func(t *testing.T) Options { return Options{Allowed: cidrs(t, "10.0.0.0/8", "fd00::/8")} }, "http://[fd12::1]/", ""},
		{"mapped allowed network", func(t *testing.T) Options { return Options{Allowed: cidrs(t, "::ffff:10.0.0.0/104")} }, "http://10.9.9.9/", ""},
		{"outside the allowed network", func(t *testing.T) Options { return Options{Allowed: cidrs(t, "10.0.0.0/8")} }, "http://192.168.0.1/", "private address"},
		{"metadata never allowed", func(t *testing.T) Options { return Options{Allowed: cidrs(t, "169.254.0.0/16", "0.0.0.0/0")} }, "http://169.254.169.254/", "cloud metadata endpoint"},
		{"metadata name never allowed", func(t *testing.T) Options { return Options{Allowed: cidrs(t, "0.0.0.0/0"), Loopback: true} }, "http://metadata.google.internal/", "cloud metadata endpoint"},
		{"unspecified never allowed", func(t *testing.T) Options { return Options{Allowed: cidrs(t, "0.0.0.0/0", "::/0")} }, "http://0.0.0.0/", "unspecified address"},
		{"unspecified v6 never allowed", func(t *testing.T) Options { return Options{Allowed: cidrs(t, "::/0")} }, "http://[::]/", "unspecified address"},
		{"loopback option", func(t *testing.T) Options { return Options{Loopback: true} }, "http://127.0.0.1:37821/payments/internal/webhook", ""},
		{"loopback option, v6", func(t *testing.T) Options { return Options{Loopback: true} }, "http://[::1]:3000/", ""},
		{"loopback option, name", func(t *testing.T) Options { return Options{Loopback: true} }, "http://localhost:3000/", ""},
		{"loopback option, decimal", func(t *testing.T) Options { return Options{Loopback: true} }, "http://2130706433/", ""},
		{"loopback option, private", func(t *testing.T) Options { return Options{Loopback: true} }, "http://10.0.0.1/", "private address"},
		{"loopback option, metadata", func(t *testing.T) Options { return Options{Loopback: true} }, "http://169.254.169.254/", "cloud metadata endpoint"},
		{"loopback option, form", func(t *testing.T) Options { return Options{Loopback: true} }, "http://u:p@127.0.0.1/", "user information"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New(tt.opts(t)).CheckURL(tt.url)
			if got := reasonOf(t, err); got != tt.want {
				t.Errorf("CheckURL(%q) = %v, want reason %q", tt.url, err, tt.want)
			}
		})
	}
}

func TestNilPolicyIsDefault(t *testing.T) {
	var p *Policy
	if got := reasonOf(t, p.CheckURL("http://127.0.0.1/")); got != "loopback address" {
		t.Errorf("nil policy: CheckURL(loopback) reason = %q, want loopback address", got)
	}
	if err := p.CheckURL("https://example.com/"); err != nil {
		t.Errorf("nil policy: CheckURL(public) = %v, want nil", err)
	}
}

func TestRefusalOmitsURL(t *testing.T) {
	const url = "http://user:s3cret@127.0.0.1:9/hook?token=t0ken"
	for _, p := range []*Policy{New(Options{}), New(Options{Loopback: true})} {
		err := p.CheckURL(url)
		if err == nil {
			t.Fatalf("CheckURL(%q) = nil, want a refusal", url)
		}
		if msg := err.Error(); strings.Contains(msg, "s3cret") || strings.Contains(msg, "t0ken") || strings.Contains(msg, "/hook") {
			t.Errorf("CheckURL(%q) = %q, which repeats the URL", url, msg)
		}
	}
}

func TestParseIPv4Loose(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" = not an address
	}{
		{"1.2.3.4", "1.2.3.4"},
		{"0", "0.0.0.0"},
		{"0x", "0.0.0.0"},
		{"4294967295", "255.255.255.255"},
		{"4294967296", ""},
		{"1.16777215", "1.255.255.255"},
		{"1.16777216", ""},
		{"1.2.65535", "1.2.255.255"},
		{"1.2.65536", ""},
		{"256.1", ""},
		{"010.010.010.010", "8.8.8.8"},
		{"0xA.0xb.0XC.0xd", "10.11.12.13"},
		{"09", ""},
		{"1..2", ""},
		{"", ""},
		{"+1", ""},
		{"1.2.3.4.5", ""},
		{"example.com", ""},
	}
	for _, tt := range tests {
		a, ok := parseIPv4Loose(tt.in)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tt.want {
			t.Errorf("parseIPv4Loose(%q) = %q, %v, want %q", tt.in, got, ok, tt.want)
		}
	}
}
