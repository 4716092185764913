package hostsetup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/jsimonetti/rtnetlink/v2"
	"golang.org/x/sys/unix"
)

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
