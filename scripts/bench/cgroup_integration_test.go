//go:build linux && integration

package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// childEnv makes the test binary a measured child (see TestMain): it
// touches that many MiB, then prints its /proc/self/cgroup.
const childEnv = "BENCH_TEST_CHILD_MIB"

func TestMain(m *testing.M) {
	if mib := os.Getenv(childEnv); mib != "" {
		n, err := strconv.Atoi(mib)
		if err != nil {
			panic(err)
		}
		touch(n)
		cg, err := os.ReadFile("/proc/self/cgroup")
		if err != nil {
			panic(err)
		}
		os.Stdout.Write(cg)
		return
	}
	os.Exit(m.Run())
}

var sink []byte

// touch allocates mib MiB and writes to every page of it.
func touch(mib int) {
	buf := make([]byte, mib<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	sink = buf
	runtime.KeepAlive(buf)
}

// A run starts inside its own cgroup, and its peak is the child's memory,
// not this process's: the test process holds more than the child touches,
// which ru_maxrss (vfork) may report for the child, memory.peak must not.
func TestIntegrationCgroupPeak(t *testing.T) {
	m := newMeter(cgroupRoot)
	if m.parent == "" {
		t.Fatalf("no cgroup measurement in the VM: %s", m.Method)
	}
	touch(256)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out, stderr := filepath.Join(dir, "out"), filepath.Join(dir, "stderr")
	t.Setenv(childEnv, "64")

	s, err := m.run(command{Argv: []string{self}, Stdout: out}, stderr)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("memory.peak %d KiB, ru_maxrss %d KiB", s.PeakKB, s.RusageMaxRSSKB)
	if s.PeakKB < 64<<10 || s.PeakKB > 80<<10 {
		t.Errorf("memory.peak %d KiB for a child that touched 64 MiB; want 64-80 MiB", s.PeakKB)
	}
	cg, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(cg)), "0::/lvsadm-bench/run-1"; got != want {
		t.Errorf("child's /proc/self/cgroup: %q, want %q", got, want)
	}

	t.Setenv(childEnv, "32")
	loop, err := m.loop([]command{{Argv: []string{self}}, {Argv: []string{self}}}, stderr)
	if err != nil {
		t.Fatal(err)
	}
	if loop.PeakKB < 32<<10 || loop.PeakKB > 48<<10 {
		t.Errorf("loop of two 32 MiB children: memory.peak %d KiB, want 32-48 MiB", loop.PeakKB)
	}

	left, err := filepath.Glob(filepath.Join(m.parent, "run-*"))
	if err != nil || len(left) > 0 {
		t.Errorf("cgroups left behind: %v %v", left, err)
	}
}
