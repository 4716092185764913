package reconcile

import (
	"io"
	"strings"
	"testing"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/cmd/internal/benchtable"
	"github.com/lvsadm/lvsadm/ipvs"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

// BenchmarkPlanIntoEmpty is what apply into an empty namespace does on top
// of what -R does (parse and send the same requests): read the file into a
// table, plan against an empty kernel, print the plan.
func BenchmarkPlanIntoEmpty(b *testing.B) {
	text := benchtable.Rules()
	c, err := ipvs.NewFromConn(ipvstest.New().NetlinkConn())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	for b.Loop() {
		planRules(b, c, nil, text)
	}
}

// planRules is lvsadm plan of the rules text: read it into a table, plan
// against c (with /proc/net/ip_vs from openProc, if not nil), print the
// plan.
func planRules(b *testing.B, c *ipvs.Client, openProc func() (io.ReadCloser, error), text string) *Plan {
	want, err := desired.ParseRules("b", strings.NewReader(text), compat.Parser{})
	if err != nil {
		b.Fatal(err)
	}
	p, err := Make(c, openProc, want, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := p.WriteText(io.Discard, 0); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkPlanNoChange is lvsadm plan of the 10,000 x 10 table against a
// kernel that has it, the real servers read from /proc/net/ip_vs text:
// read the file into a table, diff, print the (empty) plan.
func BenchmarkPlanNoChange(b *testing.B) {
	text := benchtable.Rules()
	k := ipvstest.New()
	c, err := ipvs.NewFromConn(k.NetlinkConn())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	want, err := desired.ParseRules("b", strings.NewReader(text), compat.Parser{})
	if err != nil {
		b.Fatal(err)
	}
	p, err := Make(c, nil, want, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := Apply(c, p, ApplyOptions{}); err != nil {
		b.Fatal(err)
	}
	proc := procText(b, c)
	open := func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(proc)), nil }
	b.ReportAllocs()
	for b.Loop() {
		if p := planRules(b, c, open, text); !p.Empty() {
			b.Fatalf("%d changes, want none", len(p.Changes))
		}
	}
}
