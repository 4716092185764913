//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWriteRules(t *testing.T) {
	var sb strings.Builder
	if err := writeRules(&sb, tableSize{Services: 2, DestsPerService: 2}); err != nil {
		t.Fatal(err)
	}
	want := `-A -t 198.18.0.1:80 -s rr
-a -t 198.18.0.1:80 -r 198.19.0.1:80 -m -w 1
-a -t 198.18.0.1:80 -r 198.19.0.2:80 -m -w 1
-A -t 198.18.0.2:80 -s rr
-a -t 198.18.0.2:80 -r 198.19.0.3:80 -m -w 1
-a -t 198.18.0.2:80 -r 198.19.0.4:80 -m -w 1
`
	if diff := cmp.Diff(want, sb.String()); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
}

func TestAddresses(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"first service", serviceAddr(0).String(), "198.18.0.1"},
		{"last of the first octet", serviceAddr(249).String(), "198.18.0.250"},
		{"second octet step", serviceAddr(250).String(), "198.18.1.1"},
		{"10,000th service", serviceAddr(9999).String(), "198.18.39.250"},
		{"last server of 10,000 x 10", destAddr(9999, 9, 10).String(), "198.19.143.250"},
		{"servers wrap within 198.19/16", destAddr(6400, 0, 10).String(), "198.19.0.1"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, tt.got, tt.want)
		}
	}
}

func TestWriteRulesTooManyServices(t *testing.T) {
	var sb strings.Builder
	if err := writeRules(&sb, tableSize{Services: maxServices + 1, DestsPerService: 1}); err == nil {
		t.Error("no error for more services than 198.18.0.0/16 holds")
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		name   string
		values []time.Duration
		want   time.Duration
	}{
		{"empty", nil, 0},
		{"one", []time.Duration{5}, 5},
		{"odd, unsorted", []time.Duration{9, 1, 5}, 5},
		{"even: mean of the middle two", []time.Duration{4, 1, 10, 2}, 3},
	}
	for _, tt := range tests {
		if got := median(tt.values); got != tt.want {
			t.Errorf("%s: median(%v) = %v, want %v", tt.name, tt.values, got, tt.want)
		}
	}
}

