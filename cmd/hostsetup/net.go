package hostsetup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/lvsadm/lvsadm/sysctl"
	"golang.org/x/sys/unix"
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

// rtnl is the network backed by rtnetlink.
type rtnl struct {
	c *rtnetlink.Conn
}

// dialNetwork opens an rtnetlink socket in the calling thread's network
// namespace.
func dialNetwork() (network, error) {
	c, err := rtnetlink.Dial(nil)
	if err != nil {
		return nil, fmt.Errorf("rtnetlink: %w", err)
	}
	return &rtnl{c: c}, nil
}

func (r *rtnl) Close() error { return r.c.Close() }

func (r *rtnl) Links() ([]Link, error) {
	msgs, err := r.c.Link.List()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	links := make([]Link, 0, len(msgs))
	for _, m := range msgs {
		if m.Attributes == nil {
			continue
		}
		l := Link{
			Index:    int(m.Index),
			Name:     m.Attributes.Name,
			Up:       m.Flags&unix.IFF_UP != 0,
			Loopback: m.Flags&unix.IFF_LOOPBACK != 0,
			NoARP:    m.Flags&unix.IFF_NOARP != 0,
		}
		if len(m.Attributes.Address) == 6 {
			l.MAC = m.Attributes.Address
		}
		links = append(links, l)
	}
	return links, nil
}

func (r *rtnl) Addresses() ([]Address, error) {
	links, err := r.Links()
	if err != nil {
		return nil, err
	}
	names := make(map[int]string, len(links))
	for _, l := range links {
		names[l.Index] = l.Name
	}
	msgs, err := r.c.Address.List()
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	var addrs []Address
	for _, m := range msgs {
		if m.Attributes == nil {
			continue
		}
		// For IPv4, IFA_LOCAL is the address itself and IFA_ADDRESS the
		// peer on point-to-point links; IPv6 sends only IFA_ADDRESS.
		ip := m.Attributes.Local
		if ip == nil {
			ip = m.Attributes.Address
		}
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		a = a.Unmap()
		label := m.Attributes.Label
		name := names[int(m.Index)]
		if label == name {
			label = ""
		}
		addrs = append(addrs, Address{
			Prefix: netip.PrefixFrom(a, int(m.PrefixLength)),
			Link:   name,
			Label:  label,
		})
	}
	return addrs, nil
}

func addressMessage(a Address, link Link) *rtnetlink.AddressMessage {
	ip := net.IP(a.Prefix.Addr().AsSlice())
	m := &rtnetlink.AddressMessage{
		PrefixLength: uint8(a.Prefix.Bits()),
		Scope:        unix.RT_SCOPE_UNIVERSE,
		Index:        uint32(link.Index),
		Attributes:   &rtnetlink.AddressAttributes{Address: ip},
	}
	if a.Prefix.Addr().Is4() {
		m.Family = unix.AF_INET
		m.Attributes.Local = ip
		m.Attributes.Label = a.Label
	} else {
		m.Family = unix.AF_INET6
		// A VIP is shared by design; duplicate address detection would keep
		// it tentative (and unusable) for a second, or fail it outright.
		if !link.Loopback {
			m.Attributes.Flags = unix.IFA_F_NODAD
		}
	}
	return m
}

func (r *rtnl) AddAddress(a Address, link Link) error {
	if err := r.c.Address.New(addressMessage(a, link)); err != nil {
		return fmt.Errorf("add address %s: %w", a, err)
	}
	return nil
}

func (r *rtnl) DeleteAddress(a Address, link Link) error {
	if err := r.c.Address.Delete(addressMessage(a, link)); err != nil {
		return fmt.Errorf("delete address %s: %w", a, err)
	}
	return nil
}

func (r *rtnl) SetLinkUp(link Link, up bool) error {
	var flags uint32
	if up {
		flags = unix.IFF_UP
	}
	err := r.c.Link.Set(&rtnetlink.LinkMessage{
		Family: unix.AF_UNSPEC,
		Index:  uint32(link.Index),
		Flags:  flags,
		Change: unix.IFF_UP,
	})
	if err != nil {
		return fmt.Errorf("set link %s up=%v: %w", link.Name, up, err)
	}
	return nil
}

func (r *rtnl) AddIPIPTunnel(name string) (bool, error) {
	err := r.c.Link.New(&rtnetlink.LinkMessage{
		Family: unix.AF_UNSPEC,
		Attributes: &rtnetlink.LinkAttributes{
			Name: name,
			Info: &rtnetlink.LinkInfo{Kind: "ipip"},
		},
	})
	switch {
	case errors.Is(err, unix.EEXIST):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("create ipip link %s: %w", name, err)
	}
	return true, nil
}

func (r *rtnl) DeleteLink(link Link) error {
	if err := r.c.Link.Delete(uint32(link.Index)); err != nil {
		return fmt.Errorf("delete link %s: %w", link.Name, err)
	}
	return nil
}

// packetAnnouncer sends announcements through an AF_PACKET socket, a few
// times in case one is lost.
type packetAnnouncer struct {
	repeat int
	sleep  func()
}

func (p packetAnnouncer) Announce(link Link, ip netip.Addr, router bool) error {
	var (
		frame []byte
		proto uint16
		err   error
	)
	if ip.Is4() {
		frame, err = gratuitousARP(link.MAC, ip)
		proto = etherTypeARP
	} else {
		frame, err = unsolicitedNA(link.MAC, ip, router)
		proto = etherTypeIPv6
	}
	if err != nil {
		return err
	}
	// Protocol 0: this socket only sends and never receives a frame.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("announce %s on %s: packet socket: %w", ip, link.Name, err)
	}
	defer unix.Close(fd)
	to := &unix.SockaddrLinklayer{Protocol: htons(proto), Ifindex: link.Index, Halen: 6}
	copy(to.Addr[:], frame[0:6])
	for i := range p.repeat {
		if i > 0 && p.sleep != nil {
			p.sleep()
		}
		if err := unix.Sendto(fd, frame, 0, to); err != nil {
			return fmt.Errorf("announce %s on %s: %w", ip, link.Name, err)
		}
	}
	return nil
}

// htons puts v in network byte order, as sockaddr_ll.sll_protocol wants it.
func htons(v uint16) uint16 {
	return binary.NativeEndian.Uint16(binary.BigEndian.AppendUint16(nil, v))
}
