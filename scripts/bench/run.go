//go:build linux

package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvsadm/lvsadm/ipvs"
)

// tool is a program under test.
type tool struct {
	Name string // "ipvsadm" or "lvsadm"
	Path string
}

// bench holds one benchmark run's inputs and what it has measured so far.
type bench struct {
	cfg    config
	tools  [2]tool
	files  benchFiles
	report *report
	meter  *meter
	// tableDigest identifies the services (with their destinations) that
	// every restore of the large table must produce; the first one sets it.
	tableDigest [sha256.Size]byte
	tableSeen   bool
}

type benchFiles struct {
	largeRules, smallRules, singleRules, stderr string
	largeWeightRules                            string // largeRules with one weight changed
	applyOut                                    string // plan's and apply's output
}

func run(cfg config) (*report, error) {
	if err := os.MkdirAll(cfg.workDir, 0o755); err != nil {
		return nil, err
	}
	b := &bench{
		cfg:   cfg,
		tools: [2]tool{{"ipvsadm", cfg.ipvsadm}, {"lvsadm", cfg.lvsadm}},
		files: benchFiles{
			largeRules:  filepath.Join(cfg.workDir, "large.rules"),
			smallRules:  filepath.Join(cfg.workDir, "small.rules"),
			singleRules: filepath.Join(cfg.workDir, "single.rules"),
			stderr:      filepath.Join(cfg.workDir, "stderr"),

			largeWeightRules: filepath.Join(cfg.workDir, "large-weight.rules"),
			applyOut:         filepath.Join(cfg.workDir, "apply.out"),
		},
		report: newReport(cfg),
		meter:  newMeter(cgroupRoot),
	}
	b.report.MemoryMethod, b.report.cgroupPeaks = b.meter.Method, b.meter.parent != ""
	if err := b.prepare(); err != nil {
		return nil, err
	}
	steps := []struct {
		group string
		run   func() error
	}{
		{"checks", b.outputChecks},
		{"restore", b.restoreLarge},
		{"restore", b.restoreSmall},
		{"listings", func() error { return b.listing("-Ln", targetLn) }},
		{"listings", func() error { return b.listing("-Sn", targetSn) }},
		{"listings", func() error { return b.listing("-Ln --stats", targetLnStats) }},
		{"listings", b.procListing},
		{"singles", b.singles},
		{"apply", b.applyEmpty},
		{"apply", b.applyTable},
	}
	for _, step := range steps {
		if cfg.only != "" && !slices.Contains(strings.Split(cfg.only, ","), step.group) {
			continue
		}
		if err := step.run(); err != nil {
			return b.report, err
		}
	}
	b.report.Finished = time.Now()
	return b.report, nil
}

// prepare loads the modules (so no run pays for it), writes the rule files
// and records the environment.
func (b *bench) prepare() error {
	if out, err := exec.Command("modprobe", "-a", "ip_vs", "ip_vs_rr").CombinedOutput(); err != nil {
		return fmt.Errorf("modprobe: %v: %s", err, out)
	}
	for path, size := range map[string]tableSize{
		b.files.largeRules:  b.cfg.large,
		b.files.smallRules:  b.cfg.small,
		b.files.singleRules: b.cfg.single,
	} {
		if err := writeRulesFile(path, size); err != nil {
			return err
		}
	}
	rules, err := os.ReadFile(b.files.largeRules)
	if err != nil {
		return err
	}
	changed, err := oneWeightRules(rules, b.cfg.large)
	if err != nil {
		return err
	}
	if err := os.WriteFile(b.files.largeWeightRules, changed, 0o644); err != nil {
		return err
	}
	var uts unix.Utsname
	if err := unix.Uname(&uts); err == nil {
		b.report.Kernel = unix.ByteSliceToString(uts.Release[:]) + " " + unix.ByteSliceToString(uts.Machine[:])
	}
	b.report.CPUs = runtime.NumCPU()
	b.report.MemTotal = memTotal()
	b.report.IpvsadmVersion = firstLine(exec.Command(b.cfg.ipvsadm, "--version").Output())
	if real, err := filepath.EvalSymlinks(b.cfg.lvsadm); err == nil {
		b.report.LvsadmVersion = firstLine(exec.Command(real, "--version").Output())
	}
	return nil
}