func TestThousands(t *testing.T) {
	tests := map[int]string{0: "0", 999: "999", 1000: "1,000", 110000: "110,000", 1234567: "1,234,567"}
	for n, want := range tests {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestServiceBlocks(t *testing.T) {
	// Two namespaces list the same table in different hash orders.
	a := "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n" +
		"  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n" +
		"TCP  C6120001:0050 rr  \n  -> C6130001:0050      Masq    1      0          0         \n" +
		"TCP  C6120002:0050 rr  \n  -> C6130002:0050      Masq    1      0          0         \n"
	b := "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n" +
		"  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n" +
		"TCP  C6120002:0050 rr  \n  -> C6130002:0050      Masq    1      0          0         \n" +
		"TCP  C6120001:0050 rr  \n  -> C6130001:0050      Masq    1      0          0         \n"
	want := []string{
		"TCP  C6120001:0050 rr  \n  -> C6130001:0050      Masq    1      0          0         \n",
		"TCP  C6120002:0050 rr  \n  -> C6130002:0050      Masq    1      0          0         \n",
	}
	for name, text := range map[string]string{"a": a, "b": b} {
		if diff := cmp.Diff(want, serviceBlocks(text)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

func TestFirstDifference(t *testing.T) {
	got := firstDifference([]byte("same\nleft\n"), []byte("same\nright\n"))
	want := `DIFFERENT: sizes 10 vs 11 bytes; line 2: ipvsadm "left\n", lvsadm "right\n"`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    config
		wantErr bool
	}{
		{
			name: "defaults",
			args: []string{"-lvsadm", "/opt/lvsadm/ipvsadm"},
			want: config{
				ipvsadm: "/sbin/ipvsadm", lvsadm: "/opt/lvsadm/ipvsadm", workDir: "/tmp/bench", reps: 3,
				large: tableSize{10000, 10}, small: tableSize{1000, 10}, single: tableSize{3, 2}, singleRuns: 200,
			},
		},
		{
			name: "quick",
			args: []string{"-lvsadm", "/x/ipvsadm", "-quick", "1", "-reps", "5"},
			want: config{
				ipvsadm: "/sbin/ipvsadm", lvsadm: "/x/ipvsadm", workDir: "/tmp/bench", reps: 5,
				large: tableSize{1000, 10}, small: tableSize{1000, 10}, single: tableSize{3, 2}, singleRuns: 200, quick: true,
			},
		},
		{name: "lvsadm not named ipvsadm", args: []string{"-lvsadm", "/opt/lvsadm/lvsadm"}, wantErr: true},
		{name: "no lvsadm", args: nil, wantErr: true},
		{name: "zero reps", args: []string{"-lvsadm", "/x/ipvsadm", "-reps", "0"}, wantErr: true},
		{name: "bad quick", args: []string{"-lvsadm", "/x/ipvsadm", "-quick", "yes"}, wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseFlags(tt.args)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, wantErr %v", tt.name, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(config{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// The -Ln and -Sn floor is the process that reads as lvsadm does, not the
// sum of cat and the service dump made by separate processes.
func TestKernelFloors(t *testing.T) {
	secs := func(f float64) []sample { return []sample{{Wall: time.Duration(f * float64(time.Second))}} }
	r := &report{ServiceDump: secs(0.25), ListingReads: secs(1.2), AllDumps: secs(2.0)}
	for _, w := range []struct {
		name            string
		ipvsadm, lvsadm float64
	}{{"`-Ln` 10,000 x 10", 8, 1.5}, {"`-Sn` 10,000 x 10", 6, 1.2}, {"`-Ln --stats` 10,000 x 10", 8, 2.2}} {
		rw := r.addRow(w.name, targetLn)
		rw.Samples["ipvsadm"], rw.Samples["lvsadm"] = secs(w.ipvsadm), secs(w.lvsadm)
	}
	var out strings.Builder
	r.writeKernelFloors(&out, time.Second)
	want := "Kernel-read floors (a process that only reads, timed like the tools): service dump 0.250 s; service dump, then `/proc/net/ip_vs` 1.200 s (`cat` alone 1.000 s); service dump + every destination dump 2.000 s.\n\n" +
		"| listing | floor | floor | floor / ipvsadm | lvsadm / floor |\n" +
		"|---|---|---:|---:|---:|\n" +
		"| `-Ln` 10,000 x 10 | service dump, then `/proc/net/ip_vs` | 1.200 s | 0.150 | 1.25 x |\n" +
		"| `-Sn` 10,000 x 10 | service dump, then `/proc/net/ip_vs` | 1.200 s | 0.200 | 1.00 x |\n" +
		"| `-Ln --stats` 10,000 x 10 | service dump + destination dumps | 2.000 s | 0.250 | 1.10 x |\n\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestParsePeak(t *testing.T) {
	if got, err := parsePeak("24633344\n"); err != nil || got != 24056 {
		t.Errorf("parsePeak(24633344) = %d, %v; want 24056 KiB", got, err)
	}
	if _, err := parsePeak("max\n"); err == nil {
		t.Error("parsePeak(max): no error")
	}
}

// Without a usable cgroup v2 memory controller the meter falls back to
// ru_maxrss, says why, and leaves no probe cgroup behind.
func TestNewMeterFallback(t *testing.T) {
	tests := []struct {
		name        string
		controllers string // "" = no cgroup.controllers file
		wantReason  string
	}{
		{"not a cgroup2 mount", "", "cgroup.controllers: no such file or directory"},
		{"no memory controller", "cpuset cpu io pids\n", "has no memory controller"},
		// A plain directory gets no memory.peak in the new child, as a
		// kernel before 5.19 gives none.
		{"no memory.peak", "cpuset cpu io memory pids\n", "memory.peak: no such file or directory"},
	}
	for _, tt := range tests {
		root := t.TempDir()
		if tt.controllers != "" {
			if err := os.WriteFile(filepath.Join(root, "cgroup.controllers"), []byte(tt.controllers), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		m := newMeter(root)
		if m.parent != "" || !strings.HasPrefix(m.Method, "wait4's ru_maxrss (") || !strings.Contains(m.Method, tt.wantReason) {
			t.Errorf("%s: parent %q, method %q; want ru_maxrss because of %q", tt.name, m.parent, m.Method, tt.wantReason)
		}
		if _, err := os.Stat(filepath.Join(root, "lvsadm-bench", "probe")); !os.IsNotExist(err) {
			t.Errorf("%s: probe cgroup left behind (stat: %v)", tt.name, err)
		}
		if g, err := m.group(); g != nil || err != nil {
			t.Errorf("%s: group() = %v, %v; want no cgroup", tt.name, g, err)
		}
	}
}

// The per-repetition table shows ru_maxrss beside memory.peak, and only one
// figure when ru_maxrss is all there is.
func TestPeakList(t *testing.T) {
	samples := []sample{{PeakKB: 10 << 10, RusageMaxRSSKB: 70 << 10}, {PeakKB: 12 << 10, RusageMaxRSSKB: 71 << 10}}
	r := &report{cgroupPeaks: true}
	if got, want := r.peakList(samples), "10.0 (70.0), 12.0 (71.0) MiB"; got != want {
		t.Errorf("cgroup peaks: got %q, want %q", got, want)
	}
	r.cgroupPeaks = false
	samples = []sample{{PeakKB: 70 << 10, RusageMaxRSSKB: 70 << 10}}
	if got, want := r.peakList(samples), "70.0 MiB"; got != want {
		t.Errorf("ru_maxrss only: got %q, want %q", got, want)
	}
}

// TestOneWeightRules: the variant differs from the table in the weight of
// the middle service's first real server, and nowhere else.
func TestOneWeightRules(t *testing.T) {
	size := tableSize{Services: 4, DestsPerService: 2}
	var sb strings.Builder
	if err := writeRules(&sb, size); err != nil {
		t.Fatal(err)
	}
	got, err := oneWeightRules([]byte(sb.String()), size)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(sb.String(), "-a -t 198.18.0.3:80 -r 198.19.0.5:80 -m -w 1\n", "-a -t 198.18.0.3:80 -r 198.19.0.5:80 -m -w 2\n", 1)
	if want == sb.String() {
		t.Fatal("the expected line is not in the table")
	}
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestApplyRows: rows of the apply group are printed against their
// baseline, in a table of their own, and not in ipvsadm's.
func TestApplyRows(t *testing.T) {
	r := newReport(config{reps: 2})
	rw := r.addRow("`lvsadm plan -f` x", targetPlan)
	rw.Baseline = baselineSave
	for _, s := range []time.Duration{4, 6} {
		rw.add("baseline", sample{Wall: s * time.Second})
		rw.add("lvsadm", sample{Wall: s * time.Second / 4})
	}
	var sb strings.Builder
	r.writeApply(&sb)
	want := "| apply workload | baseline | baseline median | lvsadm median | ratio (lvsadm/baseline) | target | met? |\n" +
		"|---|---|---:|---:|---:|---|---|\n" +
		"| `lvsadm plan -f` x | `ipvsadm -Sn` | 5.000 s | 1.250 s | 0.250 | <= 0.50 | yes |\n\n"
	if diff := cmp.Diff(want, sb.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	sb.Reset()
	r.write(&sb)
	if strings.Count(sb.String(), "`lvsadm plan -f` x | `ipvsadm -Sn`") != 1 || !strings.Contains(sb.String(), "| `lvsadm plan -f` x | ipvsadm -Sn | 4.000, 6.000 s |") {
		t.Errorf("report:\n%s", sb.String())
	}
}
