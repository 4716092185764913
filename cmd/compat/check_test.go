package compat

import (
	"math/rand/v2"
	"testing"

	"github.com/lvsadm/lvsadm/ipvs"
)

// The bit-mask rules decide when checkTable runs, so they must flag
// exactly the option sets that checkTable rejects.
func TestRulesMatchCheckTable(t *testing.T) {
	allOptions := Options(1)<<numberOfOptions - 1
	var sets []Options
	sets = append(sets, 0, allOptions)
	for i := range numberOfOptions {
		for j := i; j < numberOfOptions; j++ {
			sets = append(sets, 1<<i|1<<j)
		}
	}
	random := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		// Sparse sets, like real command lines.
		sets = append(sets, Options(random.Uint64()&random.Uint64()&random.Uint64())&allOptions)
	}
	for cmd, row := range commandOptions {
		for _, given := range sets {
			broken := commandRules[cmd].brokenBy(given)
			err := checkTable(row, commandColumn, given, "test")
			if broken != (err != nil) {
				t.Errorf("%s with %s: rules say broken=%v, checkTable says %v", Command(cmd), given, broken, err)
			}
		}
	}
	for tunnel, row := range tunnelOptions {
		for _, given := range sets {
			broken := tunnelRules[tunnel].brokenBy(given)
			err := checkTable(row, tunnelColumn, given, "test")
			if broken != (err != nil) {
				t.Errorf("%s tunnel with %s: rules say broken=%v, checkTable says %v",
					ipvs.TunnelType(tunnel), given, broken, err)
			}
		}
	}
}
