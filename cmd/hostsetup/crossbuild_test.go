package hostsetup

import (
	"os"
	"os/exec"
	"testing"
)

// The host setup is Linux-only, but lvsadm's other parts build elsewhere, so
// this package and sysctl must build for other systems too, answering there
// with a "needs Linux" error.
func TestBuildsOnOtherSystems(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the package; skipped with -short")
	}
	// go test puts its own toolchain first in PATH.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	for _, goos := range []string{"darwin", "freebsd"} {
		t.Run(goos, func(t *testing.T) {
			cmd := exec.Command(goBin, "build", "-o", os.DevNull, "../../cmd/hostsetup/", "../../sysctl/")
			cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("GOOS=%s go build: %v\n%s", goos, err, out)
			}
		})
	}
}
