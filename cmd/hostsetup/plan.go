package hostsetup

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"

	"github.com/lvsadm/lvsadm/sysctl"
)

// Roles, each with its own entry in the state file.
const (
	roleDirector   = "director"
	roleRealServer = "realserver"
	roleARP        = "arp"
	roleForward    = "forward"
	roleRedirects  = "redirects"
	roleRPFilter   = "rpfilter"
)

func knownRole(r string) bool {
	switch r {
	case roleDirector, roleRealServer, roleARP, roleForward, roleRedirects, roleRPFilter:
		return true
	}
	return false
}

// Forwarding methods, ARP scopes and rp_filter modes.
const (
	modeNAT = "nat"
	modeDR  = "dr"
	modeTUN = "tun"

	scopeAll   = "all"
	scopeIface = "iface"

	rpLoose = "loose"
	rpOff   = "off"

	tunnelLink = "tunl0"
)

// settings are a role's options as given to up. They are recorded, so down
// and status need none.
type settings struct {
	Mode       string   `json:"mode,omitempty"`
	VIPs       []string `json:"vips,omitempty"`
	Iface      string   `json:"iface,omitempty"` // director: the interface that carries the VIP
	Label      string   `json:"label,omitempty"`
	Ifaces     []string `json:"ifaces,omitempty"` // director: facing the real servers; others: the interfaces to tune
	ARPScope   string   `json:"arp_scope,omitempty"`
	RPFilter   string   `json:"rp_filter,omitempty"`
	IPv6       bool     `json:"ipv6,omitempty"`
	NoAnnounce bool     `json:"no_announce,omitempty"`
}