// order alternates which tool runs first in repetition rep.
func (b *bench) order(rep int) [2]tool {
	if rep%2 == 1 {
		return [2]tool{b.tools[1], b.tools[0]}
	}
	return b.tools
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// settle waits for the previous namespace's teardown to finish.
func (b *bench) settle() error {
	waited, gaveUp, err := waitIdle()
	if err != nil {
		return err
	}
	b.report.noteIdle(waited, gaveUp)
	return nil
}

// build fills the current namespace with a table using lvsadm's restore.
func (b *bench) build(rules string) error {
	_, err := b.meter.run(command{Argv: []string{b.cfg.lvsadm, "-R"}, Stdin: rules}, b.files.stderr)
	return err
}

// checkTable verifies that the current thread's namespace holds exactly the
// large table, the same as after every other restore. Services are compared
// as a set: the kernel's service hash mixes in the namespace's address, so
// /proc/net/ip_vs orders them differently in every namespace. It also
// catches a leftover table in another namespace: the kernel's
// /proc/net/ip_vs iterator then loses lines (see inFreshNetns).
func (b *bench) checkTable(who string) error {
	text, err := os.ReadFile("/proc/thread-self/net/ip_vs")
	if err != nil {
		return err
	}
	const headerLines = 3
	if got, want := bytes.Count(text, []byte("\n")), headerLines+b.cfg.large.Lines(); got != want {
		return fmt.Errorf("%s: /proc/net/ip_vs has %d lines, want %d (an incomplete table, or another namespace still holds services)", who, got, want)
	}
	digest := sha256.Sum256([]byte(strings.Join(serviceBlocks(string(text)), "")))
	if !b.tableSeen {
		b.tableDigest, b.tableSeen = digest, true
		return nil
	}
	if digest != b.tableDigest {
		return fmt.Errorf("%s: the table differs from the first restore's", who)
	}
	return nil
}

// serviceBlocks splits /proc/net/ip_vs text into sorted blocks of one
// service line and its destination lines, without the header.
func serviceBlocks(text string) []string {
	var blocks []string
	for n, line := range slices.Collect(strings.Lines(text)) {
		switch {
		case n < 3:
		case strings.HasPrefix(line, "  -> ") && len(blocks) > 0:
			blocks[len(blocks)-1] += line
		default:
			blocks = append(blocks, line)
		}
	}
	slices.Sort(blocks)
	return blocks
}

func (b *bench) restoreLarge() error {
	row := b.report.addRow(fmt.Sprintf("`-R` %s (%s lines)", b.cfg.large, thousands(b.cfg.large.Lines())), targetRLarge)
	for rep := range b.cfg.reps {
		for _, t := range b.order(rep) {
			err := inFreshNetns(func(int) error {
				if err := b.settle(); err != nil {
					return err
				}
				s, err := b.meter.run(command{Argv: []string{t.Path, "-R"}, Stdin: b.files.largeRules}, b.files.stderr)
				if err != nil {
					return err
				}
				row.add(t.Name, s)
				b.logf("%s rep %d %s: %s", row.Workload, rep+1, t.Name, durationText(s.Wall))
				return b.checkTable(t.Name + " -R")
			})
			if err != nil {
				return err
			}
		}
		if err := b.floorRun(row, rep); err != nil {
			return err
		}
	}
	return nil
}

// floorRun sends the same requests as the large restore through one
// ipvs.Batch: encoded before the clock starts, timed only around Send.
func (b *bench) floorRun(row *row, rep int) error {
	return inFreshNetns(func(netnsFD int) error {
		c, err := ipvs.Dial(&ipvs.Config{NetNSFD: netnsFD})
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		defer c.Close()
		batch := c.NewBatch()
		queueTable(batch, b.cfg.large)
		runtime.GC()
		if err := b.settle(); err != nil {
			return err
		}
		start := time.Now()
		results, err := batch.Send()
		wall := time.Since(start)
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		if err := errors.Join(results...); err != nil {
			return fmt.Errorf("floor: requests failed: %.500v", err)
		}
		row.addFloor(sample{Wall: wall})
		b.logf("%s rep %d floor: %s", row.Workload, rep+1, durationText(wall))
		return b.checkTable("floor")
	})
}

func (b *bench) restoreSmall() error {
	row := b.report.addRow(fmt.Sprintf("`-R` %s (%s lines)", b.cfg.small, thousands(b.cfg.small.Lines())), targetRSmall)
	for rep := range b.cfg.reps {
		for _, t := range b.order(rep) {
			err := inFreshNetns(func(int) error {
				if err := b.settle(); err != nil {
					return err
				}
				s, err := b.meter.run(command{Argv: []string{t.Path, "-R"}, Stdin: b.files.smallRules}, b.files.stderr)
				if err != nil {
					return err
				}
				row.add(t.Name, s)
				b.logf("%s rep %d %s: %s", row.Workload, rep+1, t.Name, durationText(s.Wall))
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// listing times one listing of the large table, built untimed first.
func (b *bench) listing(args string, target target) error {
	row := b.report.addRow(fmt.Sprintf("`%s` %s", args, b.cfg.large), target)
	if args == "-Ln" {
		b.report.memRow = row
	}
	for rep := range b.cfg.reps {
		for _, t := range b.order(rep) {
			err := inFreshNetns(func(int) error {
				if err := b.buildLargeTable(); err != nil {
					return err
				}
				s, err := b.meter.run(command{Argv: append([]string{t.Path}, strings.Fields(args)...)}, b.files.stderr)
				if err != nil {
					return err
				}
				row.add(t.Name, s)
				b.logf("%s rep %d %s: %s", row.Workload, rep+1, t.Name, durationText(s.Wall))
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// buildLargeTable builds the large table untimed (lvsadm -R), checks it and
// waits for an idle CPU: the start of every listing measurement.
func (b *bench) buildLargeTable() error {
	if err := b.build(b.files.largeRules); err != nil {
		return err
	}
	if err := b.checkTable("lvsadm -R (untimed build)"); err != nil {
		return err
	}
	return b.settle()
}

// procListing times `cat /proc/net/ip_vs` of the large table: the cheapest
// way to read the whole table, a floor for the listings.
func (b *bench) procListing() error {
	cat, err := exec.LookPath("cat")
	if err != nil {
		return err
	}
	var samples []sample
	for rep := range b.cfg.reps {
		err := inFreshNetns(func(int) error {
			if err := b.buildLargeTable(); err != nil {
				return err
			}
			s, err := b.meter.run(command{Argv: []string{cat, "/proc/net/ip_vs"}}, b.files.stderr)
			if err != nil {
				return err
			}
			samples = append(samples, s)
			b.logf("cat /proc/net/ip_vs rep %d: %s", rep+1, durationText(s.Wall))
			return b.dumpFloors(rep)
		})
		if err != nil {
			return err
		}
	}
	b.report.ProcListing = samples
	return nil
}

// dumpFloorArg makes the driver a floor process (see dumpFloor).
const dumpFloorArg = "-dump-floor"

// dumpFloors times the kernel reads the listings need, done by a process
// that does nothing else (the driver itself, re-run as dumpFloor), timed
// like the tools: one service dump ("services"); the service dump and then
// all of /proc/net/ip_vs, as -Ln and -Sn read them ("reads"); the service
// dump followed by one destination dump per service ("all", what --stats
// must read). Same table, same namespace, right after the /proc floor.
func (b *bench) dumpFloors(rep int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	for _, mode := range []string{"services", "reads", "all"} {
		if err := b.settle(); err != nil {
			return err
		}
		s, err := b.meter.run(command{Argv: []string{self, dumpFloorArg, mode}}, b.files.stderr)
		if err != nil {
			return fmt.Errorf("dump floor %s: %w", mode, err)
		}
		switch mode {
		case "services":
			b.report.ServiceDump = append(b.report.ServiceDump, s)
		case "reads":
			b.report.ListingReads = append(b.report.ListingReads, s)
		default:
			b.report.AllDumps = append(b.report.AllDumps, s)
		}
		b.logf("dump floor %s rep %d: %s", mode, rep+1, durationText(s.Wall))
	}
	return nil
}

// dumpFloor reads the calling namespace's table and prints nothing: mode
// "services" makes one service dump, "reads" then reads /proc/net/ip_vs to
// its end, "all" makes one destination dump per service after the service
// dump.
func dumpFloor(mode string) error {
	if mode != "services" && mode != "reads" && mode != "all" {
		return fmt.Errorf("dump floor mode %q", mode)
	}
	c, err := ipvs.New()
	if err != nil {
		return err
	}
	defer c.Close()
	svcs, err := c.Services()
	if err != nil {
		return err
	}
	switch mode {
	case "reads":
		return readToEnd("/proc/net/ip_vs")
	case "all":
		for _, s := range svcs {
			if _, err := c.Destinations(s.ServiceKey); err != nil {
				return err
			}
		}
	}
	return nil
}

// singles times loops of single invocations on a small table.
func (b *bench) singles() error {
	n := b.cfg.singleRuns
	loops := []struct {
		label  string
		target target
		argv   func(path string, i int) []string
	}{
		{"-A", targetSingle, func(path string, i int) []string {
			// Service addresses past the base table's, one per invocation.
			return []string{path, "-A", "-t", serviceAddr(1000+i).String() + ":80", "-s", "rr"}
		}},
		{"-a", targetSingle, func(path string, i int) []string {
			svc := serviceAddr(i % b.cfg.single.Services)
			// Real servers from 198.19.200.0 up, clear of the base table's.
			rs := destAddr(200*addrsPerOctet+i, 0, 1)
			return []string{path, "-a", "-t", svc.String() + ":80", "-r", rs.String() + ":80", "-m", "-w", "1"}
		}},
		{"-Ln", targetSingle, func(path string, _ int) []string { return []string{path, "-Ln"} }},
	}
	for _, loop := range loops {
		row := b.report.addRow(fmt.Sprintf("%d x `%s` (table of %d services)", n, loop.label, b.cfg.single.Services), loop.target)
		for rep := range b.cfg.reps {
			for _, t := range b.order(rep) {
				cmds := make([]command, n)
				for i := range cmds {
					cmds[i] = command{Argv: loop.argv(t.Path, i)}
				}
				err := inFreshNetns(func(int) error {
					if err := b.build(b.files.singleRules); err != nil {
						return err
					}
					if err := b.settle(); err != nil {
						return err
					}
					s, err := b.meter.loop(cmds, b.files.stderr)
					if err != nil {
						return err
					}
					row.add(t.Name, s)
					b.logf("%s rep %d %s: %s", row.Workload, rep+1, t.Name, durationText(s.Wall))
					return nil
				})
				if err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// outputChecks compares both tools' listings of the same tables byte for
// byte (untimed).
func (b *bench) outputChecks() error {
	check := func(table string, rules string, argsList []string) error {
		return inFreshNetns(func(int) error {
			if err := b.build(rules); err != nil {
				return err
			}
			for _, args := range argsList {
				var outputs [2][]byte
				for i, t := range b.tools {
					path := filepath.Join(b.cfg.workDir, "out-"+t.Name)
					c := command{Argv: append([]string{t.Path}, strings.Fields(args)...), Stdout: path}
					if _, err := b.meter.run(c, b.files.stderr); err != nil {
						return err
					}
					out, err := os.ReadFile(path)
					if err != nil {
						return err
					}
					outputs[i] = out
				}
				b.report.addCheck(fmt.Sprintf("`%s` %s", args, table), outputs[0], outputs[1])
				b.logf("output check %s %s done", args, table)
			}
			return nil
		})
	}
	if err := check(b.cfg.large.String(), b.files.largeRules, []string{"-Ln", "-Sn", "-Ln --stats"}); err != nil {
		return err
	}
	return check(fmt.Sprintf("table of %d services", b.cfg.single.Services), b.files.singleRules, []string{"-Ln"})
}

func memTotal() string {
	text, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "?"
	}
	for line := range strings.Lines(string(text)) {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			return strings.TrimSpace(rest)
		}
	}
	return "?"
}

func firstLine(out []byte, err error) string {
	if err != nil && len(out) == 0 {
		return "unknown (" + err.Error() + ")"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// readToEnd reads a file and drops what it reads.
func readToEnd(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}
