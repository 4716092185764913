package top

import (
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/lvsadm/lvsadm/ipvs"
)

// screen drives the model as bubbletea would: keys to Update, and the
// reads its commands ask for run at once.
type screen struct {
	t *testing.T
	f *fake
	m *model
}

func newScreen(t *testing.T) *screen {
	f := newFake(t)
	c, err := ipvs.NewFromConn(f.k.NetlinkConn())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s := &sampler{client: c, now: func() time.Time { return f.clock }}
	sc := &screen{t: t, f: f, m: newModel(s, time.Second)}
	sc.m.Update(tea.WindowSizeMsg{Width: 100, Height: 14})
	sc.run(sc.m.Init())
	return sc
}

// run runs cmd, a read, and gives Update its result.
func (sc *screen) run(cmd tea.Cmd) {
	sc.t.Helper()
	if cmd == nil {
		sc.t.Fatal("no read asked for")
	}
	msg, ok := cmd().(snapshotMsg)
	if !ok {
		sc.t.Fatal("not a read")
	}
	sc.m.Update(msg)
}

// tick is the refresh timer going off.
func (sc *screen) tick() {
	_, cmd := sc.m.Update(tickMsg{sc.m.ticks})
	sc.run(cmd)
}

// keys types text, one key per rune; "\r" is enter, "\x1b" escape.
func (sc *screen) keys(text string) tea.Cmd {
	var cmd tea.Cmd
	for _, r := range text {
		k := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}}
		switch r {
		case '\r':
			k = tea.KeyMsg{Type: tea.KeyEnter}
		case '\x1b':
			k = tea.KeyMsg{Type: tea.KeyEsc}
		case ' ':
			k = tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
		}
		_, cmd = sc.m.Update(k)
		if cmd != nil && r != 'q' {
			sc.run(cmd) // a read the key started
		}
	}
	return cmd
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// names are the first column of the table's lines on screen, without
// styles and the expansion marks.
func (sc *screen) names() []string {
	lines := strings.Split(ansi.ReplaceAllString(sc.m.View(), ""), "\n")
	var names []string
	for _, l := range lines[2 : 2+sc.m.rows()] {
		l = strings.TrimPrefix(strings.TrimPrefix(l, "+ "), "- ")
		if i := strings.Index(l, "   "); i > 0 {
			names = append(names, strings.TrimSpace(l[:i]))
		}
	}
	return names
}

func (sc *screen) want(step string, names ...string) {
	sc.t.Helper()
	if got := sc.names(); strings.Join(got, "|") != strings.Join(names, "|") {
		sc.t.Errorf("%s: rows\n%s\nwant\n%s\nscreen:\n%s", step, strings.Join(got, "\n"), strings.Join(names, "\n"), sc.m.View())
	}
}

// line is the screen line that starts (after its mark) with name.
func (sc *screen) line(name string) string {
	for _, l := range strings.Split(sc.m.View(), "\n") {
		if strings.Contains(ansi.ReplaceAllString(l, ""), name+" ") {
			return l
		}
	}
	return ""
}