func (s settings) vips() ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(s.VIPs))
	for _, v := range s.VIPs {
		p, err := parseVIP(v)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func families(vips []netip.Prefix) (v4, v6 bool) {
	for _, p := range vips {
		if p.Addr().Is4() {
			v4 = true
		} else {
			v6 = true
		}
	}
	return v4, v6
}

// procSys is the /proc/sys access the roles need; sysctl.FS provides it.
type procSys interface {
	Path(sysctl.Key) (string, error)
	Read(sysctl.Key) (string, error)
	Write(sysctl.Key, string) error
	Interfaces(family int) ([]string, error)
	Effective(sysctl.Key) (int, error)
	MayAffect(sysctl.Key) ([]sysctl.Key, error)
	Predict(sysctl.Key, string) ([]sysctl.Change, error)
}

// host is what the plan is made from: the sysctl tree and the links and
// addresses as they are now.
type host struct {
	sys   procSys
	links []Link
	addrs []Address
}

func observe(sys procSys, n network) (*host, error) {
	h := &host{sys: sys}
	return h, h.refresh(n)
}

func (h *host) refresh(n network) error {
	links, err := n.Links()
	if err != nil {
		return err
	}
	addrs, err := n.Addresses()
	if err != nil {
		return err
	}
	h.links, h.addrs = links, addrs
	return nil
}

func (h *host) link(name string) (Link, bool) {
	for _, l := range h.links {
		if l.Name == name {
			return l, true
		}
	}
	return Link{}, false
}

// addressesOf lists where ip is configured.
func (h *host) addressesOf(ip netip.Addr) []Address {
	var out []Address
	for _, a := range h.addrs {
		if a.Prefix.Addr() == ip {
			out = append(out, a)
		}
	}
	return out
}

type actionKind int

const (
	actSysctl  actionKind = iota // write key := target unless it holds a value in accept
	actTunnel                    // make sure the ipip link exists
	actLinkUp                    // bring link up
	actAddress                   // add addr, announcing it if asked
)

type action struct {
	kind     actionKind
	key      sysctl.Key
	target   string
	accept   []string
	link     string
	addr     Address
	announce bool
}

func setKey(key sysctl.Key, target string, accept ...string) action {
	return action{kind: actSysctl, key: key, target: target, accept: append([]string{target}, accept...)}
}

// usageError marks errors in what the user asked for (exit status 2).
type usageError struct{ error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// plan returns the actions that bring up role with s, in the order they must
// happen: forwarding before per-interface knobs (writing ip_forward rewrites
// them), ARP and rp_filter knobs before the VIP (so the host never answers
// or announces the VIP in between), the VIP last. It also checks everything
// that can be checked before a change is made.
func plan(role string, s settings, h *host) ([]action, error) {
	vips, err := s.vips()
	if err != nil {
		return nil, usageError{err}
	}
	var acts []action
	switch role {
	case roleDirector:
		acts, err = planDirector(s, vips, h)
	case roleRealServer:
		acts, err = planRealServer(s, vips, h)
	case roleARP:
		acts, err = arpActions(s.Ifaces, s.ARPScope, h)
	case roleForward:
		acts = forwardActions(true, s.IPv6)
	case roleRedirects:
		acts = redirectActions(s.Ifaces)
	case roleRPFilter:
		acts, err = planRPFilter(s, h)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		return nil, err
	}
	if err := preflight(acts, h); err != nil {
		return nil, err
	}
	return acts, nil
}

func planDirector(s settings, vips []netip.Prefix, h *host) ([]action, error) {
	if len(vips) == 0 {
		return nil, usagef("director needs at least one --vip")
	}
	v4, v6 := families(vips)
	var acts []action
	switch s.Mode {
	case modeNAT:
		acts = forwardActions(v4, v6)
	case modeDR, modeTUN:
		if s.Iface == "" {
			return nil, usagef("director --mode %s needs --iface, the interface that receives the clients' traffic", s.Mode)
		}
	default:
		return nil, usagef("director --mode must be nat, dr or tun, not %q", s.Mode)
	}
	// NAT replies and DR packets leave through the interface they came in
	// on; without this the director tells real servers and clients to
	// bypass it (ICMP redirect). Tunnelled packets are not forwarded.
	if v4 && s.Mode != modeTUN {
		acts = append(acts, redirectActions(uniq(append([]string{s.Iface}, s.Ifaces...)))...)
	}
	if s.Iface == "" {
		// NAT with no --iface: the VIP is an address the director already has.
		for _, p := range vips {
			if len(h.addressesOf(p.Addr())) == 0 {
				return nil, usagef("VIP %s is not configured on any interface; give --iface to add it", p.Addr())
			}
		}
		return acts, nil
	}
	for _, p := range vips {
		acts = append(acts, action{kind: actAddress, addr: Address{Prefix: p, Link: s.Iface, Label: s.Label}, announce: !s.NoAnnounce})
	}
	return acts, nil
}

func planRealServer(s settings, vips []netip.Prefix, h *host) ([]action, error) {
	if len(vips) == 0 {
		return nil, usagef("realserver needs at least one --vip")
	}
	v4, _ := families(vips)
	var acts []action
	vipLink := "lo"
	switch s.Mode {
	case modeDR:
	case modeTUN:
		for _, p := range vips {
			if !p.Addr().Is4() {
				return nil, usagef("realserver --mode tun uses the ipip tunnel tunl0, which carries IPv4 only; %s is IPv6", p.Addr())
			}
		}
		vipLink = tunnelLink
		acts = append(acts, action{kind: actTunnel, link: tunnelLink})
	case modeNAT:
		return nil, usagef("a NAT real server needs no host setup: its default route must point at the director")
	default:
		return nil, usagef("realserver --mode must be dr or tun, not %q", s.Mode)
	}
	if v4 {
		arp, err := arpActions(s.Ifaces, s.ARPScope, h)
		if err != nil {
			return nil, err
		}
		acts = append(acts, arp...)
	}
	if s.Mode == modeTUN {
		rp, err := rpFilterActions([]string{tunnelLink}, s.RPFilter, h)
		if err != nil {
			return nil, err
		}
		acts = append(acts, rp...)
		acts = append(acts, action{kind: actLinkUp, link: tunnelLink})
	}
	for _, p := range vips {
		acts = append(acts, action{kind: actAddress, addr: Address{Prefix: p, Link: vipLink, Label: s.Label}})
	}
	return acts, nil
}

func planRPFilter(s settings, h *host) ([]action, error) {
	ifaces := s.Ifaces
	if len(ifaces) == 0 {
		ifaces = []string{tunnelLink}
	}
	var acts []action
	if slices.Contains(ifaces, tunnelLink) {
		acts = append(acts, action{kind: actTunnel, link: tunnelLink})
	}
	rp, err := rpFilterActions(ifaces, s.RPFilter, h)
	return append(acts, rp...), err
}

// forwardActions turns on routing for the families asked for.
func forwardActions(v4, v6 bool) []action {
	var acts []action
	if v4 {
		acts = append(acts, setKey(sysctl.IPForward, "1"))
	}
	if v6 {
		acts = append(acts, setKey(sysctl.IPv6Forward, "1"))
	}
	return acts
}

// redirectActions silences ICMP redirects. send_redirects is all OR
// interface, so all must be 0 and so must each interface; default covers
// interfaces created later.
func redirectActions(ifaces []string) []action {
	acts := []action{
		setKey(sysctl.ConfKey(sysctl.All, sysctl.SendRedirects), "0"),
		setKey(sysctl.ConfKey(sysctl.Default, sysctl.SendRedirects), "0"),
	}
	for _, name := range uniq(ifaces) {
		acts = append(acts, setKey(sysctl.ConfKey(name, sysctl.SendRedirects), "0"))
	}
	return acts
}

// arpActions keeps a real server from answering ARP for the VIP (arp_ignore
// 1: reply only for addresses of the receiving interface; 2 is stricter and
// also fine) and from using it as ARP source (arp_announce 2). Both are
// max(all, interface): scope all sets conf/all, which then holds for every
// interface, and the listed interfaces as well; scope iface sets only the
// listed interfaces and leaves other interfaces' ARP behaviour alone.
func arpActions(ifaces []string, scope string, h *host) ([]action, error) {
	var targets []string
	switch scope {
	case scopeAll, "":
		targets = append([]string{sysctl.All}, ifaces...)
	case scopeIface:
		if len(ifaces) == 0 {
			return nil, usagef("--arp-scope iface needs --iface, the interfaces where ARP requests for the VIP arrive")
		}
		// max(all, interface) cannot drop below conf/all.
		all, err := readInt(h.sys, sysctl.ConfKey(sysctl.All, sysctl.ArpIgnore))
		if err != nil {
			return nil, err
		}
		if all > 2 {
			return nil, fmt.Errorf("conf/all/arp_ignore is %d and the kernel uses max(all, interface), "+
				"so no interface value gives 1 or 2; use --arp-scope all", all)
		}
		targets = ifaces
	default:
		return nil, usagef("--arp-scope must be all or iface, not %q", scope)
	}
	var acts []action
	for _, name := range uniq(targets) {
		acts = append(acts,
			setKey(sysctl.ConfKey(name, sysctl.ArpIgnore), "1", "2"),
			setKey(sysctl.ConfKey(name, sysctl.ArpAnnounce), "2"))
	}
	return acts, nil
}

// rpFilterActions lets decapsulated packets (client source, arriving on the
// tunnel but routed back through another interface) pass source validation.
// rp_filter is max(all, interface): loose mode (2) on the interface always
// wins over a strict all, so it touches nothing else; off (0) needs all=0
// too, which turns source validation off on every interface.
func rpFilterActions(ifaces []string, mode string, h *host) ([]action, error) {
	switch mode {
	case rpLoose, "":
		all, err := readInt(h.sys, sysctl.ConfKey(sysctl.All, sysctl.RPFilter))
		if err != nil {
			return nil, err
		}
		var acts []action
		for _, name := range uniq(ifaces) {
			a := setKey(sysctl.ConfKey(name, sysctl.RPFilter), "2")
			if all == 0 || all == 2 {
				a.accept = append(a.accept, "0") // max(all, 0) is already not strict
			}
			acts = append(acts, a)
		}
		return acts, nil
	case rpOff:
		acts := []action{setKey(sysctl.ConfKey(sysctl.All, sysctl.RPFilter), "0")}
		for _, name := range uniq(ifaces) {
			acts = append(acts, setKey(sysctl.ConfKey(name, sysctl.RPFilter), "0"))
		}
		return acts, nil
	}
	return nil, usagef("--rp-filter must be loose or off, not %q", mode)
}

func readInt(sys procSys, k sysctl.Key) (int, error) {
	s, err := sys.Read(k)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("sysctl %s: value %q is not an integer", k, s)
	}
	return n, nil
}

func uniq(names []string) []string {
	var out []string
	for _, n := range names {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// preflight checks what can be checked before anything changes, so that a
// refused up leaves the host as it was.
func preflight(acts []action, h *host) error {
	created := map[string]bool{}
	for _, a := range acts {
		switch a.kind {
		case actTunnel:
			created[a.link] = true
		case actLinkUp:
			if _, ok := h.link(a.link); !ok && !created[a.link] {
				return fmt.Errorf("interface %s does not exist", a.link)
			}
		case actSysctl:
			if _, iface, _, ok := a.key.Conf(); ok && created[iface] {
				continue // appears with the link
			}
			if _, err := h.sys.Read(a.key); err != nil {
				if errors.Is(err, os.ErrNotExist) {
					if _, iface, _, ok := a.key.Conf(); ok && iface != sysctl.All && iface != sysctl.Default {
						return fmt.Errorf("interface %s does not exist (no %s)", iface, a.key)
					}
				}
				return err
			}
		case actAddress:
			if err := checkAddress(a.addr, h, created[a.addr.Link]); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkAddress refuses VIPs that cannot be added as asked, before anything
// changes: unknown interface, a wider-than-host prefix on loopback (the
// kernel makes the whole prefix local), a label on IPv6, or the address
// already present elsewhere or differently.
func checkAddress(a Address, h *host, willExist bool) error {
	link, ok := h.link(a.Link)
	if !ok && !willExist {
		return fmt.Errorf("interface %s does not exist", a.Link)
	}
	if (link.Loopback || a.Link == "lo") && !isHostPrefix(a.Prefix) {
		return usagef("refusing %s on %s: on a loopback interface the kernel treats the whole %s as local, "+
			"so this host would stop reaching every other address in it; use /%d",
			a.Prefix, a.Link, a.Prefix.Masked(), a.Prefix.Addr().BitLen())
	}
	if a.Label != "" {
		if !a.Prefix.Addr().Is4() {
			return usagef("address labels exist for IPv4 only; drop the label for %s", a.Prefix.Addr())
		}
		if err := validLabel(a.Link, a.Label); err != nil {
			return usageError{err}
		}
	}
	for _, have := range h.addressesOf(a.Prefix.Addr()) {
		switch {
		case have.Link != a.Link:
			return fmt.Errorf("%s is already configured on %s (%s); remove it there first",
				a.Prefix.Addr(), have.Link, have)
		case have.Prefix.Bits() != a.Prefix.Bits() || have.Label != a.Label:
			return fmt.Errorf("%s is already on %s as %s, which differs from the requested %s",
				a.Prefix.Addr(), a.Link, have, a)
		}
	}
	return nil
}

// wantsOf lists the sysctl values a role relies on.
func wantsOf(acts []action) []want {
	var ws []want
	for _, a := range acts {
		if a.kind == actSysctl {
			ws = append(ws, want{Key: a.key, Accept: a.accept})
		}
	}
	return ws
}
