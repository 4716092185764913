package ipvs

import (
	"errors"
	"os"
	"testing"
)

// A network namespace that does not exist is reported as such, not as a
// kernel without IPVS.
func TestDialMissingNamespace(t *testing.T) {
	_, err := Dial(&Config{NetNSPath: "/nonexistent/netns"})
	want := "ipvs: dial: network namespace: open /nonexistent/netns: no such file or directory"
	if err == nil || err.Error() != want || errors.Is(err, ErrNotAvailable) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Dial = %v (ErrNotAvailable %v), want %q", err, errors.Is(err, ErrNotAvailable), want)
	}
}
