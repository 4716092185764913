package top

import (
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/lvsadm/lvsadm/ipvs"
)

// intervals are the refresh intervals + and - step through.
var intervals = []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute}

var (
	styleTitle   = lipgloss.NewStyle().Bold(true)
	styleHeader  = lipgloss.NewStyle().Bold(true).Reverse(true)
	styleService = lipgloss.NewStyle().Bold(true)
	styleZero    = lipgloss.NewStyle().Foreground(lipgloss.Color("3")) // weight 0: yellow
	styleCursor  = lipgloss.NewStyle().Reverse(true)
	styleHelp    = lipgloss.NewStyle().Faint(true)
	styleError   = lipgloss.NewStyle().Foreground(lipgloss.Color("1"))
)

// model is the screen's state (bubbletea's Model).
type model struct {
	s        *sampler
	interval time.Duration

	snap  *snapshot
	err   error // a failed read: shown, and the reason top exits non-zero
	busy  bool  // a read is under way
	ticks int   // the refresh timer set last; earlier ones are void
	order sortOrder

	filter    string
	filtering bool // typing the filter

	expandAll bool
	toggled   map[string]bool // services expanded or collapsed against expandAll

	lines         []line
	cursor, top   int // the cursor's line and the first line on screen
	width, height int
}

func newModel(s *sampler, interval time.Duration) *model {
	return &model{s: s, interval: interval, toggled: map[string]bool{}, width: 80, height: 24}
}

// snapshotMsg is a read's result.
type snapshotMsg struct {
	snap *snapshot
	err  error
}

// tickMsg is refresh timer number n going off.
type tickMsg struct{ n int }

func (m *model) Init() tea.Cmd { return m.refresh() }

// refresh reads the table in the background, dumping the real servers of
// the expanded services on screen for their counters. A refresh started
// by a key voids the timer set before it.
func (m *model) refresh() tea.Cmd {
	if m.busy {
		return nil
	}
	m.busy = true
	counted := map[ipvs.ServiceKey]bool{}
	for _, l := range m.visible() {
		if m.expanded(l.svc) {
			counted[l.svc.key] = true
		}
	}
	s := m.s
	return func() tea.Msg {
		snap, err := s.read(func(k ipvs.ServiceKey) bool { return counted[k] })
		return snapshotMsg{snap, err}
	}
}

func (m *model) expanded(s *service) bool { return m.expandAll != m.toggled[s.id] }

// rows is how many table lines fit: the screen less the title, the
// column titles and the help line.
func (m *model) rows() int { return max(1, m.height-3) }

// visible are the lines on screen.
func (m *model) visible() []line {
	end := min(len(m.lines), m.top+m.rows())
	return m.lines[m.top:end]
}

// relayout rebuilds the lines after a change of table, order, filter or
// expansion, keeping the cursor on the same service or real server.
func (m *model) relayout() {
	var at line
	if m.cursor < len(m.lines) {
		at = m.lines[m.cursor]
	}
	m.lines = nil
	if m.snap != nil {
		m.lines = m.snap.lines(m.order, m.filter, m.expanded)
	}
	m.cursor = min(m.cursor, max(0, len(m.lines)-1))
	for i := range m.lines {
		if at.svc != nil && m.lines[i].is(at) {
			m.cursor = i
			break
		}
	}
	m.scroll()
}

// scroll keeps the cursor on screen.
func (m *model) scroll() {
	if m.cursor < m.top {
		m.top = m.cursor
	}
	if m.cursor >= m.top+m.rows() {
		m.top = m.cursor - m.rows() + 1
	}
	m.top = max(0, min(m.top, len(m.lines)-m.rows()))
}

func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case snapshotMsg:
		m.busy = false
		m.err = msg.err
		if msg.err == nil {
			m.snap = msg.snap
			m.relayout()
		}
		m.ticks++
		n := m.ticks
		return m, tea.Tick(m.interval, func(time.Time) tea.Msg { return tickMsg{n} })
	case tickMsg:
		if msg.n != m.ticks {
			return m, nil
		}
		return m, m.refresh()
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.scroll()
	case tea.KeyMsg:
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
			// Keys typed faster than read arrive together.
			var cmds []tea.Cmd
			for _, r := range msg.Runes {
				_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
				cmds = append(cmds, cmd)
			}
			return m, tea.Batch(cmds...)
		}
		if msg.Type == tea.KeyCtrlC {
			return m, tea.Quit
		}
		if m.filtering {
			m.filterKey(msg)
			return m, nil
		}
		return m, m.key(msg)
	}
	return m, nil
}

// filterKey edits the filter as it is typed.
func (m *model) filterKey(k tea.KeyMsg) {
	switch k.Type {
	case tea.KeyEnter:
		m.filtering = false
	case tea.KeyEsc:
		m.filtering, m.filter = false, ""
	case tea.KeyBackspace:
		if m.filter != "" {
			m.filter = m.filter[:len(m.filter)-1]
		}
	case tea.KeyRunes, tea.KeySpace:
		m.filter += string(k.Runes)
	default:
		return
	}
	m.relayout()
}

