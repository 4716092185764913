package desired

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lvsadm/lvsadm/cmd/compat"
)

// SchemaVersion is the version of lvsadm's format this package reads and
// writes (docs/config.md, docs/config.schema.json).
const SchemaVersion = 1

// ParseConfig reads lvsadm's own format, YAML or JSON (JSON is read as the
// YAML it also is, so that both report line and column). Unknown keys,
// duplicate keys and values of the wrong type are errors. Each service and
// real server becomes the ipvsadm command line it stands for and is checked
// and completed by ipvsadm's own rules (package compat), so it means what
// the same line of rules means.
func ParseConfig(name string, data []byte) (*Table, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(name, err)
	}
	d := decoder{file: name}
	if len(doc.Content) == 0 {
		d.errs.add(Source{File: name, Line: 1}, "empty file: want a mapping with schema_version and services")
		return nil, d.errs.err()
	}
	t := d.table(doc.Content[0])
	t.check(&d.errs)
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	return t, nil
}

// yamlLine finds the line number in yaml.v3's syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlError(name string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Source: Source{File: name, Line: line}, Msg: m[2]}
	}
	return &Error{Source: Source{File: name}, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

type decoder struct {
	file string
	errs errorList
}

func (d *decoder) src(n *yaml.Node) Source {
	return Source{File: d.file, Line: n.Line, Column: n.Column}
}

// field is one key of a mapping and where it is.
type field struct {
	key, value *yaml.Node
}

// mapping returns the fields of n, a mapping whose keys must be among
// known; it reports other keys, duplicate keys and a node that is not a
// mapping.
func (d *decoder) mapping(n *yaml.Node, what string, known ...string) map[string]field {
	if n.Kind != yaml.MappingNode {
		d.errs.add(d.src(n), "%s: want a mapping, got %s", what, kind(n))
		return nil
	}
	fields := make(map[string]field, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(known, k.Value):
			d.errs.add(d.src(k), "unknown key %q in %s%s", k.Value, what, suggest(k.Value, known))
		case fields[k.Value].key != nil:
			d.errs.add(d.src(k), "%s: key %q given twice (first at line %d)", what, k.Value, fields[k.Value].key.Line)
		default:
			fields[k.Value] = field{k, v}
		}
	}
	return fields
}

