//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// cgroupRoot is where the cgroup v2 hierarchy is mounted (scripts/vm.sh's
// init mounts it there).
const cgroupRoot = "/sys/fs/cgroup"

// meter starts measured runs and says how their peak memory is measured:
// each run starts inside a cgroup of its own (clone3's CLONE_INTO_CGROUP),
// whose memory.peak is read after the run has been reaped; or, where that is
// unavailable, from wait4's ru_maxrss (see docs/benchmarks.md for why that
// can show the driver's own RSS).
type meter struct {
	parent string // cgroup directory holding one child per run; "" = ru_maxrss
	next   int    // number of the next run's cgroup
	// Method describes the measurement for the report.
	Method string
}

// newMeter prepares a parent cgroup under root with the memory controller
// enabled for its children, and checks that a child has memory.peak (Linux
// 5.19 and later). Otherwise it falls back to ru_maxrss and says why.
func newMeter(root string) *meter {
	parent := filepath.Join(root, "lvsadm-bench")
	if err := setupCgroups(root, parent); err != nil {
		return &meter{Method: fmt.Sprintf("wait4's ru_maxrss (no cgroup memory.peak: %v)", err)}
	}
	return &meter{parent: parent, Method: "cgroup v2 memory.peak, one cgroup per run"}
}

func setupCgroups(root, parent string) error {
	controllers, err := os.ReadFile(filepath.Join(root, "cgroup.controllers"))
	if err != nil {
		return err
	}
	if !slices.Contains(strings.Fields(string(controllers)), "memory") {
		return fmt.Errorf("%s has no memory controller", root)
	}
	if err := enableMemory(root); err != nil {
		return err
	}
	if err := os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	if err := enableMemory(parent); err != nil {
		return err
	}
	probe := filepath.Join(parent, "probe")
	if err := os.Mkdir(probe, 0o755); err != nil {
		return err
	}
	_, statErr := os.Stat(filepath.Join(probe, "memory.peak"))
	return errors.Join(statErr, os.Remove(probe))
}

// enableMemory turns the memory controller on for dir's children.
func enableMemory(dir string) error {
	return os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+memory"), 0o644)
}

// runGroup is the cgroup of one run; nil when the meter uses ru_maxrss.
type runGroup struct {
	dir string
	fd  *os.File // the directory, for CLONE_INTO_CGROUP
}

// group creates a fresh cgroup for one run.
func (m *meter) group() (*runGroup, error) {
	if m.parent == "" {
		return nil, nil
	}
	m.next++
	dir := filepath.Join(m.parent, "run-"+strconv.Itoa(m.next))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	fd, err := os.Open(dir)
	if err != nil {
		os.Remove(dir)
		return nil, err
	}
	return &runGroup{dir: dir, fd: fd}, nil
}

// peakKB reads the group's memory.peak in KiB.
func (g *runGroup) peakKB() (int64, error) {
	text, err := os.ReadFile(filepath.Join(g.dir, "memory.peak"))
	if err != nil {
		return 0, err
	}
	return parsePeak(string(text))
}

// parsePeak converts memory.peak's byte count to KiB.
func parsePeak(text string) (int64, error) {
	bytes, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("memory.peak: %w", err)
	}
	return bytes / 1024, nil
}

// remove deletes the group; its processes must have been reaped.
func (g *runGroup) remove() error {
	if g == nil {
		return nil
	}
	return errors.Join(g.fd.Close(), os.Remove(g.dir))
}
