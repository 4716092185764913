package format

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsadm/lvsadm/ipvs"
)

// readGolden returns a file captured from the reference ipvsadm by
// testdata/capture.sh.
func readGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// negativeFWMark matches a fwmark as ipvsadm 1.31 prints it with %d.
var negativeFWMark = regexp.MustCompile(`(?m)(^FWM  |^-A -f |^-a -f )(-[0-9]+)`)

// fwmarksUnsigned rewrites ipvsadm 1.31's negative fwmarks as the unsigned
// values lvsadm deliberately prints (upstream's later fix, e61c8cd).
func fwmarksUnsigned(s string) string {
	return negativeFWMark.ReplaceAllStringFunc(s, func(m string) string {
		sub := negativeFWMark.FindStringSubmatch(m)
		v, err := strconv.ParseInt(sub[2], 10, 32)
		if err != nil {
			panic(err)
		}
		return sub[1] + strconv.FormatUint(uint64(uint32(int32(v))), 10)
	})
}

func TestFWMarksUnsigned(t *testing.T) {
	got := fwmarksUnsigned("FWM  -1 rr\n-A -f -2147483648 -s rr\nTCP  192.0.2.1:80 rr\n")
	want := "FWM  4294967295 rr\n-A -f 2147483648 -s rr\nTCP  192.0.2.1:80 rr\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fwmarksUnsigned (-want +got):\n%s", diff)
	}
}

// TestReferenceListings compares every listing mode with the reference
// ipvsadm's output for the same tables.
func TestReferenceListings(t *testing.T) {
	numeric := Options{Numeric: true}
	with := func(o Options, f func(*Options)) Options { f(&o); return o }
	list := func(tables []Table, o Options, n Names) func(io.Writer) error {
		return func(w io.Writer) error { return List(w, referenceInfo, tables, o, n) }
	}
	save := func(tables []Table, n Names, numeric bool) func(io.Writer) error {
		return func(w io.Writer) error { return SaveAll(w, tables, n, numeric) }
	}
	// one lists a single service as ipvsadm -L -t/-f does: no header line.
	one := func(tb Table, o Options) func(io.Writer) error {
		return func(w io.Writer) error {
			if err := Title(w, o); err != nil {
				return err
			}
			return ServiceRows(w, tb, o, nil)
		}
	}

	type test struct {
		golden string
		write  func(io.Writer) error
	}
	// The kernel's dump order changes from boot to boot, and with wrapping
	// comparisons the sorted order depends on it: feed the tables in the
	// order of the --nosort capture of the same boot.
	services := inKernelOrder(t, servicesScene, "services-nosort.golden")
	tunnels := inKernelOrder(t, tunnelsScene, "tunnels-nosort.golden")
	wrap := inKernelOrder(t, wrapScene, "wrap-nosort.golden")

	var tests []test
	for _, scene := range []struct {
		name   string
		tables []Table
	}{
		{"services", services},
		{"tunnels", tunnels},
	} {
		tests = append(tests,
			test{scene.name + "-list", list(scene.tables, numeric, nil)},
			test{scene.name + "-nosort", list(scene.tables, with(numeric, func(o *Options) { o.NoSort = true }), nil)},
			test{scene.name + "-thresholds", list(scene.tables, with(numeric, func(o *Options) { o.Thresholds = true }), nil)},
			test{scene.name + "-persistent-conn", list(scene.tables, with(numeric, func(o *Options) { o.PersistentConn = true }), nil)},
			test{scene.name + "-tun-info", list(scene.tables, with(numeric, func(o *Options) { o.TunInfo = true }), nil)},
			test{scene.name + "-stats", list(scene.tables, with(numeric, func(o *Options) { o.Stats = true }), nil)},
			test{scene.name + "-rate", list(scene.tables, with(numeric, func(o *Options) { o.Rate = true }), nil)},
			test{scene.name + "-stats-exact", list(scene.tables, with(numeric, func(o *Options) { o.Stats, o.Exact = true, true }), nil)},
			test{scene.name + "-save", save(scene.tables, nil, true)},
		)
	}
	tests = append(tests,
		test{"services-one-tcp", one(findTable(t, services, "TCP  192.0.2.1:80"), numeric)},
		test{"services-one-fwm6-thresholds", one(findTable(t, services, "FWM  2 IPv6"), with(numeric, func(o *Options) { o.Thresholds = true }))},
		test{"services-stats-rate", list(services, with(numeric, func(o *Options) { o.Stats, o.Rate = true, true }), nil)},
		test{"services-rate-thresholds", list(services, with(numeric, func(o *Options) { o.Rate, o.Thresholds = true, true }), nil)},
		test{"services-rate-exact", list(services, with(numeric, func(o *Options) { o.Rate, o.Exact = true, true }), nil)},
		test{"services-thresholds-persistent-conn", list(services, with(numeric, func(o *Options) {
			o.Thresholds, o.PersistentConn, o.TunInfo = true, true, true
		}), nil)},
		test{"services-persistent-conn-tun-info", list(services, with(numeric, func(o *Options) { o.PersistentConn, o.TunInfo = true, true }), nil)},
		test{"services-list-exact", list(services, with(numeric, func(o *Options) { o.Exact = true }), nil)},
		test{"wrap-list", list(wrap, numeric, nil)},
		test{"wrap-nosort", list(wrap, with(numeric, func(o *Options) { o.NoSort = true }), nil)},
		test{"wrap-save", save(wrap, nil, true)},
		test{"names-list", list(namesScene, Options{}, referenceNames)},
		test{"names-stats", list(namesScene, Options{Stats: true}, referenceNames)},
		test{"names-tun-info", list(namesScene, Options{TunInfo: true}, referenceNames)},
		test{"names-save", save(namesScene, referenceNames, false)},
	)

	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			want := fwmarksUnsigned(readGolden(t, tt.golden+".golden"))
			var got bytes.Buffer
			if err := tt.write(&got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got.String()); diff != "" {
				t.Errorf("output differs from the reference ipvsadm (-want +got):\n%s", diff)
			}
		})
	}
}

