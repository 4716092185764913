package desired

import (
	"strings"
	"testing"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/cmd/internal/benchtable"
)

// BenchmarkParseRules reads the benchmark's 10,000 x 10 table as rules
// (110,000 lines), what plan and apply read before anything else.
func BenchmarkParseRules(b *testing.B) {
	text := benchtable.Rules()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRules("b", strings.NewReader(text), compat.Parser{}); err != nil {
			b.Fatal(err)
		}
	}
}
