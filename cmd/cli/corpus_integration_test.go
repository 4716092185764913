//go:build integration

package cli_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The differential corpus: every case in testdata/corpus runs twice, each
// time in a fresh network namespace (IPVS state is per namespace), once with
// Debian's ipvsadm 1.31 and once with lvsadm invoked as ipvsadm. Every
// command's stdout, stderr and exit status must match, and so must the
// kernel state left behind, as the reference dumps it.
//
// Case format (txtar-like):
//
//	# comments
//	setup <shell>   run before the commands, the same in both namespaces
//	run <shell>     a compared command; PATH puts the tool under test first
//	state <shell>   replaces the default state dump (reference ipvsadm)
//	teardown <shell> run at the end, whatever happened (e.g. ip netns del)
//	compare <shell> a live comparison, see below
//	-- NAME --      a file written to the case's working directory
//
// Commands run with sh -c in the case's working directory; $CORPUS is the
// corpus directory (for shared scripts such as topologies).
//
// A case with compare lines runs once, in one namespace (with live traffic,
// counters and rates move): setup and run lines use the reference tool, and
// each compare line runs with the reference, then lvsadm, then the reference
// again; lvsadm must match one of the two reference results (retried while
// the two differ, see runLive).
var (
	corpusDir = flag.String("corpus", "../../testdata/corpus", "corpus directory")
	lvsadmBin = flag.String("lvsadm", "/usr/local/sbin/lvsadm", "lvsadm binary under test")
	refBin    = flag.String("reference", "/sbin/ipvsadm", "reference ipvsadm binary")
)

type corpusCase struct {
	name     string
	setup    []string
	runs     []string
	states   []string
	teardown []string
	compares []string
	files    map[string][]byte
}

func parseCase(name string, data []byte) (*corpusCase, error) {
	c := &corpusCase{name: name, files: map[string][]byte{}}
	lines := strings.SplitAfter(string(data), "\n")
	var file string
	for i, line := range lines {
		trimmed := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			file = strings.TrimSpace(trimmed[3 : len(trimmed)-3])
			c.files[file] = []byte{}
			continue
		}
		if file != "" {
			c.files[file] = append(c.files[file], line...)
			continue
		}
		word, rest, _ := strings.Cut(trimmed, " ")
		switch word {
		case "", "#":
		case "setup":
			c.setup = append(c.setup, rest)
		case "run":
			c.runs = append(c.runs, rest)
		case "state":
			c.states = append(c.states, rest)
		case "teardown":
			c.teardown = append(c.teardown, rest)
		case "compare":
			c.compares = append(c.compares, rest)
		default:
			if strings.HasPrefix(word, "#") {
				continue
			}
			return nil, fmt.Errorf("%s:%d: unknown directive %q", name, i+1, word)
		}
	}
	if len(c.runs) == 0 && len(c.compares) == 0 {
		return nil, fmt.Errorf("%s: no run or compare lines", name)
	}
	return c, nil
}

// defaultState is what "the kernel state" means when a case says nothing:
// the rules, thresholds (which -S omits), timeouts and daemons, all as the
// reference prints them. Run without a shell (see direct).
var defaultState = []string{
	"ipvsadm -Sn",
	"ipvsadm -Ln --thresholds",
	"ipvsadm -Ln --timeout",
	"ipvsadm -Ln --daemon",
}

type result struct {
	stdout, stderr []byte
	status         int
}

func (r result) String() string {
	return fmt.Sprintf("status %d\nstdout:\n%s\nstderr:\n%s", r.status, r.stdout, r.stderr)
}

