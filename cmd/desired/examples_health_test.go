package desired

import (
	"os"
	"testing"

	"github.com/lvsadm/lvsadm/cmd/compat"
)

// TestCheckedExamples: the examples for lvsadm run parse, checks and all.
func TestCheckedExamples(t *testing.T) {
	for _, name := range []string{"checked-dr.yaml", "checked-nat.yaml"} {
		data, err := os.ReadFile("../../scripts/examples/" + name)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := Parse(name, data, "", compat.Parser{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range tbl.Services {
			for _, r := range s.Servers {
				if r.Check == nil {
					t.Errorf("%s: %s has no check", name, r.Source)
				}
			}
		}
	}
}
