package desired

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lvsadm/lvsadm/cmd/compat"
)

// BenchmarkParseRules reads the benchmark's 10,000 x 10 table as rules
// (110,000 lines), what plan and apply read before anything else.
func BenchmarkParseRules(b *testing.B) {
	var sb strings.Builder
	for s := range 10000 {
		vip := fmt.Sprintf("198.18.%d.%d:80", s/250, s%250+1)
		fmt.Fprintf(&sb, "-A -t %s -s rr\n", vip)
		for d := range 10 {
			n := (s*10 + d) % 64000
			fmt.Fprintf(&sb, "-a -t %s -r 198.19.%d.%d:80 -m -w 1\n", vip, n/250, n%250+1)
		}
	}
	text := sb.String()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRules("b", strings.NewReader(text), compat.Parser{}); err != nil {
			b.Fatal(err)
		}
	}
}