// toolDirs makes a directory per tool holding ipvsadm, ipvsadm-save and
// ipvsadm-restore as that tool provides them.
func toolDirs(t *testing.T) map[string]string {
	root := t.TempDir()
	dirs := map[string]string{"reference": filepath.Join(root, "reference"), "lvsadm": filepath.Join(root, "lvsadm")}
	links := map[string]map[string]string{
		"reference": {"ipvsadm": *refBin, "ipvsadm-save": "/usr/sbin/ipvsadm-save", "ipvsadm-restore": "/usr/sbin/ipvsadm-restore"},
		"lvsadm":    {"ipvsadm": *lvsadmBin, "ipvsadm-save": *lvsadmBin, "ipvsadm-restore": *lvsadmBin, "lvsadm": *lvsadmBin},
	}
	for tool, dir := range dirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, target := range links[tool] {
			if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dirs
}

// inFreshNetNS runs fn on a thread inside a new network namespace; the
// thread (and with it the namespace) is discarded afterwards.
func inFreshNetNS(fn func() error) error {
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- err
			return
		}
		done <- fn()
	}()
	return <-done
}

// loopbackUp brings up lo in the calling thread's namespace: without it the
// namespace has no local routes and the kernel refuses real servers as
// "address not unicast".
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	return nil
}

// commandTimeout bounds one corpus command: a stuck command fails its case
// instead of stalling the whole suite.
const commandTimeout = 90 * time.Second

// commandMu lets one corpus command run at a time, across parallel cases.
// The kernel keeps every namespace's services in one table and resumes a
// dump by position in it, so a service added or removed in another
// namespace between two dump chunks makes a listing repeat or skip one of
// its services (ipvsadm prints it twice; seen in the corpus). Cases still
// overlap everything else (namespaces, files, the harness itself).
var commandMu sync.Mutex

// testedTools are the programs a command line may run without a shell.
var testedTools = map[string]bool{"ipvsadm": true, "ipvsadm-save": true, "ipvsadm-restore": true}

// direct returns the command for a line that only runs one of testedTools
// with plain words: the shell would exec it as is, so it is skipped (under
// emulation, starting /bin/sh costs as much as starting the tool). Args[0]
// is the name as typed, as the shell passes it.
func direct(pathDir, command string) (*exec.Cmd, bool) {
	if strings.ContainsAny(command, "\"'$|&;<>*?[]()`\\~#{}=!\t\n") {
		return nil, false
	}
	words := strings.Fields(command)
	if len(words) == 0 || !testedTools[words[0]] {
		return nil, false
	}
	path := filepath.Join(pathDir, words[0])
	if _, err := os.Stat(path); err != nil {
		return nil, false
	}
	return &exec.Cmd{Path: path, Args: words}, true
}

// shell runs command like sh -c in dir, with pathDir first in PATH. With
// pathDir "" the reference tools come first (state dumps, cleanup).
// unlockedCommands read nothing that the kernel dumps by position (the
// timeouts, the sync daemons), so they need not wait for commandMu.
var unlockedCommands = map[string]bool{"ipvsadm -Ln --timeout": true, "ipvsadm -Ln --daemon": true}

func shell(dir, pathDir, command string) result {
	if pathDir == "" {
		pathDir = filepath.Dir(*refBin)
	}
	if !unlockedCommands[command] {
		commandMu.Lock()
		defer commandMu.Unlock()
	}
	cmd, ok := direct(pathDir, command)
	if !ok {
		cmd = exec.Command("/bin/sh", "-c", command)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // killed as a group on timeout
	cmd.WaitDelay = 5 * time.Second
	cmd.Dir = dir
	corpus, _ := filepath.Abs(*corpusDir)
	cmd.Env = []string{"PATH=" + pathDir + ":/sbin:/usr/sbin:/bin:/usr/bin", "HOME=/root", "LC_ALL=C", "CORPUS=" + corpus}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return result{nil, []byte("harness: " + err.Error()), -1}
	}
	timer := time.AfterFunc(commandTimeout, func() { unix.Kill(-cmd.Process.Pid, unix.SIGKILL) })
	err := cmd.Wait()
	if !timer.Stop() {
		stderr.WriteString("harness: timed out after " + commandTimeout.String())
	}
	status := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		status = exit.ExitCode()
	} else if err != nil {
		status = -1
		stderr.WriteString("harness: " + err.Error())
	}
	return result{stdout.Bytes(), stderr.Bytes(), status}
}

