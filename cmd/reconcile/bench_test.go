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
		want, err := desired.ParseRules("b", strings.NewReader(text), compat.Parser{})
		if err != nil {
			b.Fatal(err)
		}
		p, err := Make(c, nil, want, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := p.WriteText(io.Discard, 0); err != nil {
			b.Fatal(err)
		}
	}
}
