package sysctl

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// A Rule says how the kernel combines conf/all/KNOB with conf/IFACE/KNOB into
// the value it acts on for IFACE (include/linux/inetdevice.h).
type Rule int

// Combination rules.
const (
	RuleUnknown   Rule = iota
	RuleInterface      // the interface's own value; all is not consulted
	RuleMax            // max(all, iface)
	RuleOr             // 1 if either is non-zero
	RuleAnd            // 1 if both are non-zero
	// RuleRedirects is accept_redirects: AND while the interface forwards,
	// OR while it does not.
	RuleRedirects
)

func (r Rule) String() string {
	switch r {
	case RuleInterface:
		return "interface only"
	case RuleMax:
		return "max(all, interface)"
	case RuleOr:
		return "all OR interface"
	case RuleAnd:
		return "all AND interface"
	case RuleRedirects:
		return "AND when forwarding, else OR"
	}
	return "unknown"
}

// ipv4Rules lists the IPv4 knobs whose rule this package knows.
var ipv4Rules = map[Knob]Rule{
	Forwarding:      RuleInterface,
	ArpIgnore:       RuleMax,
	ArpAnnounce:     RuleMax,
	ArpNotify:       RuleMax,
	RPFilter:        RuleMax,
	SendRedirects:   RuleOr,
	ArpFilter:       RuleOr,
	ProxyARP:        RuleOr,
	AcceptLocal:     RuleOr,
	LogMartians:     RuleOr,
	AcceptRedirects: RuleRedirects,
}

// RuleFor returns the combination rule of knob in the IPv4 (4) or IPv6 (6)
// conf tree. IPv6 knobs are per interface except where noted by the kernel;
// only forwarding is listed.
func RuleFor(family int, knob Knob) Rule {
	switch family {
	case 4:
		return ipv4Rules[knob]
	case 6:
		if knob == Forwarding {
			return RuleInterface
		}
	}
	return RuleUnknown
}

