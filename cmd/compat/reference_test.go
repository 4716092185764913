package compat

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsadm/lvsadm/ipvs"
)

// The cases of parse_test.go are checked against the reference ipvsadm:
// testdata/reference-results.txt is what testdata/refcheck.sh printed in
// the VM for testdata/reference-cases.txt. To refresh both:
//
//	COMPAT_WRITE_REFERENCE_CASES=$PWD/cmd/compat/testdata/reference-cases.txt go test ./cmd/compat -run TestWriteReferenceCases
//	scripts/vm.sh run --file cmd/compat/testdata/refcheck.sh:/refcheck.sh \
//	  --file cmd/compat/testdata/reference-cases.txt:/cases.txt -- sh /refcheck.sh /cases.txt \
//	  > cmd/compat/testdata/reference-results.txt

// referenceDivergences are cases where we deliberately differ, with the
// exit status the reference shows.
var referenceDivergences = map[string]int{
	// ipvsadm passes a null pointer to strcmp and dies with SIGSEGV.
	"-A -t 192.0.2.1:80 -b ,": 139,
	// popt's "!#:+" finds no later word without a leading '-' and loops
	// forever (refcheck.sh's timeout ends it).
	"-A -t 192.0.2.1:80 -s 'x!#:+' -p": 124,
}

// kernelMessages are errors that come from the kernel or the system, not
// from parsing: a case that ends with one of them was accepted.
var kernelMessages = map[string]bool{
	"Service already exists":                    true,
	"Scheduler or persistence engine not found": true,
	"No such service":                           true,
	"Service not defined":                       true,
	"Destination already exists":                true,
	"No such destination":                       true,
	"Daemon has already run":                    true,
	"No daemon is running":                      true,
	"No such device":                            true,
	"Numerical result out of range":             true,
	"Invalid operation.  Possibly wrong module version, address not unicast, ...": true,
}

// usesLocalNames marks cases that need names only our fake resolver knows.
func usesLocalNames(args []string) bool {
	for _, a := range args {
		if strings.Contains(a, ".example") || strings.Contains(a, "\x00") {
			return true
		}
	}
	return false
}

func shellQuote(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:=+,/[]") == "" {
			quoted[i] = a
		}
	}
	return strings.Join(quoted, " ")
}

// serviceArgs is how ipvsadm -Sn names a service.
func serviceArgs(svc ipvs.Service) string {
	if svc.FWMark != 0 {
		// Debian's 1.31 prints the mark as a signed number.
		s := fmt.Sprintf("-f %d", int32(svc.FWMark))
		if svc.Family == ipvs.IPv6 {
			s += " -6"
		}
		return s
	}
	opt := map[ipvs.Protocol]string{ipvs.TCP: "-t", ipvs.UDP: "-u", ipvs.SCTP: "--sctp-service"}[svc.Protocol]
	return opt + " " + addrPort(svc.Addr.String(), svc.Family, svc.Port)
}

func addrPort(addr string, f ipvs.Family, port uint16) string {
	if f == ipvs.IPv6 {
		return fmt.Sprintf("[%s]:%d", addr, port)
	}
	return fmt.Sprintf("%s:%d", addr, port)
}

// savedService renders the -Sn line ipvsadm prints for svc.
func savedService(svc ipvs.Service) string {
	s := "-A " + serviceArgs(svc) + " -s " + svc.Scheduler
	if svc.Flags&ipvs.FlagPersistent != 0 {
		s += fmt.Sprintf(" -p %d", svc.Timeout)
		if svc.Family == ipvs.IPv6 && svc.Netmask != 128 {
			s += fmt.Sprintf(" -M %d", svc.Netmask)
		} else if svc.Family != ipvs.IPv6 && svc.Netmask != 0xffffffff {
			s += " -M " + addrFromUint32(svc.Netmask).String()
		}
	}
	if svc.PE != "" {
		s += " --pe " + svc.PE
	}
	if svc.Flags&ipvs.FlagOnePacket != 0 {
		s += " -o"
	}
	if svc.Flags&ipvs.SchedFlagsMask != 0 {
		names := [3]string{"flag-1", "flag-2", "flag-3"}
		if svc.Scheduler == "sh" || svc.Scheduler == "mh" {
			names = [3]string{svc.Scheduler + "-fallback", svc.Scheduler + "-port", ""}
		}
		var list []string
		for i, f := range []ipvs.ServiceFlags{ipvs.FlagSched1, ipvs.FlagSched2, ipvs.FlagSched3} {
			if svc.Flags&f != 0 && names[i] != "" {
				list = append(list, names[i])
			}
		}
		s += " -b " + strings.Join(list, ",")
	}
	return s
}

