package desired

import (
	"testing"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/cmd/internal/benchtable"
)

// BenchmarkParseRules reads the benchmark's 10,000 x 10 table as rules
// (110,000 lines), what plan and apply read before anything else.
func BenchmarkParseRules(b *testing.B) {
	data := []byte(benchtable.Rules())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("b", data, Rules, compat.Parser{}); err != nil {
			b.Fatal(err)
		}
	}
}
