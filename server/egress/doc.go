// Package egress decides which destinations paymentctl may send webhook
// deliveries to, and dials only those. The same Policy is applied twice:
// when a service registers a webhook_url (Policy.CheckURL, so a bad URL is
// refused with a 400 before anything is stored) and when a delivery
// connects (Dialer, on the address actually dialed, so a name that
// resolves, or later re-resolves, to a refused address is refused without
// a connection: DNS rebinding gains nothing).
//
// A URL must be http or https, without user information, with a port
// from 1 to 65535 if it names one. Its host is refused when it is, or (at
// dial time) resolves to:
//
//   - an unspecified address (0.0.0.0/8, ::), loopback (127.0.0.0/8, ::1)
//     or the names localhost and *.localhost;
//   - private (10/8, 172.16/12, 192.168/16), shared CGNAT (100.64/10),
//     link-local (169.254/16, fe80::/10) or unique-local (fc00::/7);
//   - multicast, broadcast, documentation, benchmarking or reserved
//     ranges, IETF protocol assignments (192.0.0.0/24, 2001::/23, which
//     holds Teredo) and IPv6 outside 2000::/3;
//   - a cloud metadata endpoint: 169.254.169.254, 169.254.170.2,
//     fd00:ec2::254, 100.100.100.200, 192.0.0.192 and the names metadata,
//     metadata.google.internal, metadata.goog, instance-data and
//     instance-data.ec2.internal.
//
// IPv4 addresses are recognised in every form a resolver accepts: dotted,
// IPv4-mapped IPv6 (::ffff:127.0.0.1), and inet_aton's decimal, octal,
// hexadecimal and short forms (2130706433, 0x7f000001, 0177.0.0.1,
// 127.1); a host whose last label is a number but which is none of these
// is refused as malformed. An IPv4 address inside NAT64 (64:ff9b::/96) or
// 6to4 (2002::/16) is judged as that IPv4 address. Non-ASCII hosts are
// judged in their IDNA form, as net/http dials them.
//
// Options.Allowed lists networks reachable although otherwise refused
// (config webhook.allowed_networks); Options.Loopback allows loopback
// (local mode). Neither ever allows a metadata endpoint or an unspecified
// address (which reaches the host itself): no webhook receiver lives
// there.
//
// Host names other than the ones above pass CheckURL: a name's addresses
// are judged when it is dialed, every time it is dialed.
package egress