// serviceID is how a numeric ipvsadm listing starts a service's line, as
// ipvsadm 1.31 prints it (signed fwmarks).
func serviceID(s ipvs.ServiceEntry) string {
	if s.FWMark != 0 {
		id := fmt.Sprintf("FWM  %d", int32(s.FWMark))
		if s.Family == ipvs.IPv6 {
			id += " IPv6"
		}
		return id
	}
	return fmt.Sprintf("%-4s %s", s.Protocol, netip.AddrPortFrom(s.Addr, s.Port))
}

// destID is how a numeric ipvsadm listing starts a destination's row.
func destID(d ipvs.DestinationEntry) string {
	return "  -> " + netip.AddrPortFrom(d.Addr, d.Port).String()
}

func findTable(t *testing.T, tables []Table, id string) Table {
	t.Helper()
	for _, tb := range tables {
		if serviceID(tb.Service) == id {
			return tb
		}
	}
	t.Fatalf("no service %q", id)
	return Table{}
}

// inKernelOrder returns the tables (services and destinations) in the
// order of a --nosort listing captured from the reference ipvsadm.
func inKernelOrder(t *testing.T, tables []Table, golden string) []Table {
	t.Helper()
	var out []Table
	var source Table
	dests := 0
	for _, line := range strings.Split(readGolden(t, golden), "\n")[3:] {
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "  -> ") {
			found := false
			for _, d := range source.Dests {
				if strings.HasPrefix(line, destID(d)+" ") {
					last := &out[len(out)-1]
					last.Dests = append(last.Dests, d)
					found = true
					dests++
					break
				}
			}
			if !found {
				t.Fatalf("%s: no destination for %q", golden, line)
			}
			continue
		}
		found := false
		for _, tb := range tables {
			if strings.HasPrefix(line, serviceID(tb.Service)+" ") {
				source = tb
				out = append(out, Table{Service: tb.Service})
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("%s: no service for %q", golden, line)
		}
	}
	want := 0
	for _, tb := range tables {
		want += len(tb.Dests)
	}
	if len(out) != len(tables) || dests != want {
		t.Fatalf("%s lists %d services and %d destinations, the scene has %d and %d",
			golden, len(out), dests, len(tables), want)
	}
	return out
}

