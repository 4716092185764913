package health

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// results spells a run of results: U up, D down, digits an up result with
// that dynamic weight.
func results(s string) []Result {
	var rs []Result
	for _, c := range s {
		switch {
		case c == 'U':
			rs = append(rs, Result{Up: true, Reason: "tcp connect ok"})
		case c == 'D':
			rs = append(rs, Result{Reason: "tcp connect refused"})
		case c >= '0' && c <= '9':
			w := int(c - '0')
			rs = append(rs, Result{Up: true, Weighted: true, Weight: w, Reason: weightReason(w+2, w)})
		}
	}
	return rs
}

// transition is one change a run of results made.
type transition struct {
	After  int // results applied
	Change change
	Up     bool
	Weight int
	Reason string
}

func TestState(t *testing.T) {
	tests := []struct {
		name       string
		initialUp  bool
		rise, fall int
		results    string
		want       []transition
		wantUp     bool
		wantReason string
	}{
		{"up stays up", true, 2, 3, "UUUUU", nil, true, "initial state up"},
		{"down after fall", true, 2, 3, "UDDD", []transition{
			{4, stateChange, false, 0, "tcp connect refused after 3 tries"}}, false, "tcp connect refused after 3 tries"},
		{"fall 1", true, 2, 1, "D", []transition{
			{1, stateChange, false, 0, "tcp connect refused"}}, false, "tcp connect refused"},
		{"failures not in a row", true, 2, 3, "DDUDDUDD", nil, true, "initial state up"},
		{"initial down needs rise", false, 2, 3, "UU", []transition{
			{2, stateChange, true, 0, "up after 2 successes (tcp connect ok)"}}, true, "up after 2 successes (tcp connect ok)"},
		{"rise 1", false, 1, 3, "DU", []transition{
			{2, stateChange, true, 0, "up after 1 success (tcp connect ok)"}}, true, "up after 1 success (tcp connect ok)"},
		{"initial down, successes not in a row", false, 3, 3, "UUDUUDUU", nil, false, "initial state down"},
		// A server failing one check in three never changes state with
		// rise 3 and fall 3, whichever state it starts in.
		{"flapping from up", true, 3, 3, strings.Repeat("UUD", 10), nil, true, "initial state up"},
		{"flapping from down", false, 3, 3, strings.Repeat("UUD", 10), nil, false, "initial state down"},
		{"flapping the other way from up", true, 3, 3, strings.Repeat("DDU", 10), nil, true, "initial state up"},
		{"flapping the other way from down", false, 3, 3, strings.Repeat("DDU", 10), nil, false, "initial state down"},
		{"down and up again", true, 2, 2, "DDDUDUU", []transition{
			{2, stateChange, false, 0, "tcp connect refused after 2 tries"},
			{7, stateChange, true, 0, "up after 2 successes (tcp connect ok)"}}, true, "up after 2 successes (tcp connect ok)"},
		{"weights while up", true, 2, 3, "U55U7", []transition{
			{2, weightChange, true, 5, "exec exit 7 (weight 5)"},
			{5, weightChange, true, 7, "exec exit 9 (weight 7)"}}, true, "exec exit 9 (weight 7)"},
		{"first weight 0 is a change", true, 2, 3, "0", []transition{
			{1, weightChange, true, 0, "exec exit 2 (weight 0)"}}, true, "exec exit 2 (weight 0)"},
		{"weights while down come up with the server", false, 2, 3, "3D45", []transition{
			{4, stateChange, true, 5, "up after 2 successes (exec exit 7 (weight 5))"}}, true, "up after 2 successes (exec exit 7 (weight 5))"},
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newState(tt.initialUp, tt.rise, tt.fall, start)
			var got []transition
			for i, r := range results(tt.results) {
				now := start.Add(time.Duration(i+1) * time.Second)
				if ch := s.apply(r, now); ch != noChange {
					got = append(got, transition{i + 1, ch, s.up, s.weight, s.reason})
					if ch == stateChange && !s.since.Equal(now) {
						t.Errorf("after %d: since %v, want %v", i+1, s.since, now)
					}
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("transitions (-want +got):\n%s", d)
			}
			if s.up != tt.wantUp || s.reason != tt.wantReason {
				t.Errorf("ends up=%v %q, want up=%v %q", s.up, s.reason, tt.wantUp, tt.wantReason)
			}
			n := uint64(len(tt.results))
			if s.checks != n || s.failed != uint64(strings.Count(tt.results, "D")) {
				t.Errorf("counted %d checks and %d failures of %q", s.checks, s.failed, tt.results)
			}
		})
	}
}

func TestStateRetrying(t *testing.T) {
	s := newState(true, 2, 3, time.Time{})
	var got []bool
	for _, r := range results("DDUDDDDU") {
		s.apply(r, time.Time{})
		got = append(got, s.retrying())
	}
	// Retrying while up with failures; not once down (nor while coming up).
	want := []bool{true, true, false, true, true, false, false, false}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("retrying (-want +got):\n%s", d)
	}
}
