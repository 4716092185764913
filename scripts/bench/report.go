//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// target is the largest acceptable ratio lvsadm / ipvsadm of medians; 0
// means the workload is measured without a target.
type target float64

// The project's targets (docs/benchmarks.md says where they come from).
const (
	targetRLarge  target = 0.20
	targetRSmall  target = 0.30
	targetLn      target = 0.35
	targetSn      target = 0.35
	targetLnStats target = 0
	targetSingle  target = 1.00
)

// targetColumns are the target and met columns of a ratio q.
func (t target) columns(q float64) string {
	if t == 0 {
		return "none | -"
	}
	return fmt.Sprintf("<= %.2f | %s", float64(t), verdict(q <= float64(t)))
}

// row is one workload's samples.
type row struct {
	Workload string
	Target   target
	Samples  map[string][]sample // by tool name, or "baseline"
	// Baseline names what the lvsadm samples are compared with in a row of
	// the apply group (its samples are under "baseline"); empty: ipvsadm.
	Baseline string
	Floor    []sample // batched-netlink floor, large restore only
}

func (r *row) add(toolName string, s sample) { r.Samples[toolName] = append(r.Samples[toolName], s) }
func (r *row) addFloor(s sample)             { r.Floor = append(r.Floor, s) }

// outputCheck records whether both tools printed the same bytes.
type outputCheck struct {
	Listing   string
	Identical bool
	Detail    string
}

type report struct {
	cfg            config
	Started        time.Time
	Finished       time.Time
	Kernel         string
	CPUs           int
	MemTotal       string
	IpvsadmVersion string
	LvsadmVersion  string
	MemoryMethod   string // how peak memory is measured (see meter)
	// cgroupPeaks: PeakKB is memory.peak, not ru_maxrss, which the
	// per-repetition table then shows beside it.
	cgroupPeaks bool

	rows         []*row
	memRow       *row // the -Ln row of the large table
	ProcListing  []sample
	ServiceDump  []sample // a process making one netlink service dump
	ListingReads []sample // a process making the service dump, then reading /proc/net/ip_vs
	AllDumps     []sample // a process making the service dump and every destination dump
	checks       []outputCheck

	settles      int
	settleTotal  time.Duration
	settleMax    time.Duration
	settleGaveUp int
}

func newReport(cfg config) *report { return &report{cfg: cfg, Started: time.Now()} }

func (r *report) addRow(workload string, t target) *row {
	rw := &row{Workload: workload, Target: t, Samples: map[string][]sample{}}
	r.rows = append(r.rows, rw)
	return rw
}

func (r *report) addCheck(listing string, ipvsadmOut, lvsadmOut []byte) {
	c := outputCheck{Listing: listing, Identical: bytes.Equal(ipvsadmOut, lvsadmOut)}
	if c.Identical {
		c.Detail = fmt.Sprintf("%s bytes, %s lines", thousands(len(ipvsadmOut)), thousands(bytes.Count(ipvsadmOut, []byte("\n"))))
	} else {
		c.Detail = firstDifference(ipvsadmOut, lvsadmOut)
	}
	r.checks = append(r.checks, c)
}

func (r *report) noteIdle(waited time.Duration, gaveUp bool) {
	r.settles++
	r.settleTotal += waited
	r.settleMax = max(r.settleMax, waited)
	if gaveUp {
		r.settleGaveUp++
	}
}

// firstDifference describes where two outputs first differ.
func firstDifference(a, b []byte) string {
	la, lb := strings.SplitAfter(string(a), "\n"), strings.SplitAfter(string(b), "\n")
	for i := range max(len(la), len(lb)) {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("DIFFERENT: sizes %d vs %d bytes; line %d: ipvsadm %.80q, lvsadm %.80q", len(a), len(b), i+1, x, y)
		}
	}
	return "DIFFERENT"
}

func medianWall(samples []sample) time.Duration {
	walls := make([]time.Duration, len(samples))
	for i, s := range samples {
		walls[i] = s.Wall
	}
	return median(walls)
}

func medianPeak(samples []sample) int64 {
	peaks := make([]int64, len(samples))
	for i, s := range samples {
		peaks[i] = s.PeakKB
	}
	return median(peaks)
}

// median of values; the mean of the middle two for an even count.
func median[T time.Duration | int64](values []T) T {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[mid]
	}
	return (sorted[mid-1] + sorted[mid]) / 2
}

func ratio(num, den time.Duration) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

func verdict(ok bool) string {
	if ok {
		return "yes"
	}
	return "**NO**"
}

