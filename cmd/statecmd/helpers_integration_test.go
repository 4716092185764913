//go:build integration && linux

package statecmd_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvsadm/lvsadm/cmd/internal/testnet"
)

// result is one finished command.
type result struct {
	stdout, stderr string
	code           int
}

// run runs argv in namespace ns with stdin, and returns what it printed and
// its exit status; it fails the test only if the program cannot be run.
func run(t *testing.T, ns, stdin string, argv ...string) result {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("[%s] %s: %v", ns, strings.Join(argv, " "), err)
	}
	return result{out.String(), errOut.String(), cmd.ProcessState.ExitCode()}
}

// saved is the reference ipvsadm's -Sn of namespace ns.
func saved(t *testing.T, ns string) string {
	t.Helper()
	r := run(t, ns, "", testnet.Reference, "-Sn")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("ipvsadm -Sn: status %d: %s", r.code, r.stderr)
	}
	return r.stdout
}

// expected is what the reference ipvsadm makes of rules: restored by it
// into a fresh namespace and saved by it with -Sn.
func expected(t *testing.T, rules string) string {
	t.Helper()
	ns := testnet.NewNS(t)
	if r := run(t, ns, rules, testnet.Reference, "-R"); r.code != 0 || r.stderr != "" {
		t.Fatalf("reference ipvsadm -R: status %d: %s\nrules:\n%s", r.code, r.stderr, rules)
	}
	return saved(t, ns)
}

// writeFile puts text in a file of the test's own and returns its path.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// noChanges is apply's whole output for a file the kernel matches.
func noChanges(file string) string {
	return "No changes: the kernel's table already matches " + file + "; nothing was sent.\n"
}

// checkNoOp checks that file describes ns's table exactly: plan exits 0
// with nothing to do, apply sends nothing, and -Sn stays as it was.
func checkNoOp(t *testing.T, ns, lvsadm, file string) {
	t.Helper()
	before := saved(t, ns)
	if r := run(t, ns, "", lvsadm, "plan", "-f", file); r.code != 0 || r.stdout != "Plan: 0 to add, 0 to change, 0 to remove.\n" || r.stderr != "" {
		t.Errorf("plan -f %s: status %d, want 0\n%s%s", filepath.Base(file), r.code, r.stdout, r.stderr)
	}
	if r := run(t, ns, "", lvsadm, "apply", "-f", file); r.code != 0 || r.stdout != noChanges(file) || r.stderr != "" {
		t.Errorf("apply -f %s: status %d, want 0 and nothing sent\n%s%s", filepath.Base(file), r.code, r.stdout, r.stderr)
	}
	if after := saved(t, ns); after != before {
		t.Errorf("a no-op apply changed the kernel's table:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
