package egress

import (
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Refusal is the error for a destination a Policy refuses.
type Refusal struct {
	// Dest is the refused address or host name; empty when the URL is
	// refused for its form (scheme, user information, port).
	Dest string
	// Reason names what was refused, e.g. "loopback address" or "user
	// information"; it never contains the URL.
	Reason string
}

// Error describes the refusal, destination included.
func (r *Refusal) Error() string {
	if r.Dest == "" {
		return "egress refused: " + r.Reason
	}
	return "egress refused " + r.Dest + ": " + r.Reason
}

// Options configures New.
type Options struct {
	// Allowed are networks that may be reached although their addresses
	// would be refused (config webhook.allowed_networks).
	Allowed []*net.IPNet
	// Loopback allows loopback addresses and the localhost names (local
	// mode, where services run on the same machine).
	Loopback bool
}

// Policy says which destinations webhook deliveries may reach; see the
// package documentation. A nil *Policy is the zero policy: nothing allowed
// beyond public addresses. It is safe for concurrent use.
type Policy struct {
	allowed  []netip.Prefix
	loopback bool
	never    []rangeRule // refused whatever is allowed
	refused  []rangeRule // refused unless allowed
}

// rangeRule names a range of addresses.
type rangeRule struct {
	prefix netip.Prefix
	reason string
}

// New returns the policy of o.
func New(o Options) *Policy {
	p := &Policy{loopback: o.Loopback, never: neverRanges(), refused: refusedRanges()}
	for _, n := range o.Allowed {
		if pr, ok := prefixOf(n); ok {
			p.allowed = append(p.allowed, pr)
		}
	}
	return p
}

// prefixOf converts n, reading an IPv4-mapped network as IPv4.
func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	addr, ok := netip.AddrFromSlice(n.IP)
	ones, bits := n.Mask.Size()
	if !ok || bits == 0 {
		return netip.Prefix{}, false
	}
	if addr.Is4In6() && ones >= 96 {
		addr, ones = addr.Unmap(), ones-96
	} else if addr.Is4() && bits == 128 {
		ones -= 96
	}
	return netip.PrefixFrom(addr, ones).Masked(), true
}

// neverRanges are the addresses no option allows.
func neverRanges() []rangeRule {
	return rules(
		"unspecified address", "0.0.0.0/32", "::/128",
		"cloud metadata endpoint", "169.254.169.254/32", "169.254.170.2/32", "fd00:ec2::254/128",
		"100.100.100.200/32", "192.0.0.192/32",
	)
}

// refusedRanges are the addresses refused unless allowed; the first
// match names the reason.
func refusedRanges() []rangeRule {
	return rules(
		"unspecified address", "0.0.0.0/8",
		"loopback address", "127.0.0.0/8", "::1/128",
		"private address", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
		"shared (CGNAT) address", "100.64.0.0/10",
		"link-local address", "169.254.0.0/16", "fe80::/10",
		"unique-local address", "fc00::/7",
		"multicast address", "224.0.0.0/4", "ff00::/8",
		"broadcast address", "255.255.255.255/32",
		"local NAT64 address", "64:ff9b:1::/48",
		"reserved address", "240.0.0.0/4", "192.88.99.0/24", "::/8", "100::/64", "5f00::/16",
		"IETF protocol address", "192.0.0.0/24", "2001::/23",
		"benchmarking address", "198.18.0.0/15",
		"documentation address", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20",
	)
}

// rules reads a list of reasons, each followed by its prefixes.
func rules(spec ...string) []rangeRule {
	var out []rangeRule
	reason := ""
	for _, s := range spec {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			reason = s
			continue
		}
		out = append(out, rangeRule{prefix: p, reason: reason})
	}
	return out
}

// CheckAddr returns a *Refusal if deliveries may not connect to a.
func (p *Policy) CheckAddr(a netip.Addr) error {
	if reason := p.refusal(a); reason != "" {
		return &Refusal{Dest: a.String(), Reason: reason}
	}
	return nil
}

