package keepalived

import (
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// checkerKinds maps keepalived's checkers to lvsadm's check types; ""
// marks those lvsadm has no equivalent for.
var checkerKinds = map[string]string{
	"TCP_CHECK": "tcp", "HTTP_GET": "http", "SSL_GET": "https", "MISC_CHECK": "exec", "UDP_CHECK": "udp",
	"SMTP_CHECK": "", "DNS_CHECK": "", "PING_CHECK": "", "FILE_CHECK": "", "BFD_CHECK": "",
}

var unsupportedCheckers = map[string]string{
	"SMTP_CHECK": "lvsadm has no SMTP check",
	"DNS_CHECK":  "lvsadm has no DNS check",
	"PING_CHECK": "lvsadm has no ICMP echo check",
	"FILE_CHECK": "lvsadm does not read keepalived's track files",
	"BFD_CHECK":  "lvsadm has no BFD",
}

// Checker keywords lvsadm has no equivalent for: the checkers that have
// them, and why they are not converted.
var checkerNotConverted = map[string]struct{ kinds, why string }{
	"bindto":           {"tcp http https udp", "lvsadm's checks leave from the address the system chooses"},
	"bind_port":        {"tcp http https udp", "lvsadm's checks leave from a port the system chooses"},
	"bind_if":          {"tcp http https udp", "lvsadm's checks leave through the interface the system chooses"},
	"fwmark":           {"tcp http https udp", "lvsadm's checks do not mark their packets"},
	"log_all_failures": {"tcp http https udp exec", "no lvsadm equivalent"},
	"http_protocol":    {"http https", "no lvsadm equivalent"},
	"fast_recovery":    {"http https", "lvsadm checks one URL"},
	"tls_compliant":    {"http https", "no lvsadm equivalent"},
	"user":             {"exec", "lvsadm runs the command as the user lvsadm runs as"},
	"min_reply_length": {"udp", "lvsadm does not check the reply's length"},
	"max_reply_length": {"udp", "lvsadm does not check the reply's length"},
}

// URL keywords lvsadm has no equivalent for, and why.
var urlNotConverted = map[string]string{
	"digest":           "lvsadm does not compare an MD5 digest of the body (a regex can check the body)",
	"regex_min_offset": "lvsadm matches the regex against the whole body",
	"regex_max_offset": "lvsadm matches the regex against the whole body",
	"regex_stack":      "no lvsadm equivalent",
	"tls_compliant":    "no lvsadm equivalent",
}

type checker struct {
	n       *node
	kind    string    // lvsadm's type; "" if none
	dropped string    // why keepalived itself does not run it; "" if it does
	notes   []warning // what it has that is not converted

	timers      timers
	connectIP   netip.Addr
	connectPort uint16

	// HTTP_GET, SSL_GET
	vhost   string
	urls    []*urlConf
	sni     bool
	sniName string

	// MISC_CHECK
	command     []string
	miscTimeout time.Duration
	dynamic     bool

	// UDP_CHECK
	payload          []byte
	requireReply     bool
	reply, replyMask []byte
}

type urlConf struct {
	n       *node
	path    string
	status  []statusRange
	vhost   string
	regex   string
	regexAt pos
	flags   string
	noMatch bool
	notes   []warning // given only if this url is the one converted
}

type statusRange struct{ min, max int }

func (ch *checker) note(n *node, format string, args ...any) {
	ch.notes = append(ch.notes, warning{n.at, fmt.Sprintf(format, args...)})
}

func readChecker(n *node, kind string) (*checker, error) {
	ch := &checker{n: n, kind: kind}
	if kind == "" {
		return ch, nil // not read: lvsadm has no such check
	}
	if !n.hasBlock {
		return nil, errorAt(n.at, "%s without a { } block", n.keyword())
	}
	for _, k := range n.block {
		if err := ch.keyword(k); err != nil {
			return nil, err
		}
	}
	switch kind {
	case "http", "https":
		if len(ch.urls) == 0 {
			ch.dropped = "it has no url with a path (keepalived ignores it too)"
		}
	case "exec":
		if len(ch.command) == 0 {
			ch.dropped = "it has no misc_path (keepalived ignores it too)"
		}
	}
	return ch, nil
}

func (ch *checker) keyword(k *node) error {
	kw := k.keyword()
	connection := ch.kind != "exec" // MISC_CHECK has no connection keywords
	http := ch.kind == "http" || ch.kind == "https"
	if kw == "nb_get_retry" && !http {
		// keepalived reads nb_get_retry only in HTTP_GET and SSL_GET;
		// elsewhere it is an unknown keyword, logged and ignored.
		ch.note(k, "nb_get_retry not converted: keepalived reads it only in HTTP_GET and SSL_GET, and ignores it elsewhere as an unknown keyword (retry is its name everywhere)")
		return nil
	}
	if kw == "connect_timeout" && !connection {
		return errorAt(k.at, "unknown keyword %s in %s", kw, ch.n.keyword())
	}
	if ok, err := ch.timers.read(k, "checker"); ok || err != nil {
		return err
	}
	if nc, ok := checkerNotConverted[kw]; ok && slices.Contains(strings.Fields(nc.kinds), ch.kind) {
		ch.note(k, "%s not converted: %s", kw, nc.why)
		return nil
	}
	var err error
	switch {
	case kw == "connect_ip" && connection:
		var s string
		if s, err = oneArg(k); err == nil {
			if ch.connectIP, err = netip.ParseAddr(s); err != nil || ch.connectIP.Zone() != "" {
				return errorAt(k.at, "connect_ip %s: not an IPv4 or IPv6 address", s)
			}
		}
	case kw == "connect_port" && connection:
		var v uint64
		if v, err = number(k, 1, math.MaxUint16); err == nil {
			ch.connectPort = uint16(v)
		}
	case kw == "virtualhost" && http:
		ch.vhost, err = oneArg(k)
	case kw == "enable_sni" && http:
		ch.sni, err = flag(k)
		if err == nil && ch.kind == "http" {
			ch.note(k, "enable_sni not converted: HTTP_GET does not use TLS")
		}
	case kw == "sni_name" && http:
		ch.sniName, err = oneArg(k)
		ch.sni = true
	case kw == "url" && http:
		var u *urlConf
		if u, err = ch.url(k); err == nil && u != nil {
			ch.urls = append(ch.urls, u)
		}
	case kw == "misc_path" && ch.kind == "exec":
		err = ch.miscPath(k)
	case kw == "misc_timeout" && ch.kind == "exec":
		var v uint64
		if v, err = number(k, 0, math.MaxInt32); err == nil {
			ch.miscTimeout = time.Duration(v) * time.Second
		}
	case kw == "misc_dynamic" && ch.kind == "exec":
		ch.dynamic, err = true, noArgs(k)
	case kw == "payload" && ch.kind == "udp":
		if len(k.words) < 2 {
			return errorAt(k.at, "payload: want hex digits")
		}
		ch.payload, _, err = hexBytes(k, strings.Join(k.args(), " "), false)
	case kw == "require_reply" && ch.kind == "udp":
		ch.requireReply = true
		if len(k.words) > 1 {
			ch.reply, ch.replyMask, err = hexBytes(k, strings.Join(k.args(), " "), true)
		}
	default:
		return errorAt(k.at, "unknown keyword %s in %s", kw, ch.n.keyword())
	}
	return err
}

// miscPath reads MISC_CHECK's command: keepalived takes the first word
// (quotes group blanks) and splits it into the program and its arguments,
// single quotes grouping and backslash escapes read.
func (ch *checker) miscPath(k *node) error {
	words, err := quotedWords(k.at, k.text, false)
	if err != nil {
		return err
	}
	if len(words) < 2 {
		return errorAt(k.at, "misc_path: want a command")
	}
	if len(words) > 2 {
		ch.note(k, "misc_path: %s not converted: keepalived runs only the first word; quote the whole command to give it arguments", strings.Join(words[2:], " "))
	}
	if ch.command, err = quotedWords(k.at, words[1], true); err != nil {
		return err
	}
	if len(ch.command) == 0 {
		return errorAt(k.at, "misc_path: want a command")
	}
	return nil
}

// Regex options of keepalived (PCRE2) that Go's regexp has as flags.
var regexFlags = map[string]string{"caseless": "i", "multiline": "m", "dotall": "s", "ungreedy": "U"}

func (ch *checker) url(n *node) (*urlConf, error) {
	if !n.hasBlock {
		return nil, errorAt(n.at, "url without a { } block")
	}
	u := &urlConf{n: n}
	for _, k := range n.block {
		var err error
		switch kw := k.keyword(); kw {
		case "path":
			u.path, err = oneArg(k)
		case "status_code":
			if len(k.words) < 2 {
				return nil, errorAt(k.at, "status_code: want codes or ranges such as 200-299")
			}
			for _, a := range k.args() {
				r, ok := parseStatus(a)
				if !ok {
					return nil, errorAt(k.at, "status_code %s: want a code from 100 to 599 or a range such as 200-299", a)
				}
				u.status = append(u.status, r)
			}
		case "virtualhost":
			u.vhost, err = oneArg(k)
		case "regex":
			var words []string
			if words, err = quotedWords(k.at, k.text, true); err == nil {
				if len(words) != 2 {
					return nil, errorAt(k.at, "regex: want one expression (quote it if it has blanks)")
				}
				u.regex, u.regexAt = words[1], k.at
			}
		case "regex_no_match":
			u.noMatch, err = true, noArgs(k)
		case "regex_options":
			for _, o := range k.args() {
				if f, ok := regexFlags[o]; ok {
					u.flags += f
				} else {
					u.notes = append(u.notes, warning{k.at, fmt.Sprintf("regex_options %s not converted: Go's regexp has no such option", o)})
				}
			}
		default:
			if why, ok := urlNotConverted[kw]; ok {
				u.notes = append(u.notes, warning{k.at, fmt.Sprintf("%s not converted: %s", kw, why)})
				continue
			}
			return nil, errorAt(k.at, "unknown keyword %s in url", kw)
		}
		if err != nil {
			return nil, err
		}
	}
	if u.path == "" {
		ch.note(n, "url not converted: it has no path (keepalived ignores it too)")
		return nil, nil
	}
	return u, nil
}

func parseStatus(s string) (statusRange, bool) {
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if err1 != nil || err2 != nil || a < 100 || b > 599 || a > b {
		return statusRange{}, false
	}
	return statusRange{a, b}, true
}

func firstDuration(ds ...*time.Duration) *time.Duration {
	for _, d := range ds {
		if d != nil {
			return d
		}
	}
	return nil
}

func orDefault[T any](v *T, def T) T {
	if v != nil {
		return *v
	}
	return def
}

// maxFall is the most failures lvsadm counts before a server is down.
const maxFall = 1000

// serverCheck converts the first checker of a real server that lvsadm
// can run, and names the others.
func (c *converter) serverCheck(vs *virtualServer, rs *realServer, srv *Server) *Check {
	var chosen *checker
	for _, ch := range rs.checkers {
		switch {
		case ch.kind == "":
			c.warn(ch.n.at, "%s not converted: %s", ch.n.keyword(), unsupportedCheckers[ch.n.keyword()])
		case ch.dropped != "":
			c.warn(ch.n.at, "%s not converted: %s", ch.n.keyword(), ch.dropped)
		case chosen != nil:
			c.warn(ch.n.at, "%s not converted: lvsadm runs one check per real server (the %s at line %d is converted)",
				ch.n.keyword(), chosen.n.keyword(), chosen.n.at.line)
		default:
			chosen = ch
			c.warnings = append(c.warnings, ch.notes...)
		}
	}
	if chosen == nil {
		return nil
	}
	ch := chosen
	out := &Check{Type: ch.kind, Rise: 1}

	// Timers: the checker's, else the real server's, else the virtual
	// server's, else keepalived's defaults (check_data.c, check_api.c).
	interval := orDefault(firstDuration(ch.timers.delayLoop, rs.timers.delayLoop, vs.timers.delayLoop), defaultDelayLoop)
	out.Interval = seconds(interval)
	if ch.kind == "exec" {
		// misc_timeout, else the virtual server's delay_loop (check_misc.c).
		timeout := ch.miscTimeout
		if timeout == 0 {
			timeout = orDefault(vs.timers.delayLoop, defaultDelayLoop)
		}
		out.Timeout = seconds(timeout)
	} else {
		out.Timeout = seconds(orDefault(firstDuration(ch.timers.connectTimeout, rs.timers.connectTimeout, vs.timers.connectTimeout), defaultConnectTimeout))
	}
	retry := uint64(1)
	if ch.kind == "exec" {
		retry = 0
	}
	for _, r := range []*uint64{ch.timers.retry, rs.timers.retry, vs.timers.retry} {
		if r != nil {
			retry = *r
			break
		}
	}
	if retry+1 > maxFall {
		c.warn(ch.n.at, "%s: retry %d converted as %d: lvsadm counts at most %d failures", ch.n.keyword(), retry, maxFall-1, maxFall)
		retry = maxFall - 1
	}
	out.Fall = int(retry) + 1
	if out.Fall > 1 {
		def := time.Second
		if ch.kind == "http" || ch.kind == "https" {
			def = 3 * time.Second
		}
		delay := orDefault(firstDuration(ch.timers.retryDelay, rs.timers.retryDelay, vs.timers.retryDelay), def)
		if delay == 0 {
			c.warn(ch.n.at, "%s: delay_before_retry 0 converted as 1ms: lvsadm's retry_interval must be longer than 0", ch.n.keyword())
			delay = time.Millisecond
		}
		out.RetryInterval = seconds(delay)
	}
	if w := orDefault(firstDuration(ch.timers.warmup, rs.timers.warmup, vs.timers.warmup), interval); w != interval {
		out.Warmup = seconds(w)
	}
	if orDefault(rs.inhibit, vs.inhibit) {
		out.OnFailure = "quiesce"
	} else {
		out.OnFailure = "remove"
	}
	for _, a := range []*bool{ch.timers.alpha, rs.timers.alpha, vs.timers.alpha} {
		if a != nil {
			if *a {
				out.InitialState = "down"
			}
			break
		}
	}

	switch ch.kind {
	case "tcp", "http", "https", "udp":
		out.ConnectTo = c.connectTo(ch, rs, srv)
	}
	switch ch.kind {
	case "http", "https":
		c.httpCheck(out, ch, vs, rs)
	case "exec":
		out.Command = ch.command
		dyn := ch.dynamic // keepalived's default is false, lvsadm's true
		out.DynamicWeight = &dyn
	case "udp":
		c.udpCheck(out, ch)
	}
	return out
}

// connectTo is where keepalived's checker connects, if it is not the real
// server as lvsadm writes it: connect_ip and connect_port, else the
// address and port of the real_server line.
func (c *converter) connectTo(ch *checker, rs *realServer, srv *Server) *ConnectTo {
	addr, port := rs.addr, rs.port
	if ch.connectIP.IsValid() {
		addr = ch.connectIP
	}
	if ch.connectPort != 0 {
		port = ch.connectPort
	}
	if port == 0 {
		// keepalived would connect to port 0, which always fails: check
		// the port IPVS gives the server instead, and say so.
		port = srv.Port
		if port == 0 {
			c.warn(ch.n.at, "%s has no port to connect to: give connect_port", ch.n.keyword())
		} else {
			c.warn(ch.n.at, "%s: keepalived connects to port 0 (no port on the real_server line, no connect_port); converted to check port %d", ch.n.keyword(), port)
		}
	}
	var to ConnectTo
	if addr.String() != srv.Address {
		to.Address = addr.String()
	}
	if port != srv.Port {
		to.Port = port
	}
	if to == (ConnectTo{}) {
		return nil
	}
	return &to
}

func (c *converter) httpCheck(out *Check, ch *checker, vs *virtualServer, rs *realServer) {
	u := ch.urls[0]
	c.warnings = append(c.warnings, u.notes...)
	for _, other := range ch.urls[1:] {
		c.warn(other.n.at, "url not converted: lvsadm checks one URL per real server (the url at line %d is converted)", u.n.at.line)
	}
	out.Path = u.path
	// The Host header: the url's virtualhost, else the checker's, the real
	// server's, the virtual server's (check_http.c).
	for _, h := range []string{u.vhost, ch.vhost, rs.vhost, vs.vhost} {
		if h != "" {
			out.Host = h
			break
		}
	}
	if len(u.status) > 0 && !(len(u.status) == 1 && u.status[0] == statusRange{200, 299}) {
		for _, r := range u.status {
			if r.min == r.max {
				out.Status = append(out.Status, r.min)
			} else {
				out.Status = append(out.Status, fmt.Sprintf("%d-%d", r.min, r.max))
			}
		}
	}
	if u.regex != "" {
		body := u.regex
		if u.flags != "" {
			body = "(?" + u.flags + ")" + body
		}
		_, err := regexp.Compile(body)
		switch {
		case u.noMatch:
			c.warn(u.regexAt, "regex not converted: with regex_no_match the body must not match, and lvsadm's body must match")
		case err != nil:
			c.warn(u.regexAt, "regex not converted: Go's regexp cannot read it: %v", err)
		default:
			out.Body = body
		}
	}
	if ch.kind == "https" && ch.sni {
		// The server name: sni_name, else the url's virtualhost, the
		// checker's, the virtual server's (check_ssl.c).
		for _, h := range []string{ch.sniName, u.vhost, ch.vhost, vs.vhost} {
			if h != "" {
				if h != out.Host {
					out.SNI = h
				}
				break
			}
		}
	}
}

func (c *converter) udpCheck(out *Check, ch *checker) {
	if ch.payload != nil {
		if s, ok := asciiString(ch.payload); ok {
			out.Send = s
		} else {
			c.warn(ch.n.at, "UDP_CHECK payload not converted: lvsadm's send is text, and the payload has bytes above 0x7f")
		}
	}
	if !ch.requireReply {
		return
	}
	if ch.reply == nil {
		out.Expect = "^" // any answer
		return
	}
	if re, ok := replyRegexp(ch.reply, ch.replyMask); ok {
		out.Expect = re
	} else {
		out.Expect = "^"
		c.warn(ch.n.at, "UDP_CHECK require_reply data not converted (any answer is converted): lvsadm's expect is a text regexp, and the data has bytes above 0x7f or wildcards in their high half")
	}
}

func asciiString(b []byte) (string, bool) {
	for _, c := range b {
		if c >= 0x80 {
			return "", false
		}
	}
	return string(b), true
}

// replyRegexp is a regular expression for what keepalived accepts as a
// reply to require_reply data: the reply's bytes, as far as it goes, equal
// the data's (a wildcard nibble matching anything); a longer reply's
// further bytes do not matter, a shorter one is compared as far as it goes.
func replyRegexp(data, mask []byte) (string, bool) {
	var parts []string
	for i, b := range data {
		switch mask[i] {
		case 0:
			if b >= 0x80 {
				return "", false
			}
			if 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' {
				parts = append(parts, string(b))
			} else {
				parts = append(parts, fmt.Sprintf(`\x%02x`, b))
			}
		case 0x0f:
			if b >= 0x80 {
				return "", false
			}
			parts = append(parts, fmt.Sprintf(`[\x%02x-\x%02x]`, b, b|0x0f))
		default:
			return "", false
		}
	}
	re := ""
	for i := len(parts) - 1; i >= 0; i-- {
		re = "(?:$|" + parts[i] + re + ")"
	}
	return "^" + re, true
}

func equalChecks(a, b *Check) bool { return reflect.DeepEqual(a, b) }