// suggest proposes the known key closest to a mistyped one.
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(key, k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best == "" {
		return " (known keys: " + strings.Join(known, ", ") + ")"
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

// scalar returns n's text if it is a scalar of one of the YAML tags given.
func (d *decoder) scalar(f field, what string, tags ...string) (string, bool) {
	n := f.value
	if n.Kind != yaml.ScalarNode || !slices.Contains(tags, n.ShortTag()) {
		d.errs.add(d.src(n), "%s: want %s, got %s", what, tagNames(tags), kind(n))
		return "", false
	}
	return n.Value, true
}

func tagNames(tags []string) string {
	var names []string
	for _, t := range tags {
		names = append(names, map[string]string{"!!str": "a string", "!!int": "a whole number", "!!bool": "true or false"}[t])
	}
	return strings.Join(names, " or ")
}

// number reads a whole number from lo to hi.
func (d *decoder) number(f field, what string, lo, hi int64) (int64, bool) {
	if _, ok := d.scalar(f, what, "!!int"); !ok {
		return 0, false
	}
	var v int64
	if err := f.value.Decode(&v); err != nil || v < lo || v > hi {
		d.errs.add(d.src(f.value), "%s: want a whole number from %d to %d, got %s", what, lo, hi, f.value.Value)
		return 0, false
	}
	return v, true
}

func (d *decoder) boolean(f field, what string) (bool, bool) {
	if _, ok := d.scalar(f, what, "!!bool"); !ok {
		return false, false
	}
	var v bool
	return v, f.value.Decode(&v) == nil
}

// oneOf reads a string that must be one of names.
func (d *decoder) oneOf(f field, what string, names ...string) (string, bool) {
	v, ok := d.scalar(f, what, "!!str")
	if !ok {
		return "", false
	}
	if !slices.Contains(names, v) {
		d.errs.add(d.src(f.value), "%s: want one of %s, got %q", what, strings.Join(names, ", "), v)
		return "", false
	}
	return v, true
}

func (d *decoder) address(f field, what string) (netip.Addr, bool) {
	v, ok := d.scalar(f, what, "!!str")
	if !ok {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(v)
	if err != nil || a.Zone() != "" || a.Is4In6() {
		d.errs.add(d.src(f.value), "%s: want an IPv4 or IPv6 address, got %q", what, v)
		return netip.Addr{}, false
	}
	return a, true
}

func (d *decoder) table(n *yaml.Node) *Table {
	t := &Table{}
	top := d.mapping(n, "the file", "schema_version", "services")
	if top == nil {
		return t
	}
	if f, ok := top["schema_version"]; !ok {
		d.errs.add(d.src(n), "schema_version is missing (this lvsadm reads version %d)", SchemaVersion)
	} else if v, ok := d.number(f, "schema_version", 0, math.MaxInt32); ok && v != SchemaVersion {
		d.errs.add(d.src(f.value), "schema_version %d: this lvsadm reads version %d", v, SchemaVersion)
	}
	f, ok := top["services"]
	if !ok || f.value.Tag == "!!null" {
		return t // no services: an empty table
	}
	if f.value.Kind != yaml.SequenceNode {
		d.errs.add(d.src(f.value), "services: want a list, got %s", kind(f.value))
		return t
	}
	for _, sn := range f.value.Content {
		if d.errs.full() {
			break
		}
		if s, ok := d.service(sn); ok {
			t.Services = append(t.Services, s)
		}
	}
	return t
}

var serviceKeys = []string{"protocol", "address", "port", "fwmark", "family", "scheduler", "scheduler_flags",
	"persistent", "netmask", "persistence_engine", "one_packet", "health_check", "quorum", "hysteresis",
	"sorry_server", "real_servers"}

// service reads one service into the -A line it stands for, then its real
// servers into -a lines.
func (d *decoder) service(n *yaml.Node) (Service, bool) {
	fs := d.mapping(n, "service", serviceKeys...)
	if fs == nil {
		return Service{}, false
	}
	before := len(d.errs.errs)
	args := []string{"-A"}
	svcOpt, ok := d.serviceOption(n, fs)
	if !ok {
		return Service{}, false
	}
	args = append(args, svcOpt...)
	if f, ok := fs["scheduler"]; ok {
		if v, ok := d.scalar(f, "scheduler", "!!str"); ok {
			if len(v) == 0 || len(v) > schedulerNameMax {
				d.errs.add(d.src(f.value), "scheduler: want a name of 1 to %d bytes, got %q", schedulerNameMax, v)
			}
			args = append(args, "-s", v)
		}
	}
	if f, ok := fs["scheduler_flags"]; ok {
		if f.value.Kind != yaml.SequenceNode {
			d.errs.add(d.src(f.value), "scheduler_flags: want a list, got %s", kind(f.value))
		} else {
			var flags []string
			for _, fl := range f.value.Content {
				v, ok := d.scalar(field{f.key, fl}, "scheduler_flags", "!!str")
				if ok && (v == "" || strings.ContainsAny(v, ", ")) {
					d.errs.add(d.src(fl), "scheduler_flags: want one flag per item, got %q", v)
				} else if ok {
					flags = append(flags, v)
				}
			}
			if len(flags) > 0 {
				args = append(args, "-b", strings.Join(flags, ","))
			}
		}
	}
	if f, ok := fs["persistent"]; ok {
		// Seconds, or true for ipvsadm's default.
		if f.value.ShortTag() == "!!bool" {
			if v, ok := d.boolean(f, "persistent"); ok && v {
				args = append(args, "-p")
			}
		} else if v, ok := d.number(f, "persistent", 1, math.MaxInt32); ok {
			args = append(args, "-p", strconv.FormatInt(v, 10))
		}
	}
	if f, ok := fs["netmask"]; ok {
		args = append(args, d.netmask(f, svcOpt)...)
	}
	if f, ok := fs["persistence_engine"]; ok {
		if v, ok := d.scalar(f, "persistence_engine", "!!str"); ok {
			args = append(args, "--pe", v)
		}
	}
	if f, ok := fs["one_packet"]; ok {
		if v, ok := d.boolean(f, "one_packet"); ok && v {
			args = append(args, "-o")
		}
	}
	if len(d.errs.errs) > before {
		return Service{}, false
	}
	inv, ok := d.compat(n, args)
	if !ok {
		return Service{}, false
	}
	s := Service{Service: inv.Service, Source: d.src(n)}
	var svcCheck map[string]field
	if f, ok := fs["health_check"]; ok {
		if svcCheck = d.mapping(f.value, "health_check", checkKeyNames...); svcCheck != nil {
			d.check(f.value, svcCheck, false)
		}
	}
	for _, k := range []struct {
		key string
		dst *uint32
	}{{"quorum", &s.Quorum}, {"hysteresis", &s.Hysteresis}} {
		if f, ok := fs[k.key]; ok {
			if v, ok := d.number(f, k.key, 0, math.MaxInt32); ok {
				*k.dst = uint32(v)
			}
		}
	}
	if f, ok := fs["sorry_server"]; ok {
		if g, ok := d.mapping(f.value, "sorry_server", serverKeys...)["health_check"]; ok {
			d.errs.add(d.src(g.key), "a sorry server is not checked: it has no health_check")
		} else if r, ok := d.server(f.value, &s, svcOpt, nil); ok {
			s.SorryServer = &r
		}
	}
	if f, ok := fs["real_servers"]; ok && f.value.Tag != "!!null" {
		if f.value.Kind != yaml.SequenceNode {
			d.errs.add(d.src(f.value), "real_servers: want a list, got %s", kind(f.value))
			return s, true
		}
		for _, rn := range f.value.Content {
			if r, ok := d.server(rn, &s, svcOpt, svcCheck); ok {
				s.Servers = append(s.Servers, r)
			}
		}
	}
	return s, true
}

// schedulerNameMax is the longest scheduler name the kernel takes
// (IP_VS_SCHEDNAME_MAXLEN less the NUL).
const schedulerNameMax = 15

// netmask reads a dotted mask for an IPv4 service and a prefix length for
// an IPv6 one (ipvsadm's -M takes either spelling for IPv4, which makes
// "24" the mask 0.0.0.24).
func (d *decoder) netmask(f field, svcOpt []string) []string {
	ipv6 := slices.Contains(svcOpt, "-6") || strings.HasPrefix(svcOpt[len(svcOpt)-1], "[")
	v := f.value.Value
	if ipv6 {
		if _, ok := d.scalar(f, "netmask", "!!int", "!!str"); !ok {
			return nil
		}
		if n, err := strconv.Atoi(v); f.value.ShortTag() != "!!int" || err != nil || n < 1 || n > 128 {
			d.errs.add(d.src(f.value), "netmask: want a prefix length from 1 to 128 for an IPv6 service, got %s", kindOrValue(f.value))
			return nil
		}
		return []string{"-M", v}
	}
	if a, err := netip.ParseAddr(v); f.value.ShortTag() != "!!str" || err != nil || !a.Is4() {
		d.errs.add(d.src(f.value), "netmask: want a dotted mask such as 255.255.255.0 for an IPv4 service, got %s", kindOrValue(f.value))
		return nil
	}
	return []string{"-M", v}
}

// kindOrValue shows a scalar's text as written (quoted if it is a string).
func kindOrValue(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!str" {
		return n.Value
	}
	return kind(n)
}

// serviceOption reads the service's identity into ipvsadm's option for it.
func (d *decoder) serviceOption(n *yaml.Node, fs map[string]field) ([]string, bool) {
	if f, ok := fs["fwmark"]; ok {
		for _, k := range []string{"protocol", "address", "port"} {
			if g, ok := fs[k]; ok {
				d.errs.add(d.src(g.key), "a fwmark service has no %s", k)
			}
		}
		mark, ok := d.number(f, "fwmark", 1, math.MaxUint32)
		if !ok {
			return nil, false
		}
		opt := []string{"-f", strconv.FormatInt(mark, 10)}
		if g, ok := fs["family"]; ok {
			fam, ok := d.oneOf(g, "family", "ipv4", "ipv6")
			if !ok {
				return nil, false
			}
			if fam == "ipv6" {
				opt = append(opt, "-6")
			}
		}
		return opt, true
	}
	if g, ok := fs["family"]; ok {
		d.errs.add(d.src(g.key), "family is for fwmark services; the address gives the others'")
	}
	var missing []string
	for _, k := range []string{"protocol", "address", "port"} {
		if _, ok := fs[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		d.errs.add(d.src(n), "service: %s missing (a service has protocol, address and port, or fwmark)", strings.Join(missing, ", "))
		return nil, false
	}
	proto, ok1 := d.oneOf(fs["protocol"], "protocol", "tcp", "udp", "sctp")
	addr, ok2 := d.address(fs["address"], "address")
	port, ok3 := d.number(fs["port"], "port", 0, math.MaxUint16)
	if !ok1 || !ok2 || !ok3 {
		return nil, false
	}
	opt := map[string]string{"tcp": "-t", "udp": "-u", "sctp": "--sctp-service"}[proto]
	return []string{opt, AddrPort(addr, uint16(port))}, true
}

var serverKeys = []string{"address", "port", "method", "weight", "upper_threshold", "lower_threshold", "health_check", "tunnel"}

// methods maps the forwarding method names of the format to ipvsadm's options.
var methods = map[string]string{"dr": "-g", "nat": "-m", "tunnel": "-i"}

// server reads one real server into the -a line it stands for, and its
// health check: svcCheck (the service's health_check keys) overridden key
// by key by its own.
func (d *decoder) server(n *yaml.Node, s *Service, svcOpt []string, svcCheck map[string]field) (Server, bool) {
	fs := d.mapping(n, "real server", serverKeys...)
	if fs == nil {
		return Server{}, false
	}
	before := len(d.errs.errs)
	f, ok := fs["address"]
	if !ok {
		d.errs.add(d.src(n), "real server: address missing")
		return Server{}, false
	}
	addr, ok := d.address(f, "address")
	if !ok {
		return Server{}, false
	}
	method := "dr"
	if g, ok := fs["method"]; ok {
		method, _ = d.oneOf(g, "method", "dr", "nat", "tunnel")
	}
	// Direct routing and tunnelling do not rewrite the port: ipvsadm uses
	// the service's whatever is given, and so does the format.
	port := int64(s.Port)
	if g, ok := fs["port"]; ok {
		if v, ok := d.number(g, "port", 0, math.MaxUint16); ok {
			if method != "nat" && !s.IsFWMark() && v != int64(s.Port) {
				d.errs.add(d.src(g.value), "port %d: with method %s the real server gets the service's port (%d); leave port out", v, method, s.Port)
			}
			port = v
		}
	}
	args := append([]string{"-a"}, svcOpt...)
	args = append(args, "-r", AddrPort(addr, uint16(port)), methods[method])
	for _, k := range []struct{ key, opt string }{{"weight", "-w"}, {"upper_threshold", "-x"}, {"lower_threshold", "-y"}} {
		if g, ok := fs[k.key]; ok {
			if v, ok := d.number(g, strings.ReplaceAll(k.key, "_", " "), 0, math.MaxInt32); ok {
				args = append(args, k.opt, strconv.FormatInt(v, 10))
			}
		}
	}
	if g, ok := fs["tunnel"]; ok {
		if method != "tunnel" {
			d.errs.add(d.src(g.key), "tunnel settings need method tunnel")
		} else {
			args = append(args, d.tunnel(g)...)
		}
	}
	checkKeys := map[string]field{}
	for k, v := range svcCheck {
		checkKeys[k] = v
	}
	if g, ok := fs["health_check"]; ok {
		for k, v := range d.mapping(g.value, "health_check", checkKeyNames...) {
			checkKeys[k] = v
		}
	}
	var check *Check
	if len(checkKeys) > 0 {
		check = d.check(n, checkKeys, true)
	}
	if len(d.errs.errs) > before {
		return Server{}, false
	}
	inv, ok := d.compat(n, args)
	if !ok {
		return Server{}, false
	}
	return Server{Destination: inv.Dest, Source: d.src(n), Check: check}, true
}

func (d *decoder) tunnel(f field) []string {
	fs := d.mapping(f.value, "tunnel", "type", "port", "checksum")
	if fs == nil {
		return nil
	}
	var args []string
	if g, ok := fs["type"]; ok {
		if v, ok := d.oneOf(g, "tunnel type", "ipip", "gue", "gre"); ok {
			args = append(args, "--tun-type", v)
		}
	}
	if g, ok := fs["port"]; ok {
		if v, ok := d.number(g, "tunnel port", 0, math.MaxUint16); ok {
			args = append(args, "--tun-port", strconv.FormatInt(v, 10))
		}
	}
	if g, ok := fs["checksum"]; ok {
		if v, ok := d.oneOf(g, "tunnel checksum", "none", "csum", "remcsum"); ok {
			args = append(args, map[string]string{"none": "--tun-nocsum", "csum": "--tun-csum", "remcsum": "--tun-remcsum"}[v])
		}
	}
	return args
}

// compat checks and completes an ipvsadm command line as ipvsadm would;
// its complaint is reported at n.
func (d *decoder) compat(n *yaml.Node, args []string) (*compat.Invocation, bool) {
	inv, err := compat.Parser{}.Parse("ipvsadm", args)
	if err != nil {
		var ce *compat.Error
		if errors.As(err, &ce) {
			err = errors.New(ce.Message)
		}
		d.errs.add(d.src(n), "%v (as ipvsadm %s)", err, strings.Join(args, " "))
		return nil, false
	}
	return inv, true
}
