package hostsetup

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/lvsadm/lvsadm/sysctl"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// check is one requirement of a role, judged on the value the kernel uses.
type check struct {
	kind   checkKind
	key    sysctl.Key // checkSysctl
	accept []int
	why    string // what goes wrong otherwise

	vip       netip.Prefix // checkVIP
	link      string       // checkVIP (empty: any interface), checkLinkUp
	label     string
	exclusive bool // checkVIP: the VIP must be on no other interface
}

type checkKind int

const (
	checkSysctl checkKind = iota
	checkVIP
	checkLinkUp
)

// checks lists what role with s needs, for the interfaces present now.
func checks(role string, s settings, h *host) ([]check, error) {
	vips, err := s.vips()
	if err != nil {
		return nil, usageError{err}
	}
	v4, v6 := families(vips)
	var cs []check
	switch role {
	case roleDirector:
		if s.Mode == modeNAT {
			cs = append(cs, forwardChecks(v4, v6)...)
		}
		if v4 && (s.Mode == modeNAT || s.Mode == modeDR) {
			rc, err := redirectChecks(uniq(append([]string{s.Iface}, s.Ifaces...)), h)
			if err != nil {
				return nil, err
			}
			cs = append(cs, rc...)
		}
		for _, p := range vips {
			cs = append(cs, check{kind: checkVIP, vip: p, link: s.Iface, label: s.Label})
		}
	case roleRealServer:
		vipLink := "lo"
		if s.Mode == modeTUN {
			vipLink = tunnelLink
		}
		if v4 {
			ac, err := arpChecks(s.Ifaces, h)
			if err != nil {
				return nil, err
			}
			cs = append(cs, ac...)
		}
		if s.Mode == modeTUN {
			cs = append(cs, rpFilterChecks([]string{tunnelLink}, s.RPFilter)...)
			cs = append(cs, check{kind: checkLinkUp, link: tunnelLink})
		}
		for _, p := range vips {
			cs = append(cs, check{kind: checkVIP, vip: p, link: vipLink, label: s.Label, exclusive: true})
		}
	case roleARP:
		return arpChecks(s.Ifaces, h)
	case roleForward:
		return forwardChecks(true, s.IPv6), nil
	case roleRedirects:
		return redirectChecks(s.Ifaces, h)
	case roleRPFilter:
		ifaces := s.Ifaces
		if len(ifaces) == 0 {
			ifaces = []string{tunnelLink}
		}
		return rpFilterChecks(ifaces, s.RPFilter), nil
	}
	return cs, nil
}

func forwardChecks(v4, v6 bool) []check {
	var cs []check
	if v4 {
		cs = append(cs, check{key: sysctl.IPForward, accept: []int{1},
			why: "a NAT director must route the real servers' replies back to the clients"})
	}
	if v6 {
		cs = append(cs, check{key: sysctl.IPv6Forward, accept: []int{1},
			why: "a NAT director must route the real servers' IPv6 replies back to the clients"})
	}
	return cs
}