func (m *model) key(k tea.KeyMsg) tea.Cmd {
	switch k.String() {
	case "q":
		return tea.Quit
	case "/":
		m.filtering = true
	case "esc":
		m.filter = ""
	case "s", "tab":
		m.order = sortOrder{col: (m.order.col + 1) % m.columns()}
	case "S", "shift+tab":
		m.order = sortOrder{col: (m.order.col + m.columns() - 1) % m.columns()}
	case "1", "2", "3", "4", "5", "6", "7", "8":
		col := int(k.Runes[0] - '1')
		if col >= m.columns() {
			return nil
		}
		m.order = sortOrder{col: col, reverse: m.order.col == col && !m.order.reverse}
	case "r":
		m.order.reverse = !m.order.reverse
	case "e":
		m.expandAll, m.toggled = true, map[string]bool{}
		m.relayout()
		return m.refresh() // start counting the real servers now
	case "c":
		m.expandAll, m.toggled = false, map[string]bool{}
	case "enter", " ":
		if m.cursor < len(m.lines) {
			id := m.lines[m.cursor].svc.id
			m.toggled[id] = !m.toggled[id]
			m.cursor = m.serviceLine(id)
			m.relayout()
			return m.refresh()
		}
	case "up", "k":
		m.move(m.cursor - 1)
		return nil
	case "down", "j":
		m.move(m.cursor + 1)
		return nil
	case "pgup":
		m.move(m.cursor - m.rows())
		return nil
	case "pgdown":
		m.move(m.cursor + m.rows())
		return nil
	case "home", "g":
		m.move(0)
		return nil
	case "end", "G":
		m.move(len(m.lines) - 1)
		return nil
	case "+", "=":
		m.interval = step(m.interval, 1)
	case "-":
		m.interval = step(m.interval, -1)
	default:
		return nil
	}
	m.cursor = max(0, min(m.cursor, len(m.lines)-1))
	m.relayout()
	return nil
}

// move puts the cursor on line i, or the nearest there is.
func (m *model) move(i int) {
	m.cursor = max(0, min(i, len(m.lines)-1))
	m.scroll()
}

// serviceLine is the line of the service id.
func (m *model) serviceLine(id string) int {
	for i, l := range m.lines {
		if l.dest == nil && l.svc.id == id {
			return i
		}
	}
	return m.cursor
}

func (m *model) columns() int {
	if m.snap == nil {
		return colHealth
	}
	return m.snap.columns()
}

// step is the next refresh interval up (dir 1) or down (-1) from d.
func step(d time.Duration, dir int) time.Duration {
	if dir > 0 {
		for _, v := range intervals {
			if v > d {
				return v
			}
		}
		return intervals[len(intervals)-1]
	}
	for i := len(intervals) - 1; i >= 0; i-- {
		if intervals[i] < d {
			return intervals[i]
		}
	}
	return intervals[0]
}

func (m *model) View() string {
	var b strings.Builder
	n := m.columns()
	title := "lvsadm top"
	if m.snap != nil {
		title += fmt.Sprintf(" - %d services", len(m.snap.services))
		if m.filter != "" || m.filtering {
			title += fmt.Sprintf(", %d matching", m.matching())
		}
	}
	title += ", every " + m.interval.String()
	dir := map[bool]string{false: "", true: " reversed"}[m.order.reverse]
	title += ", by " + colTitles[m.order.col] + dir
	b.WriteString(m.clip(styleTitle, title) + "\n")

	vis := m.visible()
	rows := make([][]string, len(vis))
	for i, l := range vis {
		rows[i] = l.cells(n, compact)
		if l.dest == nil {
			mark := "+ "
			if m.expanded(l.svc) {
				mark = "- "
			}
			rows[i][colName] = mark + rows[i][colName]
		}
	}
	wd := widths(n, rows)
	b.WriteString(m.clip(styleHeader, joinCells(colTitles[:n], wd)) + "\n")
	for i, l := range vis {
		style := lipgloss.NewStyle()
		switch {
		case m.top+i == m.cursor:
			style = styleCursor
		case l.dest != nil && l.dest.weight == 0, l.dest == nil && !m.expanded(l.svc) && l.svc.zeroWeight > 0:
			style = styleZero
		case l.dest == nil:
			style = styleService
		}
		b.WriteString(m.clip(style, joinCells(rows[i], wd)) + "\n")
	}
	for range m.rows() - len(vis) {
		b.WriteString("\n")
	}
	switch {
	case m.filtering:
		b.WriteString("filter: " + m.filter + "_")
	case m.err != nil:
		b.WriteString(m.clip(styleError, "error: "+m.err.Error()))
	default:
		help := "q quit  s/S/1-8 sort  r reverse  / filter  enter expand  e/c all  +/- interval"
		if m.filter != "" {
			help = "filter " + m.filter + " (esc clears)  " + help
		}
		b.WriteString(m.clip(styleHelp, help))
	}
	return b.String()
}

// clip renders text in style, cut to the screen's width.
func (m *model) clip(style lipgloss.Style, text string) string {
	if len(text) > m.width {
		text = text[:m.width]
	}
	return style.Render(text)
}

// matching is how many services the filter keeps.
func (m *model) matching() int {
	n := 0
	for _, l := range m.lines {
		if l.dest == nil {
			n++
		}
	}
	return n
}
