package sysctl

import (
	"errors"
	"fmt"
	"strings"
)

// A Key names one sysctl as a '/'-separated path relative to the sysctl root,
// for example "net/ipv4/conf/eth0.100/arp_ignore".
type Key string

// Keys used around LVS directors and real servers.
const (
	IPForward                 Key = "net/ipv4/ip_forward"
	IPv6Forward               Key = "net/ipv6/conf/all/forwarding"
	VSConntrack               Key = "net/ipv4/vs/conntrack"
	VSConnReuseMode           Key = "net/ipv4/vs/conn_reuse_mode"
	VSExpireNodestConn        Key = "net/ipv4/vs/expire_nodest_conn"
	VSExpireQuiescentTemplate Key = "net/ipv4/vs/expire_quiescent_template"
	VSPMTUDisc                Key = "net/ipv4/vs/pmtu_disc"
)

// A Knob is the last component of a key under net/ipv4/conf/NAME or
// net/ipv6/conf/NAME.
type Knob string

// Conf knobs with a known combination rule.
const (
	Forwarding      Knob = "forwarding"
	ArpIgnore       Knob = "arp_ignore"
	ArpAnnounce     Knob = "arp_announce"
	ArpNotify       Knob = "arp_notify"
	ArpFilter       Knob = "arp_filter"
	RPFilter        Knob = "rp_filter"
	SendRedirects   Knob = "send_redirects"
	AcceptRedirects Knob = "accept_redirects"
	ProxyARP        Knob = "proxy_arp"
	AcceptLocal     Knob = "accept_local"
	LogMartians     Knob = "log_martians"
)

// The two pseudo-interfaces of every conf tree.
const (
	All     = "all"
	Default = "default"
)

// Conf-tree prefixes.
const (
	ipv4Conf = "net/ipv4/conf/"
	ipv6Conf = "net/ipv6/conf/"
)

// ConfKey returns net/ipv4/conf/IFACE/KNOB. iface may be All or Default.
// The name is not validated here; FS refuses keys that would leave the tree,
// and ValidInterfaceName checks a name the way the kernel does.
func ConfKey(iface string, knob Knob) Key {
	return Key(ipv4Conf + iface + "/" + string(knob))
}

// Conf6Key returns net/ipv6/conf/IFACE/KNOB.
func Conf6Key(iface string, knob Knob) Key {
	return Key(ipv6Conf + iface + "/" + string(knob))
}

// VSKey returns net/ipv4/vs/NAME. These keys exist only while the ip_vs
// module is loaded.
func VSKey(name string) Key {
	return Key("net/ipv4/vs/" + name)
}

// Conf splits a conf-tree key into its family (4 or 6), interface and knob.
// ok is false for keys outside net/ipv{4,6}/conf.
func (k Key) Conf() (family int, iface string, knob Knob, ok bool) {
	s := string(k)
	switch {
	case strings.HasPrefix(s, ipv4Conf):
		family, s = 4, s[len(ipv4Conf):]
	case strings.HasPrefix(s, ipv6Conf):
		family, s = 6, s[len(ipv6Conf):]
	default:
		return 0, "", "", false
	}
	iface, rest, found := strings.Cut(s, "/")
	if !found || iface == "" || rest == "" || strings.Contains(rest, "/") {
		return 0, "", "", false
	}
	return family, iface, Knob(rest), true
}

// String returns the key in path notation.
func (k Key) String() string { return string(k) }

// Dotted returns the key in sysctl(8) notation: components joined by '.',
// with dots inside a component (as in VLAN interface names) written as '/'.
// Both sysctl(8) and systemd-sysctl read this form back as the same key.
func (k Key) Dotted() string {
	parts := strings.Split(string(k), "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(p, ".", "/")
	}
	return strings.Join(parts, ".")
}

// ParseKey accepts a key in either notation: "net.ipv4.conf.eth0/100.rp_filter"
// or "net/ipv4/conf/eth0.100/rp_filter". As in sysctl(8), the first separator
// decides: a '/' means path notation, anything else dotted notation.
func ParseKey(name string) (Key, error) {
	if name == "" {
		return "", errors.New("empty sysctl name")
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("sysctl name %q: give it relative to /proc/sys", name)
	}
	path := name
	if i := strings.IndexAny(name, "./"); i >= 0 && name[i] == '.' {
		path = strings.Map(func(r rune) rune {
			switch r {
			case '.':
				return '/'
			case '/':
				return '.'
			}
			return r
		}, name)
	}
	k := Key(path)
	if err := k.validate(); err != nil {
		return "", fmt.Errorf("sysctl name %q: %w", name, err)
	}
	return k, nil
}

// validate refuses keys that are empty, absolute, or that could step outside
// the sysctl root.
func (k Key) validate() error {
	if k == "" {
		return errors.New("empty key")
	}
	for _, c := range strings.Split(string(k), "/") {
		switch c {
		case "":
			return errors.New("empty path component")
		case ".", "..":
			return fmt.Errorf("path component %q not allowed", c)
		}
	}
	return nil
}

// maxInterfaceName is IFNAMSIZ minus the terminating NUL.
const maxInterfaceName = 15

// ValidInterfaceName reports whether the kernel would accept name as a
// network device name (dev_valid_name): 1 to 15 bytes, not "." or "..",
// without '/', ':' or white space. "all" and "default" are refused too: they
// are the conf tree's pseudo-interfaces.
func ValidInterfaceName(name string) error {
	switch {
	case name == "":
		return errors.New("empty interface name")
	case len(name) > maxInterfaceName:
		return fmt.Errorf("interface name %q is longer than %d bytes", name, maxInterfaceName)
	case name == "." || name == "..":
		return fmt.Errorf("interface name %q is not allowed", name)
	case name == All || name == Default:
		return fmt.Errorf("%q is a conf pseudo-interface, not a device", name)
	case strings.ContainsAny(name, "/: \t\n\v\f\r"):
		return fmt.Errorf("interface name %q contains '/', ':' or white space", name)
	}
	return nil
}