// ethernetInterfaces lists the IPv4 interfaces where ARP and redirects
// matter: all but loopback and NOARP ones (tunnels).
func ethernetInterfaces(h *host) ([]string, error) {
	names, err := h.sys.Interfaces(4)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if l, ok := h.link(n); ok && (l.Loopback || l.NoARP) {
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

func arpChecks(ifaces []string, h *host) ([]check, error) {
	if len(ifaces) == 0 {
		var err error
		if ifaces, err = ethernetInterfaces(h); err != nil {
			return nil, err
		}
	}
	var cs []check
	for _, n := range ifaces {
		cs = append(cs,
			check{key: sysctl.ConfKey(n, sysctl.ArpIgnore), accept: []int{1, 2},
				why: "the host answers ARP requests for the VIP, racing the director for the clients' traffic"},
			check{key: sysctl.ConfKey(n, sysctl.ArpAnnounce), accept: []int{2},
				why: "the host may use the VIP as the source of its ARP requests, pointing neighbours at itself"})
	}
	return cs, nil
}

func redirectChecks(ifaces []string, h *host) ([]check, error) {
	if len(ifaces) == 0 {
		var err error
		if ifaces, err = ethernetInterfaces(h); err != nil {
			return nil, err
		}
	}
	cs := []check{{key: sysctl.ConfKey(sysctl.Default, sysctl.SendRedirects), accept: []int{0},
		why: "interfaces created from now on will send ICMP redirects"}}
	for _, n := range ifaces {
		cs = append(cs, check{key: sysctl.ConfKey(n, sysctl.SendRedirects), accept: []int{0},
			why: "the director sends ICMP redirects telling hosts to bypass it"})
	}
	return cs, nil
}

func rpFilterChecks(ifaces []string, mode string) []check {
	accept := []int{0, 2}
	if mode == rpOff {
		accept = []int{0}
	}
	var cs []check
	for _, n := range ifaces {
		cs = append(cs, check{key: sysctl.ConfKey(n, sysctl.RPFilter), accept: accept,
			why: "strict source validation drops decapsulated packets, whose client source is routed via another interface"})
	}
	return cs
}

// row is one line of the status table; problem, if set, explains a failure.
// json is the same for status -o json.
type row struct {
	cells   []string
	problem string
	json    checkJSON
}

func (h *host) evaluate(c check) row {
	switch c.kind {
	case checkVIP:
		return h.evaluateVIP(c)
	case checkLinkUp:
		l, ok := h.link(c.link)
		state := "up"
		switch {
		case !ok:
			state = "missing"
		case !l.Up:
			state = "down"
		}
		r := row{cells: []string{"link", c.link, "", "", state, "up", "ok"}}
		if state != "up" {
			r.cells[6] = "PROBLEM"
			r.problem = fmt.Sprintf("%s is %s; packets for the VIP arriving through it are dropped", c.link, state)
		}
		r.json = &linkCheckJSON{Kind: "link", Interface: c.link, State: state, verdict: verdictOf(r.problem)}
		return r
	}
	family, iface, knob, isConf := c.key.Conf()
	name, where, allCell, own := c.key.Dotted(), "", "", ""
	if isConf {
		name, where = string(knob), iface
		if iface != sysctl.All && iface != sysctl.Default && sysctl.RuleFor(family, knob) != sysctl.RuleInterface {
			allKey := sysctl.ConfKey(sysctl.All, knob)
			if family == 6 {
				allKey = sysctl.Conf6Key(sysctl.All, knob)
			}
			allCell = valueOrDash(h.sys.Read(allKey))
		}
		own = valueOrDash(h.sys.Read(c.key))
	}
	need := joinInts(c.accept, " or ")
	js := &sysctlCheckJSON{Kind: "sysctl", Key: c.key.Dotted(), Interface: where, All: cellValue(allCell), Own: cellValue(own), Needed: c.accept}
	eff, err := h.sys.Effective(c.key)
	if !isConf {
		eff, err = readInt(h.sys, c.key)
	}
	if err != nil {
		r := row{cells: []string{name, where, allCell, own, "unreadable", need, "PROBLEM"},
			problem: fmt.Sprintf("%s: %v", c.key, err)}
		if errors.Is(err, os.ErrNotExist) {
			r.cells[4] = "missing"
			r.problem = fmt.Sprintf("%s does not exist", c.key)
			if where != "" {
				r.problem += fmt.Sprintf(" (no interface %s?)", where)
			}
		}
		js.ReadError, js.verdict = r.cells[4], verdictOf(r.problem)
		r.json = js
		return r
	}
	r := row{cells: []string{name, where, allCell, own, strconv.Itoa(eff), need, "ok"}}
	if !slices.Contains(c.accept, eff) {
		r.cells[6] = "PROBLEM"
		how := ""
		if isConf && allCell != "" {
			how = fmt.Sprintf(" (the kernel uses %s of all=%s and %s=%s)", ruleWord(sysctl.RuleFor(family, knob)), allCell, iface, own)
		}
		r.problem = fmt.Sprintf("%s is %d%s, needs %s: %s", c.key, eff, how, need, c.why)
	}
	js.Effective, js.verdict = &eff, verdictOf(r.problem)
	r.json = js
	return r
}

func ruleWord(rule sysctl.Rule) string {
	switch rule {
	case sysctl.RuleMax:
		return "the larger"
	case sysctl.RuleOr:
		return "the OR"
	case sysctl.RuleAnd:
		return "the AND"
	}
	return rule.String()
}

func (h *host) evaluateVIP(c check) row {
	// Without an interface (a NAT director's own address) any address of
	// the host will do, whatever its prefix.
	need := "on this host"
	if c.link != "" {
		need = fmt.Sprintf("on %s as /%d", c.link, c.vip.Bits())
		if c.label != "" {
			need += " label " + c.label
		}
	}
	have := h.addressesOf(c.vip.Addr())
	var found []string
	var right, elsewhere bool
	for _, a := range have {
		found = append(found, fmt.Sprintf("/%d on %s", a.Prefix.Bits(), a.Link)+labelSuffix(a.Label))
		if c.link == "" || a.Link == c.link && a.Prefix.Bits() == c.vip.Bits() && a.Label == c.label {
			right = true
		} else {
			elsewhere = true
		}
	}
	state := "absent"
	if len(found) > 0 {
		state = strings.Join(found, ", ")
	}
	r := row{cells: []string{"vip " + c.vip.Addr().String(), c.link, "", "", state, need, "ok"}}
	switch {
	case !right:
		r.cells[6] = "PROBLEM"
		r.problem = fmt.Sprintf("VIP %s is not %s", c.vip.Addr(), need)
	case elsewhere && c.exclusive:
		r.cells[6] = "PROBLEM"
		r.problem = fmt.Sprintf("VIP %s is also configured elsewhere (%s); a real server must hold it only %s",
			c.vip.Addr(), state, need)
	}
	js := &vipCheckJSON{Kind: "vip", VIP: c.vip.Addr().String(), Interface: c.link, Label: c.label, Exclusive: c.exclusive,
		Found: []addressJSON{}, verdict: verdictOf(r.problem)}
	if c.link != "" {
		bits := c.vip.Bits()
		js.PrefixLength = &bits
	}
	for _, a := range have {
		js.Found = append(js.Found, addressJSON{Address: a.Prefix.String(), Interface: a.Link, Label: a.Label})
	}
	r.json = js
	return r
}

func labelSuffix(label string) string {
	if label == "" {
		return ""
	}
	return " label " + label
}

func valueOrDash(v string, err error) string {
	if err != nil {
		return "-"
	}
	return v
}

func joinInts(vs []int, sep string) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, sep)
}