// refusal returns why a is refused, or "".
func (p *Policy) refusal(a netip.Addr) string {
	if p == nil {
		p = New(Options{})
	}
	if !a.IsValid() {
		return "invalid address"
	}
	// A zone only scopes a link-local address; prefixes never match a
	// zoned address.
	a = a.WithZone("").Unmap()
	if r := match(p.never, a); r != "" {
		return r
	}
	if p.loopback && a.IsLoopback() {
		return ""
	}
	for _, allowed := range p.allowed {
		if allowed.Contains(a) {
			return ""
		}
	}
	if v4, ok := embeddedIPv4(a); ok {
		return p.refusal(v4)
	}
	if r := match(p.refused, a); r != "" {
		return r
	}
	if b := a.As16(); a.Is6() && b[0]&0xe0 != 0x20 {
		// Public IPv6 addresses are allocated in 2000::/3 only.
		return "reserved address"
	}
	return ""
}

// match returns the reason of the first rule containing a, or "".
func match(rs []rangeRule, a netip.Addr) string {
	for _, r := range rs {
		if r.prefix.Contains(a) {
			return r.reason
		}
	}
	return ""
}

// embeddedIPv4 returns the IPv4 address inside a NAT64 (64:ff9b::/96) or
// 6to4 (2002::/16) address, which the translator or relay connects to.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	switch {
	case [12]byte(b[:12]) == [12]byte{0, 0x64, 0xff, 0x9b}:
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case b[0] == 0x20 && b[1] == 0x02:
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// asciiHost returns host as net/http dials it: non-ASCII names in their
// IDNA form (fullwidth digits and dots become ASCII ones).
func asciiHost(host string) (string, error) {
	for i := 0; i < len(host); i++ {
		if host[i] >= utf8.RuneSelf {
			return idna.Lookup.ToASCII(host)
		}
	}
	return host, nil
}

// metadataName reports whether host names a cloud metadata service.
func metadataName(host string) bool {
	switch host {
	case "metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal":
		return true
	}
	return false
}

// CheckHost returns a *Refusal if deliveries may not go to host: an IP
// address in any form a resolver reads (see the package documentation)
// that CheckAddr refuses, a metadata or localhost name, or a malformed
// one. Other names pass; their addresses are checked when dialed.
func (p *Policy) CheckHost(host string) error {
	name, addr, reason := p.classify(host)
	if reason != "" {
		dest := name
		if addr.IsValid() {
			dest = addr.String()
		}
		return &Refusal{Dest: dest, Reason: reason}
	}
	return nil
}

// classify normalises host and returns it, its address if it is an IP
// address, and why it is refused ("" if it is not).
func (p *Policy) classify(host string) (string, netip.Addr, string) {
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "" {
		return name, netip.Addr{}, "missing host"
	}
	if a, err := netip.ParseAddr(name); err == nil {
		return name, a, p.refusal(a)
	}
	if a, ok := parseIPv4Loose(name); ok {
		return name, a, p.refusal(a)
	}
	switch {
	case endsInNumber(name):
		return name, netip.Addr{}, "malformed IPv4 address"
	case metadataName(name):
		return name, netip.Addr{}, "cloud metadata endpoint"
	case (name == "localhost" || strings.HasSuffix(name, ".localhost")) && (p == nil || !p.loopback):
		return name, netip.Addr{}, "loopback name"
	}
	return name, netip.Addr{}, ""
}

// CheckURL returns a *Refusal unless raw is an http or https URL, without
// user information, whose port (if any) is 1 to 65535 and whose host
// CheckHost accepts. The host is read as net/http dials it: percent
// decoded, in its IDNA ASCII form.
func (p *Policy) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return &Refusal{Reason: "malformed URL"}
	case u.Scheme != "http" && u.Scheme != "https":
		return &Refusal{Reason: "scheme other than http or https"}
	case u.Opaque != "":
		return &Refusal{Reason: "malformed URL"}
	case u.User != nil:
		return &Refusal{Reason: "user information"}
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return &Refusal{Reason: "port out of range"}
		}
	}
	host, err := asciiHost(u.Hostname())
	if err != nil {
		return &Refusal{Reason: "malformed host name"}
	}
	return p.CheckHost(host)
}
