package cli

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// version is set at build time (-ldflags -X); empty means "ask the build
// information".
var version = ""

// compatibleWith is the ipvsadm release whose behaviour lvsadm reproduces.
const compatibleWith = "ipvsadm v1.31 2019/12/24"

var buildVersion = sync.OnceValue(func() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		info = nil
	}
	return resolveVersion(version, info)
})

func versionLine() string {
	return fmt.Sprintf("lvsadm %s (compatible with %s)\n", buildVersion(), compatibleWith)
}

// resolveVersion picks the version to show: the one given at link time;
// else the main module's version (go install ...@vX records it); else the
// VCS revision the binary was built from, "-dirty" when the tree had
// changes; else "dev".
func resolveVersion(linked string, info *debug.BuildInfo) string {
	if linked != "" {
		return linked
	}
	if info == nil {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var modified bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified {
		rev += "-dirty"
	}
	return rev
}