// TestKeys drives the screen: expand, rates after two reads of an
// expanded service, sort by a column and reverse, filter, collapse, the
// refresh interval, weight 0 highlighted, and q.
func TestKeys(t *testing.T) {
	lipgloss.SetColorProfile(termenv.ANSI)
	defer lipgloss.SetColorProfile(termenv.Ascii)
	sc := newScreen(t)
	const tcp, udp, fwm = "TCP  192.0.2.10:80 wlc", "UDP  192.0.2.20:53 rr", "FWM  7 rr"
	var d [5]string // the real servers as the screen shows them: "-> 198.51.100.1:80 Masq"
	for i := range d {
		d[i] = strings.TrimSpace(fakeDests[i].name)
	}
	d1, d2, d3, d4, d5 := d[0], d[1], d[2], d[3], d[4]
	sc.want("start, collapsed", tcp, udp, fwm)

	sc.keys("e")
	sc.want("e expands all", tcp, d1, d2, d3, udp, d4, fwm, d5)
	if _, cmd := sc.m.Update(tickMsg{sc.m.ticks - 1}); cmd != nil {
		t.Error("the timer set before the read e started still refreshes")
	}
	if l := sc.line(d1); !strings.Contains(l, "  -  ") {
		t.Errorf("a real server's rate before its counters were read twice: %q", l)
	}
	if l := sc.line(d3); !strings.Contains(l, "\x1b[33m") {
		t.Errorf("weight 0 not highlighted: %q", l)
	}
	if l := sc.line(d2); strings.Contains(l, "\x1b[33m") {
		t.Errorf("weight 1 highlighted: %q", l)
	}

	// Two reads with the services expanded: the first counts the real
	// servers, the second has their rates.
	sc.tick()
	sc.f.set(t, true)
	sc.f.clock = sc.f.clock.Add(elapsed)
	sc.tick()
	want := expected()
	for _, name := range []string{fakeDests[0].name, fakeDests[1].name, "FWM  7 rr"} {
		l := sc.line(strings.TrimSpace(name))
		if conns := fixed(want[name][0]); !strings.Contains(l, " "+conns+" ") {
			t.Errorf("%s: no CONN/S %s in %q", name, conns, l)
		}
	}

	sc.keys("5") // CONN/S, busiest first
	sc.want("sorted by CONN/S", tcp, d1, d2, d3, fwm, d5, udp, d4)
	if !strings.Contains(sc.m.View(), "by CONN/S") {
		t.Errorf("title does not name the sort column:\n%s", sc.m.View())
	}
	sc.keys("r")
	sc.want("reversed", udp, d4, fwm, d5, tcp, d3, d2, d1)
	sc.keys("1")
	sc.want("by address", tcp, d1, d2, d3, udp, d4, fwm, d5)

	sc.keys("/198.51.100.4")
	if !strings.Contains(sc.m.View(), "filter: 198.51.100.4_") {
		t.Errorf("filter not shown while typed:\n%s", sc.m.View())
	}
	sc.keys("\r")
	sc.want("filtered", udp, d4)
	sc.keys("\x1b")
	sc.want("filter cleared", tcp, d1, d2, d3, udp, d4, fwm, d5)

	sc.keys("\r") // the cursor stayed on the service the filter kept
	sc.want("filtered service collapsed", tcp, d1, d2, d3, udp, fwm, d5)
	sc.keys("g\r")
	sc.want("first service collapsed too", tcp, udp, fwm, d5)
	sc.keys("c")
	sc.want("all collapsed", tcp, udp, fwm)
	sc.keys("j ")
	sc.want("second service expanded", tcp, udp, d4, fwm)
	if l := sc.line(tcp); !strings.Contains(l, "\x1b[33m") {
		t.Errorf("a collapsed service with a server at weight 0 not highlighted: %q", l)
	}
	if l := sc.line(fwm); strings.Contains(l, "\x1b[33m") {
		t.Errorf("a service without a server at weight 0 highlighted: %q", l)
	}

	sc.keys("++")
	if !strings.Contains(sc.m.View(), "every 5s") {
		t.Errorf("interval not 5s after ++:\n%s", sc.m.View())
	}
	sc.keys("---")
	if !strings.Contains(sc.m.View(), "every 500ms") {
		t.Errorf("interval not 500ms after ---:\n%s", sc.m.View())
	}
	if !strings.Contains(sc.m.View(), "q quit") {
		t.Errorf("no help line:\n%s", sc.m.View())
	}
	if cmd := sc.keys("q"); cmd == nil || cmd() != tea.Quit() {
		t.Error("q does not quit")
	}
	sc.keys("/q")
	if _, cmd := sc.m.Update(tea.KeyMsg{Type: tea.KeyCtrlC}); cmd == nil || cmd() != tea.Quit() || sc.m.filter != "q" {
		t.Errorf("ctrl+c while typing the filter %q does not quit", sc.m.filter)
	}
}

// TestScreenScrolls: only the lines on screen are drawn, and only the
// expanded services on screen get their real servers dumped.
func TestScreenScrolls(t *testing.T) {
	sc := newScreen(t)
	sc.m.Update(tea.WindowSizeMsg{Width: 100, Height: 6}) // three table lines
	sc.keys("e")
	sc.want("top", "TCP  192.0.2.10:80 wlc", "-> 198.51.100.1:80 Masq", "-> 198.51.100.2:80 Masq")
	if n := strings.Count(sc.m.View(), "\n"); n != 5 {
		t.Errorf("%d lines drawn, want 6:\n%s", n+1, sc.m.View())
	}
	sc.keys("G")
	sc.want("bottom", "-> 198.51.100.4:53 Route", "FWM  7 rr", "-> 198.51.100.5:0 Route")
	sc.tick()
	for _, s := range sc.m.snap.services {
		if want := s.addr != "TCP  192.0.2.10:80"; s.counted != want {
			t.Errorf("%s counted %v, want %v", s.addr, s.counted, want)
		}
	}
}
