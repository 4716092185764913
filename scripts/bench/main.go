//go:build linux

// Command bench compares ipvsadm and lvsadm on large IPVS tables. It runs as
// root inside the project's VM (`make bench` boots it there) and prints a
// Markdown report: wall-time medians, their ratio, the project's targets, the
// batched-netlink floor for restore, and peak memory (cgroup memory.peak).
//
// Every timed run gets a fresh network namespace: IPVS state, including the
// list of removed destinations that every add scans, is per namespace, so a
// reused namespace would make later runs slower than earlier ones. Tools
// alternate which goes first from one repetition to the next.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"
)

func main() {
	// Keep other goroutines off the main thread. A goroutine that exits
	// while locked to the main thread wedges it instead of ending it, which
	// would keep that goroutine's namespace (and its table) alive.
	runtime.LockOSThread()
	if len(os.Args) == 3 && os.Args[1] == dumpFloorArg {
		if err := dumpFloor(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	report, err := run(cfg)
	if report != nil {
		report.write(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// config is what one benchmark run measures.
type config struct {
	ipvsadm string // the reference binary
	lvsadm  string // lvsadm through a link named ipvsadm
	workDir string
	reps    int
	// large is the table of the "10,000 x 10" workloads, small the one of
	// "1,000 x 10"; quick mode makes large small, for development.
	large, small tableSize
	// single is the table the single-invocation loops start from.
	single     tableSize
	quick      bool
	singleRuns int    // invocations per single-invocation loop
	only       string // comma-separated step groups to run; empty: all
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	ipvsadm := fs.String("ipvsadm", "/sbin/ipvsadm", "reference ipvsadm binary")
	lvsadm := fs.String("lvsadm", "", "lvsadm, through a symlink named ipvsadm")
	workDir := fs.String("workdir", "/tmp/bench", "directory for rule files and outputs")
	reps := fs.String("reps", "3", "repetitions per tool and workload (BENCH_REPS)")
	quick := fs.String("quick", "0", "1 = use 1,000 x 10 for the 10,000 x 10 workloads (BENCH_QUICK)")
	singleRuns := fs.Int("single-runs", 200, "invocations per single-invocation loop")
	only := fs.String("only", "", "run only these step groups, comma-separated: checks, restore, listings, singles, apply (BENCH_ONLY; for development, a partial report)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if *lvsadm == "" {
		return config{}, fmt.Errorf("-lvsadm is required")
	}
	if filepath.Base(*lvsadm) != "ipvsadm" {
		return config{}, fmt.Errorf("-lvsadm %s: must be a link named ipvsadm so lvsadm behaves as ipvsadm", *lvsadm)
	}
	n, err := strconv.Atoi(*reps)
	if err != nil || n < 1 {
		return config{}, fmt.Errorf("-reps %q: want a positive integer", *reps)
	}
	cfg := config{
		ipvsadm:    *ipvsadm,
		lvsadm:     *lvsadm,
		workDir:    *workDir,
		reps:       n,
		large:      tableSize{Services: 10000, DestsPerService: 10},
		small:      tableSize{Services: 1000, DestsPerService: 10},
		single:     tableSize{Services: 3, DestsPerService: 2},
		singleRuns: *singleRuns,
		only:       *only,
	}
	switch *quick {
	case "", "0":
	case "1":
		cfg.quick = true
		cfg.large = cfg.small
	default:
		return config{}, fmt.Errorf("-quick %q: want 0 or 1", *quick)
	}
	return cfg, nil
}

// durationText prints seconds with millisecond precision.
func durationText(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }
