package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// `lvsadm __man DIR` writes a page for every visible command of the helper
// tree, named after its path, and lvsadm(8) has the ipvsadm-mode section.
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if status := run(newEnv(strings.NewReader(""), &out, &errb), []string{"lvsadm", "__man", dir}); status != 0 {
		t.Fatalf("__man: status %d, %s", status, errb.String())
	}
	want := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c.HasParent() {
			return
		}
		want[strings.ReplaceAll(c.CommandPath(), " ", "-")+".8"] = true
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(helperRoot(newEnv(strings.NewReader(""), &out, &errb)))
	for _, name := range []string{"lvsadm.8", "lvsadm-drain.8", "lvsadm-enable.8", "lvsadm-completion.8", "lvsadm-version.8", "lvsadm-director-up.8"} {
		if !want[name] {
			t.Errorf("the command tree has no %s", name)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range entries {
		got[e.Name()] = true
	}
	for name := range want {
		if !got[name] {
			t.Errorf("no page %s", name)
		}
	}
	for name := range got {
		if !want[name] {
			t.Errorf("page %s for no visible command", name)
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, "lvsadm.8"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(page)
	for _, s := range []string{".TH \"LVSADM\" \"8\"", ".SH IPVSADM MODE", "ipvsadm 1.31", ".SH FILES", ".SH SEE ALSO", "lvsadm-drain(8)"} {
		if !strings.Contains(text, s) {
			t.Errorf("lvsadm.8 lacks %q", s)
		}
	}
	if strings.Index(text, ".SH IPVSADM MODE") > strings.Index(text, ".SH SEE ALSO") {
		t.Errorf("the ipvsadm section comes after SEE ALSO")
	}
	drain, _ := os.ReadFile(filepath.Join(dir, "lvsadm-drain.8"))
	if !strings.Contains(string(drain), `\fB--wait\fP`) {
		t.Errorf("lvsadm-drain.8 does not document --wait:\n%s", drain)
	}
}
