package hostsetup

import (
	"io"
	"testing"
)

// forward on|off are up|down under the names an operator expects.
func TestForwardOnOffAliases(t *testing.T) {
	for _, c := range Commands(io.Discard, io.Discard) {
		if c.Name() != "forward" {
			continue
		}
		for alias, want := range map[string]string{"on": "up", "off": "down"} {
			sub, _, err := c.Find([]string{alias})
			if err != nil || sub.Name() != want {
				t.Errorf("forward %s resolves to %q (%v), want %s", alias, sub.Name(), err, want)
			}
		}
		return
	}
	t.Fatal("no forward command")
}