func mib(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

// write prints the report as Markdown.
func (r *report) write(w io.Writer) {
	fmt.Fprintf(w, "## ipvsadm vs lvsadm\n\n")
	fmt.Fprintf(w, "- kernel: %s; %d CPU(s); memory %s\n", r.Kernel, r.CPUs, r.MemTotal)
	fmt.Fprintf(w, "- ipvsadm: %s\n", r.IpvsadmVersion)
	fmt.Fprintf(w, "- lvsadm: %s (run through a link named ipvsadm)\n", r.LvsadmVersion)
	fmt.Fprintf(w, "- peak memory: %s\n", r.MemoryMethod)
	mode := ""
	if r.cfg.quick {
		mode = "; QUICK MODE: the large table is 1,000 x 10, so the targets (set for 10,000 x 10) are only indicative"
	}
	fmt.Fprintf(w, "- %d repetitions per tool and workload, medians; large table %s, small %s%s\n",
		r.cfg.reps, r.cfg.large, r.cfg.small, mode)
	if !r.Finished.IsZero() {
		fmt.Fprintf(w, "- started %s, took %s\n", r.Started.UTC().Format(time.RFC3339), r.Finished.Sub(r.Started).Round(time.Second))
	} else {
		fmt.Fprintf(w, "- started %s, DID NOT FINISH (partial results)\n", r.Started.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "| workload | ipvsadm median | lvsadm median | ratio (lvsadm/ipvsadm) | target | met? |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|")
	for _, rw := range r.rows {
		ip, lv := rw.Samples["ipvsadm"], rw.Samples["lvsadm"]
		if len(ip) == 0 || len(lv) == 0 {
			continue
		}
		mi, ml := medianWall(ip), medianWall(lv)
		q := ratio(ml, mi)
		fmt.Fprintf(w, "| %s | %s | %s | %.3f | %s |\n",
			rw.Workload, durationText(mi), durationText(ml), q, rw.Target.columns(q))
		if len(rw.Floor) > 0 {
			mf := medianWall(rw.Floor)
			fmt.Fprintf(w, "| %s: lvsadm vs the batched floor (same requests prebuilt, one `ipvs.Batch.Send`) | floor %s | %s | %.2f x floor | none | - |\n",
				rw.Workload, durationText(mf), durationText(ml), ratio(ml, mf))
		}
	}
	if rw := r.memRow; rw != nil && len(rw.Samples["ipvsadm"]) > 0 && len(rw.Samples["lvsadm"]) > 0 {
		pi, pl := medianPeak(rw.Samples["ipvsadm"]), medianPeak(rw.Samples["lvsadm"])
		fmt.Fprintf(w, "| peak memory, %s | %s | %s | %+.1f MiB | none | - |\n",
			rw.Workload, mib(pi), mib(pl), float64(pl-pi)/1024)
	}
	fmt.Fprintln(w)

	r.writeApply(w)

	if len(r.ProcListing) > 0 {
		mc := medianWall(r.ProcListing)
		fmt.Fprintf(w, "`cat /proc/net/ip_vs` of the %s table, median %s.", r.cfg.large, durationText(mc))
		for _, rw := range r.rows {
			if !strings.HasPrefix(rw.Workload, "`-Ln` ") && !strings.HasPrefix(rw.Workload, "`-Sn` ") && !strings.HasPrefix(rw.Workload, "`-Ln --stats` ") {
				continue
			}
			fmt.Fprintf(w, " %s: ipvsadm %.1f x, lvsadm %.1f x.", rw.Workload,
				ratio(medianWall(rw.Samples["ipvsadm"]), mc), ratio(medianWall(rw.Samples["lvsadm"]), mc))
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w)
		if len(r.ServiceDump) > 0 && len(r.ListingReads) > 0 && len(r.AllDumps) > 0 {
			r.writeKernelFloors(w, mc)
		}
	}

	if len(r.checks) > 0 {
		fmt.Fprintln(w, "| output check (untimed, same table) | ipvsadm and lvsadm byte-identical? | |")
		fmt.Fprintln(w, "|---|---|---|")
		for _, c := range r.checks {
			fmt.Fprintf(w, "| %s | %s | %s |\n", c.Listing, verdict(c.Identical), c.Detail)
		}
		fmt.Fprintln(w)
	}

	peaks := "peak memory per repetition"
	if r.cgroupPeaks {
		peaks += " (ru_maxrss)"
	}
	fmt.Fprintf(w, "| workload | tool | wall per repetition | %s |\n", peaks)
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, rw := range r.rows {
		for _, name := range []string{"ipvsadm", "baseline", "lvsadm"} {
			if s := rw.Samples[name]; len(s) > 0 {
				label := name
				if name == "baseline" {
					label = rw.Baseline
				}
				fmt.Fprintf(w, "| %s | %s | %s | %s |\n", rw.Workload, label, walls(s), r.peakList(s))
			}
		}
		if len(rw.Floor) > 0 {
			fmt.Fprintf(w, "| %s | floor | %s | |\n", rw.Workload, walls(rw.Floor))
		}
	}
	if len(r.ProcListing) > 0 {
		fmt.Fprintf(w, "| `cat /proc/net/ip_vs` %s | cat | %s | %s |\n", r.cfg.large, walls(r.ProcListing), r.peakList(r.ProcListing))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Waits for an idle CPU before timed runs: %d, total %s, longest %s, gave up %d time(s).\n",
		r.settles, r.settleTotal.Round(100*time.Millisecond), r.settleMax.Round(100*time.Millisecond), r.settleGaveUp)
}

func walls(samples []sample) string {
	parts := make([]string, len(samples))
	for i, s := range samples {
		parts[i] = fmt.Sprintf("%.3f", s.Wall.Seconds())
	}
	return strings.Join(parts, ", ") + " s"
}

// peakList prints each sample's peak memory in MiB, with ru_maxrss in
// parentheses when the peak comes from a cgroup.
func (r *report) peakList(samples []sample) string {
	parts := make([]string, len(samples))
	for i, s := range samples {
		parts[i] = fmt.Sprintf("%.1f", float64(s.PeakKB)/1024)
		if r.cgroupPeaks {
			parts[i] += fmt.Sprintf(" (%.1f)", float64(s.RusageMaxRSSKB)/1024)
		}
	}
	return strings.Join(parts, ", ") + " MiB"
}

// writeKernelFloors relates each listing to the kernel reads it cannot
// avoid: -Ln and -Sn need the service dump (flags, persistence engine and
// timeout are only there) and the destinations, cheapest from /proc;
// --stats needs one destination dump per service (counters are only there).
// Each floor is a process making those reads in lvsadm's order and nothing
// else. A floor ratio is floor / ipvsadm.
func (r *report) writeKernelFloors(w io.Writer, procMedian time.Duration) {
	sd, reads, all := medianWall(r.ServiceDump), medianWall(r.ListingReads), medianWall(r.AllDumps)
	fmt.Fprintf(w, "Kernel-read floors (a process that only reads, timed like the tools): service dump %s; service dump, then `/proc/net/ip_vs` %s (`cat` alone %s); service dump + every destination dump %s.\n\n",
		durationText(sd), durationText(reads), durationText(procMedian), durationText(all))
	fmt.Fprintln(w, "| listing | floor | floor | floor / ipvsadm | lvsadm / floor |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|")
	for _, rw := range r.rows {
		var name string
		var floor time.Duration
		switch {
		case strings.HasPrefix(rw.Workload, "`-Ln --stats` "):
			name, floor = "service dump + destination dumps", all
		case strings.HasPrefix(rw.Workload, "`-Ln` "), strings.HasPrefix(rw.Workload, "`-Sn` "):
			name, floor = "service dump, then `/proc/net/ip_vs`", reads
		default:
			continue
		}
		ip, lv := rw.Samples["ipvsadm"], rw.Samples["lvsadm"]
		if len(ip) == 0 || len(lv) == 0 {
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.3f | %.2f x |\n", rw.Workload, name, durationText(floor), ratio(floor, medianWall(ip)), ratio(medianWall(lv), floor))
	}
	fmt.Fprintln(w)
}

// writeApply prints the apply group's rows: lvsadm's desired-state commands
// against their baselines.
func (r *report) writeApply(w io.Writer) {
	header := false
	for _, rw := range r.rows {
		base, lv := rw.Samples["baseline"], rw.Samples["lvsadm"]
		if rw.Baseline == "" || len(base) == 0 || len(lv) == 0 {
			continue
		}
		if !header {
			fmt.Fprintln(w, "| apply workload | baseline | baseline median | lvsadm median | ratio (lvsadm/baseline) | target | met? |")
			fmt.Fprintln(w, "|---|---|---:|---:|---:|---|---|")
			header = true
		}
		mb, ml := medianWall(base), medianWall(lv)
		q := ratio(ml, mb)
		fmt.Fprintf(w, "| %s | `%s` | %s | %s | %.3f | %s |\n", rw.Workload, rw.Baseline, durationText(mb), durationText(ml), q, rw.Target.columns(q))
	}
	if header {
		fmt.Fprintln(w)
	}
}
