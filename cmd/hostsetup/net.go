package hostsetup

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/lvsadm/lvsadm/sysctl"
)

// Link is what the host setup needs to know about a network interface.
type Link struct {
	Index    int
	Name     string
	Up       bool // administratively up (IFF_UP)
	Loopback bool
	NoARP    bool // IFF_NOARP: tunnels and the like; nothing to announce
	MAC      net.HardwareAddr
}

// Address is one IP address on an interface.
type Address struct {
	Prefix netip.Prefix // the local address and its prefix length
	Link   string
	// Label is the IPv4 address label ("lo:0"). Empty means the kernel's
	// default, the interface name; IPv6 addresses have none.
	Label string
}

func (a Address) String() string {
	s := a.Prefix.String() + " dev " + a.Link
	if a.Label != "" {
		s += " label " + a.Label
	}
	return s
}

// network is the rtnetlink side of the host setup. The real one is rtnl;
// tests use an in-memory fake.
type network interface {
	Links() ([]Link, error)
	Addresses() ([]Address, error)
	AddAddress(a Address, link Link) error
	DeleteAddress(a Address, link Link) error
	SetLinkUp(link Link, up bool) error
	// AddIPIPTunnel asks for an ipip link called name, which makes the
	// kernel load the ipip module if needed. Loading the module creates the
	// fallback device tunl0 in every namespace, so asking for tunl0 then
	// fails with EEXIST; created reports whether this call made the link.
	AddIPIPTunnel(name string) (created bool, err error)
	DeleteLink(link Link) error
	Close() error
}

// announcer tells neighbours that an address now lives on a link: a
// gratuitous ARP for IPv4, an unsolicited neighbour advertisement for IPv6.
type announcer interface {
	Announce(link Link, ip netip.Addr, router bool) error
}

// parseVIP reads ADDR or ADDR/LEN; without a length the VIP is a host
// address (/32 or /128). IPv4-mapped IPv6 addresses are taken as IPv4.
func parseVIP(s string) (netip.Prefix, error) {
	if addr, _, ok := strings.Cut(s, "/"); ok {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("VIP %q: %w", s, err)
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return netip.Prefix{}, fmt.Errorf("VIP %q: an IPv4-mapped prefix needs at least /96", s)
			}
			return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96), nil
		}
		if p.Addr().Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("VIP %q: zones are not allowed", addr)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("VIP %q: not an IP address", s)
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("VIP %q: zones are not allowed", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// isHostPrefix reports whether p covers a single address.
func isHostPrefix(p netip.Prefix) bool { return p.Bits() == p.Addr().BitLen() }

// splitLabel reads the ifconfig-style "eth0:0" form: the device is the part
// before the first colon and the whole name is the IPv4 label.
func splitLabel(s string) (dev, label string, err error) {
	dev, _, hasLabel := strings.Cut(s, ":")
	if err := sysctl.ValidInterfaceName(dev); err != nil {
		return "", "", err
	}
	if hasLabel {
		if err := validLabel(dev, s); err != nil {
			return "", "", err
		}
		return dev, s, nil
	}
	return dev, "", nil
}

// validLabel checks an IPv4 address label: at most 15 bytes (IFNAMSIZ-1),
// printable, and starting with the device name and a colon so that
// ifconfig-style tools show it as an alias of dev.
func validLabel(dev, label string) error {
	switch {
	case len(label) > 15:
		return fmt.Errorf("label %q is longer than 15 bytes", label)
	case label == dev:
		return nil
	case !strings.HasPrefix(label, dev+":") || len(label) == len(dev)+1:
		return fmt.Errorf("label %q must be %s:SOMETHING", label, dev)
	case strings.ContainsAny(label, " \t\n/"):
		return fmt.Errorf("label %q contains white space or '/'", label)
	}
	return nil
}

// packetAnnouncer sends announcements through an AF_PACKET socket, a few
// times in case one is lost.
type packetAnnouncer struct {
	repeat int
	sleep  func()
}
