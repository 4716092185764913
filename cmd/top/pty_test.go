//go:build linux

package top

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/lvsadm/lvsadm/ipvs"
)

// terminal is the screen side of a pseudo-terminal: what the program
// wrote so far.
type terminal struct {
	mu  sync.Mutex
	out bytes.Buffer
}

func (term *terminal) Write(p []byte) (int, error) {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.Write(p)
}

// waitFor waits until the program has written text since the last wait.
func (term *terminal) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		term.mu.Lock()
		s := term.out.String()
		if i := strings.Index(s, text); i >= 0 {
			term.out.Next(i + len(text))
			term.mu.Unlock()
			return
		}
		term.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %q on the terminal; it shows:\n%q", text, term.out.String())
}

// TestTerminal runs lvsadm top on a pseudo-terminal: it draws the table,
// sorts, filters and quits on the keys typed.
func TestTerminal(t *testing.T) {
	f := newFake(t)
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	defer tty.Close()
	if err := pty.Setsize(master, &pty.Winsize{Rows: 20, Cols: 100}); err != nil {
		t.Fatal(err)
	}
	var term terminal
	go func() { master.WriteTo(&term) }()
	var out bytes.Buffer
	c := Command(Env{
		Stdout: &out, Stderr: &out,
		Dial:     func() (*ipvs.Client, error) { return ipvs.NewFromConn(f.k.NetlinkConn()) },
		Terminal: func() (*os.File, *os.File, bool) { return tty, tty, true },
	})
	c.SetArgs([]string{"--status-url", ""})
	done := make(chan error, 1)
	go func() { done <- c.Execute() }()

	term.waitFor(t, "3 services")
	term.waitFor(t, "UDP  192.0.2.20:53 rr")
	type keys string
	for _, step := range []struct {
		keys keys
		want string
	}{
		{"e", "-> 198.51.100.3:80 Masq"},
		{"5", "by CONN/S"},
		{"r", "by CONN/S reversed"},
		{"/198.51.100.4", "filter: 198.51.100.4_"},
		{"\r", "filter 198.51.100.4 (esc clears)"},
		{"+", "every 2s"},
	} {
		if _, err := master.WriteString(string(step.keys)); err != nil {
			t.Fatal(err)
		}
		term.waitFor(t, step.want)
	}
	master.WriteString("q")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("q did not quit")
	}
	if out.Len() != 0 {
		t.Errorf("wrote to stdout besides the terminal: %q", out.String())
	}
}