// status prints the effective values role needs and flags each problem,
// as a table or (output json) as JSON. recorded is the entry from the
// state file, if any.
func (r *runner) status(role string, s settings, recorded *entry, output string) error {
	h, n, err := r.openHost()
	if err != nil {
		return err
	}
	defer n.Close()
	cs, err := checks(role, s, h)
	if err != nil {
		return err
	}
	if output == outputJSON {
		return r.statusJSON(role, s, recorded, cs, h)
	}
	switch {
	case recorded == nil:
		r.printf("%s: not recorded as up in this network namespace; checking %s\n", role, describe(role, s))
	default:
		r.printf("%s: up since %s (%s), %d change(s) recorded\n", role,
			recorded.Since.Format("2006-01-02 15:04:05 MST"), describe(role, recorded.Settings), len(recorded.Changes))
		if n := recorded.unconfirmed(); n > 0 {
			r.printf("%d of them unconfirmed: lvsadm was stopped while making or undoing them; "+
				"'lvsadm %s down' checks each and undoes what was made\n", n, role)
		}
		if !sameSettings(recorded.Settings, s) {
			r.printf("checking %s instead\n", describe(role, s))
		}
	}
	var rows [][]string
	var problems []string
	for _, c := range cs {
		rw := h.evaluate(c)
		rows = append(rows, rw.cells)
		if rw.problem != "" {
			problems = append(problems, rw.problem)
		}
	}
	if err := renderTable(r.out, []string{"SETTING", "INTERFACE", "ALL", "OWN", "EFFECTIVE", "NEEDED", "STATE"}, rows); err != nil {
		return err
	}
	for _, p := range problems {
		r.printf("problem: %s\n", p)
	}
	return problemsError(role, s, problems)
}

// problemsError is status's exit 3 when it found problems.
func problemsError(role string, s settings, problems []string) error {
	if len(problems) > 0 {
		return &ExitError{Code: ExitProblems, Err: fmt.Errorf("%d problem(s) for %s", len(problems), describe(role, s))}
	}
	return nil
}

// statusJSON prints what status prints, as JSON.
func (r *runner) statusJSON(role string, s settings, recorded *entry, cs []check, h *host) error {
	out := statusJSON{SchemaVersion: jsonVersion, Role: role, Checking: settingsOf(role, s), Checks: []checkJSON{}, Problems: []string{}}
	if recorded != nil {
		out.Recorded = &recordedJSON{Since: recorded.Since, Settings: settingsOf(role, recorded.Settings),
			Changes: len(recorded.Changes), Unconfirmed: recorded.unconfirmed()}
	}
	for _, c := range cs {
		rw := h.evaluate(c)
		out.Checks = append(out.Checks, rw.json)
		if rw.problem != "" {
			out.Problems = append(out.Problems, rw.problem)
		}
	}
	if err := r.writeJSON(out); err != nil {
		return err
	}
	return problemsError(role, s, out.Problems)
}

// renderTable draws a plain ASCII table, column titles as given.
func renderTable(w io.Writer, header []string, rows [][]string) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	)
	t.Header(header)
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}
