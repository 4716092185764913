//go:build !linux

package hostsetup

import (
	"errors"
	"net/netip"
)

// errNeedsLinux is what the host setup answers elsewhere: it is made of
// rtnetlink, /proc/sys and Linux network namespaces.
var errNeedsLinux = errors.New("host setup needs Linux (rtnetlink, /proc/sys and network namespaces)")

func dialNetwork() (network, error) { return nil, errNeedsLinux }

func (p packetAnnouncer) Announce(link Link, ip netip.Addr, router bool) error { return errNeedsLinux }
