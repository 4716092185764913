package top

import (
	"cmp"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Columns, in the order they are shown; the sort keys 1 to 8 name them.
const (
	colName = iota
	colWeight
	colActive
	colInact
	colConns
	colPackets
	colBytes
	colHealth
	numCols
)

var colTitles = [numCols]string{"SERVICE / REAL SERVER", "WEIGHT", "ACTIVE", "INACT", "CONN/S", "PKT/S", "BYTES/S", "HEALTH"}

// columns is how many columns a snapshot shows: HEALTH only with lvsadm
// run's status.
func (s *snapshot) columns() int {
	if s.health {
		return numCols
	}
	return colHealth
}

// sortOrder is a column to sort by; names and health sort ascending,
// numbers descending (the busiest first), unless reversed.
type sortOrder struct {
	col     int
	reverse bool
}

func (o sortOrder) compare(a, b *row) int {
	var c int
	switch o.col {
	case colName:
		c = cmp.Or(cmp.Compare(a.rank, b.rank), a.server.Compare(b.server))
	case colHealth:
		c = cmp.Compare(a.health, b.health)
	default:
		c = -cmp.Compare(a.value(o.col), b.value(o.col))
	}
	if o.reverse {
		c = -c
	}
	if c == 0 {
		c = cmp.Or(cmp.Compare(a.rank, b.rank), a.server.Compare(b.server))
	}
	return c
}

// value is a numeric column's value; an unknown rate sorts below zero.
func (r *row) value(col int) float64 {
	switch col {
	case colWeight:
		return float64(r.weight)
	case colActive:
		return float64(r.active)
	case colInact:
		return float64(r.inact)
	}
	if !r.rates.ok {
		return -1
	}
	switch col {
	case colConns:
		return r.rates.conns
	case colPackets:
		return r.rates.packets
	}
	return r.rates.bytes
}

// cells are the line's columns as text; rates with one decimal, or "-"
// when unknown.
func (l line) cells(n int, bytes func(float64) string) []string {
	r := l.row()
	c := []string{l.title(), u64(r.weight), u64(r.active), u64(r.inact), "-", "-", "-", r.health}
	if r.rates.ok {
		c[colConns], c[colPackets], c[colBytes] = fixed(r.rates.conns), fixed(r.rates.packets), bytes(r.rates.bytes)
	}
	if c[colHealth] == "" {
		c[colHealth] = "-"
	}
	return c[:n]
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

func fixed(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// compact is a byte rate in at most six characters: 999.9, 12.3K, 4.5M.
func compact(v float64) string {
	for _, unit := range []string{"", "K", "M", "G", "T"} {
		if v < 1000 || unit == "T" {
			if unit == "" {
				return fixed(v)
			}
			return fixed(v) + unit
		}
		v /= 1000
	}
	return ""
}

// line is a service (dest nil) or one of its real servers.
type line struct {
	svc  *service
	dest *row
}

func (l line) row() *row {
	if l.dest != nil {
		return l.dest
	}
	return &l.svc.row
}

// title is the first column: the service as ipvsadm -Ln shows it ("TCP
// 192.0.2.1:80 rr", "FWM  5 wlc"), or the real server ("  -> 198.51.100.1:80
// Masq").
func (l line) title() string {
	if l.dest == nil {
		return l.svc.name
	}
	return "  -> " + l.dest.server.String() + " " + l.dest.method.String()
}

// is reports whether l and o show the same service or real server, maybe
// of different reads.
func (l line) is(o line) bool {
	if l.svc.id != o.svc.id || (l.dest == nil) != (o.dest == nil) {
		return false
	}
	return l.dest == nil || l.dest.server == o.dest.server
}

// lines orders the snapshot's services and their real servers by o (the
// real servers in place), keeps
// the services whose address or a real server's contains filter, and
// lists the real servers of those expanded says.
func (s *snapshot) lines(o sortOrder, filter string, expanded func(*service) bool) []line {
	filter = strings.ToLower(filter)
	svcs := make([]*service, 0, len(s.services))
	for i := range s.services {
		if svc := &s.services[i]; svc.matches(filter) {
			svcs = append(svcs, svc)
		}
	}
	slices.SortStableFunc(svcs, func(a, b *service) int { return o.compare(&a.row, &b.row) })
	n := len(svcs)
	for _, svc := range svcs {
		if expanded(svc) {
			n += len(svc.dests)
		}
	}
	out := make([]line, 0, n)
	for _, svc := range svcs {
		out = append(out, line{svc: svc})
		if !expanded(svc) {
			continue
		}
		slices.SortStableFunc(svc.dests, func(a, b row) int { return o.compare(&a, &b) })
		for j := range svc.dests {
			out = append(out, line{svc: svc, dest: &svc.dests[j]})
		}
	}
	return out
}

func (s *service) matches(filter string) bool {
	if filter == "" || strings.Contains(strings.ToLower(s.addr), filter) {
		return true
	}
	for i := range s.dests {
		if strings.Contains(strings.ToLower(s.dests[i].server.String()), filter) {
			return true
		}
	}
	return false
}

// widths are the columns' widths over rows of cells, titles included.
func widths(n int, rows [][]string) []int {
	w := make([]int, n)
	for i := range w {
		w[i] = len(colTitles[i])
	}
	for _, r := range rows {
		for i, c := range r {
			w[i] = max(w[i], len(c))
		}
	}
	return w
}

// joinCells lays cells out in columns of w: the first and last (health)
// left-aligned, numbers right-aligned, two spaces apart.
func joinCells(cells []string, w []int) string {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteString("  ")
		}
		pad := strings.Repeat(" ", w[i]-len(c))
		if i == colName || i == colHealth {
			b.WriteString(c)
			if i < len(cells)-1 {
				b.WriteString(pad)
			}
		} else {
			b.WriteString(pad + c)
		}
	}
	return b.String()
}

// writePlain writes the snapshot as a plain table: every service in
// ipvsadm's order with its real servers, rates as exact decimals.
func writePlain(w io.Writer, s *snapshot) error {
	n := s.columns()
	all := s.lines(sortOrder{col: colName}, "", func(*service) bool { return true })
	rows := make([][]string, len(all))
	for i, l := range all {
		rows[i] = l.cells(n, fixed)
	}
	wd := widths(n, rows)
	var b strings.Builder
	b.WriteString(joinCells(colTitles[:n], wd) + "\n")
	for _, r := range rows {
		b.WriteString(joinCells(r, wd) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
