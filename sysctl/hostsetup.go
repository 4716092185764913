package sysctl

import "fmt"

// Where a host-setup conf knob may be written: conf/all, conf/default, or a
// real interface.
type confScope uint8

const (
	onAll confScope = 1 << iota
	onDefault
	onInterface
)

// hostSetupConf is lvsadm's host-setup key table: per family, the conf knobs
// its roles write and those the kernel changes when they do.
var hostSetupConf = map[int]map[Knob]confScope{
	4: {
		ArpIgnore:   onAll | onInterface, // arp, realserver
		ArpAnnounce: onAll | onInterface,
		RPFilter:    onAll | onInterface, // rpfilter, realserver --mode tun
		// redirects, director; interfaces also receive conf/default's value.
		SendRedirects: onAll | onDefault | onInterface,
		// ip_forward sets all, default and every interface's forwarding and
		// the opposite in all/accept_redirects.
		Forwarding:      onAll | onDefault | onInterface,
		AcceptRedirects: onAll,
	},
	6: {
		// forward --ipv6, an IPv6 NAT director; conf/all/forwarding sets
		// default's and every interface's.
		Forwarding: onAll | onDefault | onInterface,
	},
}

// CheckHostSetupKey returns an error unless k is a key lvsadm's host setup
// writes, or one the kernel changes as a side effect of such a write:
// net/ipv4/ip_forward and the conf knobs of the table above, on conf/all,
// conf/default or a valid interface name as the table allows. Callers that
// restore values from a file check every key with it, so that the file
// cannot direct a write anywhere else under /proc/sys.
func CheckHostSetupKey(k Key) error {
	if k == IPForward {
		return nil
	}
	family, iface, knob, ok := k.Conf()
	if !ok {
		return fmt.Errorf("sysctl %q is not a key lvsadm's host setup writes", string(k))
	}
	scope, ok := hostSetupConf[family][knob]
	if !ok {
		return fmt.Errorf("sysctl %q: lvsadm's host setup does not write %s", string(k), knob)
	}
	var need confScope
	switch iface {
	case All:
		need = onAll
	case Default:
		need = onDefault
	default:
		if err := ValidInterfaceName(iface); err != nil {
			return fmt.Errorf("sysctl %q: %w", string(k), err)
		}
		need = onInterface
	}
	if scope&need == 0 {
		return fmt.Errorf("sysctl %q: lvsadm's host setup does not write %s there", string(k), knob)
	}
	return nil
}