// savedDest renders the -Sn line ipvsadm prints for a destination.
func savedDest(svc ipvs.Service, d ipvs.Destination) string {
	method := map[ipvs.ForwardMethod]string{ipvs.Masquerade: "-m", ipvs.Tunnel: "-i", ipvs.Route: "-g"}[d.ForwardMethod]
	s := fmt.Sprintf("-a %s -r %s %s -w %d", serviceArgs(svc), addrPort(d.Addr.String(), d.Family, d.Port), method, d.Weight)
	if d.ForwardMethod == ipvs.Tunnel {
		csum := [3]string{"--tun-nocsum", "--tun-csum", "--tun-remcsum"}[d.TunnelFlags]
		switch d.TunnelType {
		case ipvs.TunnelIPIP:
			s += " --tun-type ipip"
		case ipvs.TunnelGRE:
			s += " --tun-type gre " + csum
		case ipvs.TunnelGUE:
			s += fmt.Sprintf(" --tun-type gue --tun-port %d %s", d.TunnelPort, csum)
		}
	}
	return s
}

// setupFor returns the commands that create what an accepted case acts on,
// and the -Sn lines expected afterwards (nil: not checked).
func setupFor(inv *Invocation) (setup, saved []string) {
	svc := inv.Service
	setupService := "-A " + serviceArgs(svc) + " -p"
	setupSaved := savedService(ipvs.Service{ServiceKey: svc.ServiceKey, Scheduler: "wlc", Flags: ipvs.FlagPersistent, Timeout: 360, Netmask: svc.Netmask})
	setupDest := func() string {
		method := "-m"
		if inv.Dest.Family != svc.Family {
			method = "-i"
		}
		return "-a " + serviceArgs(svc) + " -r " + addrPort(inv.Dest.Addr.String(), inv.Dest.Family, inv.Dest.Port) + " " + method
	}
	switch inv.Command {
	case AddService:
		return nil, []string{savedService(svc)}
	case EditService:
		return []string{setupService}, []string{savedService(svc)}
	case DeleteService:
		return []string{setupService}, []string{}
	case Zero, List:
		if inv.ServiceGiven() {
			return []string{setupService}, []string{setupSaved}
		}
	case AddServer:
		return []string{setupService}, []string{setupSaved, savedDest(svc, inv.Dest)}
	case EditServer:
		return []string{setupService, setupDest()}, []string{setupSaved, savedDest(svc, inv.Dest)}
	case DeleteServer:
		return []string{setupService, setupDest()}, []string{setupSaved}
	case StopDaemon:
		return []string{"--start-daemon " + inv.Daemon.State.String() + " --mcast-interface lo"}, nil
	}
	return nil, nil
}

// referenceLines lists every case as refcheck.sh expects it.
func referenceLines(t *testing.T) []string {
	var lines []string
	for _, c := range acceptedCases {
		args := c.argv()
		if len(args) == 0 || usesLocalNames(args) {
			continue // no arguments: refcheck.sh cannot express it
		}
		setup, _ := setupFor(c.want)
		lines = append(lines, strings.Join(append(setup, shellQuote(args)), " ;; "))
	}
	for _, c := range rejectedCases {
		if usesLocalNames(c.argv()) {
			continue
		}
		lines = append(lines, shellQuote(c.argv()))
	}
	return lines
}