// TestListDoesNotModifyTables checks that sorting works on copies, so a
// caller can list the same snapshot twice.
func TestListDoesNotModifyTables(t *testing.T) {
	tables := []Table{wrapScene[0], wrapScene[6], wrapScene[7]}
	before := cloneTables(tables)
	if err := List(io.Discard, referenceInfo, tables, Options{Numeric: true}, nil); err != nil {
		t.Fatal(err)
	}
	if err := SaveAll(io.Discard, tables, nil, true); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, tables, equateAddrs); diff != "" {
		t.Errorf("tables changed (-before +after):\n%s", diff)
	}
}

// equateAddrs lets cmp compare netip.Addr, whose fields are unexported.
var equateAddrs = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func netip4(s string) netip.Addr { return netip.MustParseAddr(s) }
func netip6(s string) netip.Addr { return netip.MustParseAddr(s) }

func cloneTables(tables []Table) []Table {
	out := make([]Table, len(tables))
	for i, tb := range tables {
		out[i] = Table{Service: tb.Service, Dests: append([]ipvs.DestinationEntry(nil), tb.Dests...)}
	}
	return out
}

func TestReferenceTimeouts(t *testing.T) {
	tests := []struct {
		golden   string
		timeouts ipvs.Timeouts
	}{
		{"timeout-default", ipvs.Timeouts{TCP: 900, TCPFin: 120, UDP: 300}},
		{"timeout-set", ipvs.Timeouts{TCP: 3600, TCPFin: 60, UDP: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var got bytes.Buffer
			if err := Timeouts(&got, tt.timeouts); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(readGolden(t, tt.golden+".golden"), got.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestReferenceDaemons feeds what the VM's 6.1 kernel reports for the
// daemons capture-vm.sh starts (maxlen, group, port and ttl are the kernel's
// defaults unless given).
func TestReferenceDaemons(t *testing.T) {
	defaultGroup := netip4("224.0.0.81")
	master := ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "lo", MaxLen: 1472, Group: defaultGroup, Port: 8848, TTL: 1}
	backup := ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "lo", SyncID: 7, MaxLen: 65507, Group: defaultGroup, Port: 8848, TTL: 1}
	tests := []struct {
		golden  string
		daemons []ipvs.Daemon
	}{
		{"daemon-none", nil},
		{"daemon-master", []ipvs.Daemon{master}},
		{"daemon-both", []ipvs.Daemon{master, backup}},
		// The kernel dumps the master first; the order given does not matter.
		{"daemon-both", []ipvs.Daemon{backup, master}},
		{"daemon-backup", []ipvs.Daemon{backup}},
		{"daemon-options", []ipvs.Daemon{{State: ipvs.DaemonMaster, Interface: "lo", SyncID: 255,
			MaxLen: 1000, Group: netip4("239.1.2.3"), Port: 9999, TTL: 5}}},
		{"daemon-v6", []ipvs.Daemon{{State: ipvs.DaemonBackup, Interface: "lo",
			MaxLen: 65487, Group: netip6("ff02::1:2"), Port: 8848, TTL: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var got bytes.Buffer
			if err := Daemons(&got, tt.daemons); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(readGolden(t, tt.golden+".golden"), got.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestAppendSaveLine: each line on its own is the line Save writes for the
// same service or destination.
func TestAppendSaveLine(t *testing.T) {
	for _, scene := range [][]Table{servicesScene, tunnelsScene, wrapScene} {
		for _, tb := range scene {
			var b bytes.Buffer
			if err := Save(&b, tb, nil, true); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			if got := string(AppendSaveLine(nil, &tb.Service.Service, nil)); got != lines[0] {
				t.Errorf("service line %q, Save wrote %q", got, lines[0])
			}
			for i, j := range destOrder(tb.Dests) {
				if got := string(AppendSaveLine([]byte("x"), &tb.Service.Service, &tb.Dests[j].Destination)); got != "x"+lines[1+i] {
					t.Errorf("destination line %q, Save wrote %q", got, lines[1+i])
				}
			}
		}
	}
}
