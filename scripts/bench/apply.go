//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The apply group measures lvsadm's desired-state commands on the large
// table against baselines: apply into an empty namespace against lvsadm's
// own -R of the same rules; plan, a no-op apply and an apply changing one
// weight against the reference's -Sn of the same table.
const (
	targetApplyEmpty  target = 1.20 // of lvsadm -R
	targetPlan        target = 0.50 // of ipvsadm -Sn
	targetApplyNoOp   target = 0.50
	targetApplyWeight target = 0.50
)

// Baseline names of the apply rows; the lvsadm command is under "lvsadm".
const (
	baselineRestore = "lvsadm -R"
	baselineSave    = "ipvsadm -Sn"
)

// oneWeightRules is the large table with one real server's weight changed:
// the first real server of the middle service.
func oneWeightRules(rules []byte, t tableSize) ([]byte, error) {
	i := t.Services / 2
	line := fmt.Sprintf("-a -t %s:80 -r %s:80 -m -w 1\n", serviceAddr(i), destAddr(i, 0, t.DestsPerService))
	if bytes.Count(rules, []byte(line)) != 1 {
		return nil, fmt.Errorf("the rules do not hold %q exactly once", line)
	}
	return bytes.Replace(rules, []byte(line), []byte(strings.Replace(line, "-w 1", "-w 2", 1)), 1), nil
}

// lvsadmBinary is lvsadm under its own name, for its own subcommands (the
// link named ipvsadm makes it behave as ipvsadm).
func (b *bench) lvsadmBinary() (string, error) {
	return filepath.EvalSymlinks(b.cfg.lvsadm)
}

// applyEmpty times `lvsadm apply -f` of the large table into an empty
// namespace and lvsadm's `-R` of the same rules, alternating which goes
// first, each in a fresh namespace.
func (b *bench) applyEmpty() error {
	bin, err := b.lvsadmBinary()
	if err != nil {
		return err
	}
	row := b.report.addRow(fmt.Sprintf("`lvsadm apply -f` %s into an empty namespace", b.cfg.large), targetApplyEmpty)
	row.Baseline = baselineRestore
	runs := [2]struct {
		name string
		cmd  command
	}{
		{"baseline", command{Argv: []string{b.cfg.lvsadm, "-R"}, Stdin: b.files.largeRules}},
		{"lvsadm", command{Argv: []string{bin, "apply", "-f", b.files.largeRules}, Stdout: b.files.applyOut}},
	}
	for rep := range b.cfg.reps {
		order := runs
		if rep%2 == 1 {
			order = [2]struct {
				name string
				cmd  command
			}{runs[1], runs[0]}
		}
		for _, r := range order {
			err := inFreshNetns(func(int) error {
				if err := b.settle(); err != nil {
					return err
				}
				s, err := b.meter.run(r.cmd, b.files.stderr)
				if err != nil {
					return err
				}
				row.add(r.name, s)
				b.logf("%s rep %d %s: %s", row.Workload, rep+1, r.name, durationText(s.Wall))
				if r.name == "lvsadm" {
					want := fmt.Sprintf("Applied: %d added, 0 changed, 0 removed.\n", b.cfg.large.Lines())
					if err := b.checkOutputEnds(want); err != nil {
						return err
					}
				}
				return b.checkTable(r.name)
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// applyTable times, on the large table built untimed in a fresh namespace
// per repetition, the reference's -Sn, `lvsadm plan` and a no-op `lvsadm
// apply` of the same rules, and an apply of the rules with one weight
// changed (always after the no-op ones; -Sn goes first or last in turn).
func (b *bench) applyTable() error {
	bin, err := b.lvsadmBinary()
	if err != nil {
		return err
	}
	rows := []*row{
		b.report.addRow(fmt.Sprintf("`lvsadm plan -f` %s, nothing to change", b.cfg.large), targetPlan),
		b.report.addRow(fmt.Sprintf("`lvsadm apply -f` %s, nothing to change", b.cfg.large), targetApplyNoOp),
		b.report.addRow(fmt.Sprintf("`lvsadm apply -f` %s, one weight changed", b.cfg.large), targetApplyWeight),
	}
	for _, r := range rows {
		r.Baseline = baselineSave
	}
	lvsadmRuns := []struct {
		row  *row
		cmd  command
		want string // how its output ends
	}{
		{rows[0], command{Argv: []string{bin, "plan", "-f", b.files.largeRules}, Stdout: b.files.applyOut}, "Plan: 0 to add, 0 to change, 0 to remove.\n"},
		{rows[1], command{Argv: []string{bin, "apply", "-f", b.files.largeRules}, Stdout: b.files.applyOut},
			"No changes: the kernel's table already matches " + b.files.largeRules + "; nothing was sent.\n"},
		{rows[2], command{Argv: []string{bin, "apply", "-f", b.files.largeWeightRules}, Stdout: b.files.applyOut}, "Applied: 0 added, 1 changed, 0 removed.\n"},
	}
	for rep := range b.cfg.reps {
		err := inFreshNetns(func(int) error {
			if err := b.buildLargeTable(); err != nil {
				return err
			}
			save := func() error {
				s, err := b.meter.run(command{Argv: []string{b.cfg.ipvsadm, "-Sn"}}, b.files.stderr)
				if err != nil {
					return err
				}
				for _, r := range rows {
					r.add("baseline", s)
				}
				b.logf("ipvsadm -Sn %s rep %d: %s", b.cfg.large, rep+1, durationText(s.Wall))
				return b.settle()
			}
			if rep%2 == 0 {
				if err := save(); err != nil {
					return err
				}
			}
			for _, r := range lvsadmRuns {
				s, err := b.meter.run(r.cmd, b.files.stderr)
				if err != nil {
					return err
				}
				r.row.add("lvsadm", s)
				b.logf("%s rep %d: %s", r.row.Workload, rep+1, durationText(s.Wall))
				if err := b.checkOutputEnds(r.want); err != nil {
					return err
				}
				if err := b.settle(); err != nil {
					return err
				}
			}
			if rep%2 == 1 {
				return save()
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// checkOutputEnds checks that the last command's output (applyOut) ends
// with want: a run that did something else is no sample.
func (b *bench) checkOutputEnds(want string) error {
	out, err := os.ReadFile(b.files.applyOut)
	if err != nil {
		return err
	}
	if !bytes.HasSuffix(out, []byte(want)) {
		tail := out[max(0, len(out)-300):]
		return fmt.Errorf("output ends %q, want %q", tail, want)
	}
	return nil
}