// runCase runs c with one tool and returns each command's result followed by
// the state dumps.
func runCase(t *testing.T, c *corpusCase, toolDir string) ([]result, []result) {
	work := caseDir(t, c)
	var runs, states []result
	err := inFreshNetNS(func() error {
		defer runTeardown(t, c, work)
		if err := loopbackUp(); err != nil {
			return err
		}
		for _, s := range c.setup {
			if r := shell(work, toolDir, s); r.status != 0 {
				return fmt.Errorf("setup %q failed: %v", s, r)
			}
		}
		for _, r := range c.runs {
			runs = append(runs, shell(work, toolDir, r))
		}
		dumps := c.states
		if len(dumps) == 0 {
			dumps = defaultState
		}
		for _, s := range dumps {
			states = append(states, shell(work, "", s))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return runs, states
}

func caseDir(t *testing.T, c *corpusCase) string {
	work := t.TempDir()
	for name, data := range c.files {
		if err := os.WriteFile(filepath.Join(work, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return work
}

func runTeardown(t *testing.T, c *corpusCase, work string) {
	for _, s := range c.teardown {
		if r := shell(work, "", s); r.status != 0 {
			t.Logf("teardown %q: %v", s, r)
		}
	}
	// Empty the table now, under commandMu: the kernel would otherwise
	// remove the namespace's services later, in the middle of another
	// case's listing (see commandMu).
	if r := shell(work, "", "ipvsadm -C"); r.status != 0 {
		t.Logf("flush: %v", r)
	}
}

// runLive runs a case with compare lines in one namespace.
func runLive(t *testing.T, c *corpusCase, dirs map[string]string) {
	work := caseDir(t, c)
	err := inFreshNetNS(func() error {
		defer runTeardown(t, c, work)
		if err := loopbackUp(); err != nil {
			return err
		}
		for _, s := range append(append([]string{}, c.setup...), c.runs...) {
			if r := shell(work, dirs["reference"], s); r.status != 0 {
				return fmt.Errorf("%q failed: %v", s, r)
			}
		}
		for _, cmp := range c.compares {
			// The state may move twice between the three runs (the rate
			// estimator ticks every 2 s, and three runs under emulation on a
			// busy host can take longer); a miss counts only when the
			// reference printed the same both times, or on the third try.
			for try := 1; ; try++ {
				before := shell(work, dirs["reference"], cmp)
				got := shell(work, dirs["lvsadm"], cmp)
				after := shell(work, dirs["reference"], cmp)
				if sameResult(got, before) || sameResult(got, after) {
					break
				}
				if sameResult(before, after) || try == 3 {
					t.Errorf("compare %s (try %d):\n--- reference before %s--- lvsadm %s--- reference after %s", cmp, try, quoteResult(before), quoteResult(got), quoteResult(after))
					break
				}
				t.Logf("compare %s: the state moved during try %d; again", cmp, try)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func sameResult(a, b result) bool {
	return a.status == b.status && bytes.Equal(a.stdout, b.stdout) && bytes.Equal(a.stderr, b.stderr)
}

func TestIntegrationCorpus(t *testing.T) {
	if _, err := os.Stat(*lvsadmBin); err != nil {
		t.Fatalf("lvsadm binary: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(*corpusDir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus cases in %s (%v)", *corpusDir, err)
	}
	sort.Strings(files)
	files, err = shardOf(files, os.Getenv("VMTEST_SHARD"))
	if err != nil {
		t.Fatal(err)
	}
	shardNote := ""
	if shard := os.Getenv("VMTEST_SHARD"); shard != "" {
		shardNote = " (shard " + shard + ")"
	}
	dirs := toolDirs(t)
	start := time.Now()
	var passed atomic.Int32
	t.Cleanup(func() {
		// On stderr, so that the CI log shows the count and time without -v.
		fmt.Fprintf(os.Stderr, "corpus: %d of %d cases passed in %v%s\n", passed.Load(), len(files), time.Since(start).Round(time.Second), shardNote)
	})
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		t.Run(name, func(t *testing.T) {
			defer func() {
				if !t.Failed() {
					passed.Add(1)
				}
			}()
			// Every case has its own namespaces, so cases run side by side
			// (-test.parallel, default GOMAXPROCS), except those with sync
			// daemons: concurrent daemon stops and namespace teardowns with
			// daemons running have hung the 6.1 kernel.
			if !bytes.Contains(data, []byte("daemon")) {
				t.Parallel()
			}
			c, err := parseCase(name, data)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.compares) > 0 {
				runLive(t, c, dirs)
				return
			}
			wantRuns, wantStates := runCase(t, c, dirs["reference"])
			gotRuns, gotStates := runCase(t, c, dirs["lvsadm"])
			for i := range c.runs {
				compareResult(t, "run "+c.runs[i], wantRuns[i], gotRuns[i])
			}
			for i := range wantStates {
				compareResult(t, "state after", wantStates[i], gotStates[i])
			}
		})
	}
}

// shardOf returns every N-th of files from the K-th on, for shard "K/N"
// (scripts/vmtest.sh splits the corpus across VMs); "" means all of them.
func shardOf(files []string, shard string) ([]string, error) {
	if shard == "" {
		return files, nil
	}
	var k, n int
	if _, err := fmt.Sscanf(shard, "%d/%d", &k, &n); err != nil || n < 1 || k < 0 || k >= n {
		return nil, fmt.Errorf("VMTEST_SHARD=%q: want K/N with 0 <= K < N", shard)
	}
	var mine []string
	for i := k; i < len(files); i += n {
		mine = append(mine, files[i])
	}
	return mine, nil
}

func compareResult(t *testing.T, what string, want, got result) {
	t.Helper()
	if sameResult(want, got) {
		return
	}
	t.Errorf("%s:\n--- reference %s\n--- lvsadm %s", what, quoteResult(want), quoteResult(got))
}

func quoteResult(r result) string {
	return fmt.Sprintf("status %d\nstdout %q\nstderr %q\n", r.status, r.stdout, r.stderr)
}

// TestIntegrationNonRoot: without privileges both tools fail the same way
// (ipvsadm: "Can't initialize ipvs: Permission denied (you must be root)").
func TestIntegrationNonRoot(t *testing.T) {
	// The unprivileged user must reach the programs: a world-readable dir.
	dir, err := os.MkdirTemp("", "nonroot")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	dirs := map[string]string{"reference": filepath.Join(dir, "reference"), "lvsadm": filepath.Join(dir, "lvsadm")}
	for tool, target := range map[string]string{"reference": *refBin, "lvsadm": *lvsadmBin} {
		if err := os.MkdirAll(dirs[tool], 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(dirs[tool], "ipvsadm")); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-Ln"}, {"-A", "-t", "192.0.2.1:80"}, {"-Sn"}, {"-R"}} {
		var got [2]result
		for i, tool := range []string{"reference", "lvsadm"} {
			err := inFreshNetNS(func() error {
				cmd := exec.Command(filepath.Join(dirs[tool], "ipvsadm"), args...)
				cmd.Env = []string{"PATH=/sbin:/usr/sbin:/bin:/usr/bin", "LC_ALL=C"}
				cmd.Stdin = strings.NewReader("-A -t 192.0.2.1:80\n")
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				var exit *exec.ExitError
				if err != nil && !errors.As(err, &exit) {
					return err
				}
				got[i] = result{stdout.Bytes(), stderr.Bytes(), cmd.ProcessState.ExitCode()}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if got[0].status == 0 {
			t.Fatalf("reference ipvsadm %v succeeded without privileges: %v", args, got[0])
		}
		compareResult(t, "non-root ipvsadm "+strings.Join(args, " "), got[0], got[1])
	}
}