func TestWriteReferenceCases(t *testing.T) {
	path := os.Getenv("COMPAT_WRITE_REFERENCE_CASES")
	if path == "" {
		t.Skip("set COMPAT_WRITE_REFERENCE_CASES to write the reference case list")
	}
	if err := os.WriteFile(path, []byte(strings.Join(referenceLines(t), "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

type referenceResult struct {
	status int
	out    []string
	err    []string
	saved  []string
	daemon []string
	timers []string
}

func readReferenceResults(t *testing.T) map[string]*referenceResult {
	t.Helper()
	f, err := os.Open("testdata/reference-results.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	results := map[string]*referenceResult{}
	var cur *referenceResult
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if c, ok := strings.CutPrefix(line, "=== "); ok {
			cur = &referenceResult{}
			results[c] = cur
			continue
		}
		if cur == nil {
			t.Fatalf("reference results: unexpected line %q", line)
		}
		if rc, ok := strings.CutPrefix(line, "rc="); ok {
			cur.status, err = strconv.Atoi(rc)
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		tag, text, ok := strings.Cut(line, ": ")
		if !ok || !strings.HasSuffix(text, "$") {
			t.Fatalf("reference results: unexpected line %q", line)
		}
		text = strings.TrimSuffix(text, "$")
		switch tag {
		case "out":
			cur.out = append(cur.out, text)
		case "err":
			cur.err = append(cur.err, text)
		case "S":
			cur.saved = append(cur.saved, text)
		case "D":
			cur.daemon = append(cur.daemon, text)
		case "T":
			cur.timers = append(cur.timers, text)
		case "setup failed":
			t.Errorf("reference results: setup failed: %q", text)
		default:
			t.Fatalf("reference results: unexpected line %q", line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return results
}

func TestReference(t *testing.T) {
	results := readReferenceResults(t)
	for _, line := range referenceLines(t) {
		ref := results[line]
		if ref == nil {
			t.Errorf("no reference result for %q; refresh testdata (see reference_test.go)", line)
			continue
		}
		words := strings.Split(line, " ;; ")
		args, err := unquote(words[len(words)-1])
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		inv, err := Parse("ipvsadm", args, fakeResolver{})

		if status, ok := referenceDivergences[line]; ok {
			if ref.status != status {
				t.Errorf("%q: reference status %d, divergence recorded for %d", line, ref.status, status)
			}
			continue
		}
		refMessage := strings.Join(ref.err, "\n")
		if ref.status == 2 || ref.status == 255 && !kernelMessages[refMessage] {
			if diff := cmp.Diff(&Error{Message: refMessage, Status: ref.status}, err); diff != "" {
				t.Errorf("%q: error differs from the reference (-reference +parse):\n%s", line, diff)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: reference accepted it (status %d, %q), Parse: %v", line, ref.status, refMessage, err)
			continue
		}
		checkReferenceState(t, line, inv, ref)
	}
}

func checkReferenceState(t *testing.T, line string, inv *Invocation, ref *referenceResult) {
	t.Helper()
	switch inv.Command {
	case Help:
		if len(ref.out) < 2 || ref.out[1] != "Usage:" {
			t.Errorf("%q: reference did not print the usage: %q", line, ref.out)
		}
		return
	case Version:
		if len(ref.out) != 1 || !strings.HasPrefix(ref.out[0], "ipvsadm v1.31 ") {
			t.Errorf("%q: reference did not print the version: %q", line, ref.out)
		}
		return
	}
	if ref.status != 0 {
		return // the kernel refused it; nothing to compare
	}
	if _, saved := setupFor(inv); saved != nil {
		if diff := cmp.Diff(saved, ref.saved, cmp.Comparer(func(a, b []string) bool {
			return strings.Join(a, "\n") == strings.Join(b, "\n")
		})); diff != "" {
			t.Errorf("%q: -Sn differs (-parse +reference):\n%s", line, diff)
		}
	}
	switch inv.Command {
	case SetTimeouts:
		tm := inv.Timeouts
		values := []uint32{tm.TCP, tm.TCPFin, tm.UDP}
		for i, def := range []uint32{900, 120, 300} {
			if values[i] == 0 {
				values[i] = def
			}
		}
		text := fmt.Sprintf("Timeout (tcp tcpfin udp): %d %d %d", values[0], values[1], values[2])
		var wantTimers []string
		if text != "Timeout (tcp tcpfin udp): 900 120 300" {
			wantTimers = []string{text}
		}
		if diff := cmp.Diff(wantTimers, ref.timers); diff != "" {
			t.Errorf("%q: timeouts differ (-parse +reference):\n%s", line, diff)
		}
	case StartDaemon:
		d := inv.Daemon
		parts := []string{fmt.Sprintf("%s sync daemon (mcast=%s, syncid=%d", d.State, d.Interface, d.SyncID)}
		if d.MaxLen != 0 {
			parts = append(parts, fmt.Sprintf(", maxlen=%d,", d.MaxLen))
		}
		if d.Group.IsValid() {
			parts = append(parts, fmt.Sprintf(", group=%s,", d.Group))
		}
		if d.Port != 0 {
			parts = append(parts, fmt.Sprintf(", port=%d,", d.Port))
		}
		if d.TTL != 0 {
			parts = append(parts, fmt.Sprintf(", ttl=%d)", d.TTL))
		}
		if len(ref.daemon) != 1 {
			t.Errorf("%q: reference daemons %q", line, ref.daemon)
			return
		}
		for _, p := range parts {
			if !strings.Contains(ref.daemon[0], p) {
				t.Errorf("%q: reference daemon %q lacks %q", line, ref.daemon[0], p)
			}
		}
	case StopDaemon:
		if len(ref.daemon) != 0 {
			t.Errorf("%q: daemon still running: %q", line, ref.daemon)
		}
	}
}

// unquote undoes shellQuote.
func unquote(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\'':
			quoted = false
		case quoted:
			cur.WriteByte(c)
		case c == '\'':
			quoted, inWord = true, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == ' ':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}