// Combine applies rule to the values of conf/all and conf/IFACE. For
// RuleRedirects use FS.Effective, which also needs the interface's
// forwarding value.
func Combine(rule Rule, all, iface int) (int, error) {
	switch rule {
	case RuleInterface:
		return iface, nil
	case RuleMax:
		return max(all, iface), nil
	case RuleOr:
		return boolInt(all != 0 || iface != 0), nil
	case RuleAnd:
		return boolInt(all != 0 && iface != 0), nil
	}
	return 0, fmt.Errorf("sysctl: cannot combine with rule %q", rule)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Effective returns the value the kernel acts on for the interface key k
// (net/ipv{4,6}/conf/IFACE/KNOB), combining it with conf/all as the kernel
// does. For all and default keys it returns the key's own value.
func (fs FS) Effective(k Key) (int, error) {
	family, iface, knob, ok := k.Conf()
	if !ok {
		return 0, fmt.Errorf("sysctl %s: not a conf-tree key", k)
	}
	own, err := fs.ReadInt(k)
	if err != nil || iface == All || iface == Default {
		return own, err
	}
	rule := RuleFor(family, knob)
	if rule == RuleUnknown {
		return 0, fmt.Errorf("sysctl %s: no known rule for combining %s with conf/all", k, knob)
	}
	if rule == RuleInterface {
		return own, nil
	}
	all, err := fs.ReadInt(confKey(family, All, knob))
	if err != nil {
		return 0, err
	}
	if rule == RuleRedirects {
		fwd, err := fs.ReadInt(confKey(family, iface, Forwarding))
		if err != nil {
			return 0, err
		}
		rule = RuleOr
		if fwd != 0 {
			rule = RuleAnd
		}
	}
	return Combine(rule, all, own)
}

func confKey(family int, iface string, knob Knob) Key {
	if family == 6 {
		return Conf6Key(iface, knob)
	}
	return ConfKey(iface, knob)
}

// propagatesDefault reports whether a write to conf/default/knob is copied to
// existing interfaces. The kernel does so for every knob handled by
// devinet_conf_proc; forwarding, mc_forwarding and the "flushing" knobs have
// other handlers that do not copy.
func propagatesDefault(family int, knob Knob) bool {
	if family != 4 {
		return false
	}
	switch knob {
	case Forwarding, "mc_forwarding", "disable_xfrm", "disable_policy",
		"promote_secondaries", "route_localnet", "drop_unicast_in_l2_multicast":
		return false
	}
	return true
}

// isForwardingSwitch reports whether writing k rewrites forwarding on every
// interface: net/ipv4/ip_forward (the same variable as conf/all/forwarding),
// conf/all/forwarding, and net/ipv6/conf/all/forwarding.
func isForwardingSwitch(k Key) (family int, ok bool) {
	switch k {
	case IPForward, ConfKey(All, Forwarding):
		return 4, true
	case IPv6Forward:
		return 6, true
	}
	return 0, false
}

// MayAffect lists every key, other than k itself, whose value the kernel may
// change when k is written, given the interfaces that exist now.
func (fs FS) MayAffect(k Key) ([]Key, error) {
	if family, ok := isForwardingSwitch(k); ok {
		var keys []Key
		if family == 4 {
			keys = append(keys, IPForward, ConfKey(All, Forwarding), ConfKey(All, AcceptRedirects))
		}
		keys = append(keys, confKey(family, Default, Forwarding))
		ifaces, err := fs.Interfaces(family)
		if err != nil {
			return nil, err
		}
		for _, name := range ifaces {
			keys = append(keys, confKey(family, name, Forwarding))
		}
		return without(keys, k), nil
	}
	family, iface, knob, ok := k.Conf()
	if !ok || iface != Default || !propagatesDefault(family, knob) {
		return nil, nil
	}
	ifaces, err := fs.Interfaces(family)
	if err != nil {
		return nil, err
	}
	keys := make([]Key, 0, len(ifaces))
	for _, name := range ifaces {
		keys = append(keys, confKey(family, name, knob))
	}
	return keys, nil
}

func without(keys []Key, k Key) []Key {
	out := keys[:0]
	for _, x := range keys {
		if x != k {
			out = append(out, x)
		}
	}
	return out
}

// A Change is one predicted side effect of a write.
type Change struct {
	Key  Key
	From string
	To   string
	// Conditional is set for conf/default propagation: the kernel copies the
	// value only to interfaces where the knob was never written explicitly,
	// and it does not say which ones those are.
	Conditional bool
}

// Predict describes the side effects of writing value to k, from the values
// the keys hold now. The write itself is not listed.
func (fs FS) Predict(k Key, value string) ([]Change, error) {
	candidates, err := fs.MayAffect(k)
	if err != nil || len(candidates) == 0 {
		return nil, err
	}
	newValue, err := strconv.Atoi(strings.TrimSpace(value))
	if err != nil {
		return nil, fmt.Errorf("sysctl %s: value %q is not an integer", k, value)
	}
	if family, ok := isForwardingSwitch(k); ok {
		old, err := fs.ReadInt(k)
		if err != nil {
			return nil, err
		}
		// devinet_sysctl_forward and addrconf_fixup_forwarding act only when
		// the value changes.
		if old == newValue {
			return nil, nil
		}
		var changes []Change
		for _, c := range candidates {
			to := value
			if family == 4 && c == ConfKey(All, AcceptRedirects) {
				to = strconv.Itoa(boolInt(newValue == 0))
			}
			changes, err = fs.appendChange(changes, c, to, false)
			if err != nil {
				return nil, err
			}
		}
		return changes, nil
	}
	var changes []Change
	for _, c := range candidates {
		changes, err = fs.appendChange(changes, c, value, true)
		if err != nil {
			return nil, err
		}
	}
	return changes, nil
}

// appendChange adds k → to unless k already holds to. Keys that vanished
// since they were listed (an interface went away) are skipped.
func (fs FS) appendChange(changes []Change, k Key, to string, conditional bool) ([]Change, error) {
	from, err := fs.Read(k)
	if errors.Is(err, os.ErrNotExist) {
		return changes, nil
	}
	if err != nil {
		return nil, err
	}
	if from == to {
		return changes, nil
	}
	return append(changes, Change{Key: k, From: from, To: to, Conditional: conditional}), nil
}
