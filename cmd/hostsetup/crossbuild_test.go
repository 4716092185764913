package hostsetup

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// The host setup is Linux-only, but lvsadm's other parts build elsewhere, so
// this package and sysctl must build for other systems too, answering there
// with a "needs Linux" error.
func TestBuildsOnOtherSystems(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the package; skipped with -short")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		t.Skipf("no go command beside the test's toolchain: %v", err)
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
