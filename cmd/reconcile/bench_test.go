package reconcile

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/ipvs"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

// benchRules is make bench's 10,000 x 10 table as rules (110,000 lines).
func benchRules() string {
	var sb strings.Builder
	for s := range 10000 {
		vip := fmt.Sprintf("198.18.%d.%d:80", s/250, s%250+1)
		fmt.Fprintf(&sb, "-A -t %s -s rr\n", vip)
		for d := range 10 {
			n := (s*10 + d) % 64000
			fmt.Fprintf(&sb, "-a -t %s -r 198.19.%d.%d:80 -m -w 1\n", vip, n/250, n%250+1)
		}
	}
	return sb.String()
}

// BenchmarkPlanIntoEmpty is what apply into an empty namespace does on top
// of what -R does (parse and send the same requests): read the file into a
// table, plan against an empty kernel, print the plan.
func BenchmarkPlanIntoEmpty(b *testing.B) {
	text := benchRules()
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
