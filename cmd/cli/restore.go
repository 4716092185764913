package cli

import (
	"github.com/lvsadm/lvsadm/cmd/compat"
)

// restore runs every line of stdin as an ipvsadm command line. Like ipvsadm
// it stops at a line that ends the process (a validation failure, the "Try"
// line, a failed listing) and otherwise goes on after errors; the final
// status is the last line's.
func (e *env) restore(prog string) outcome {
	lines := compat.NewRestoreScanner(e.stdin)
	status := 0
	for lines.Scan() {
		inv, err := e.parser().Parse(prog, lines.Args())
		var out outcome
		if err != nil {
			out = e.parseFailure(prog, err)
		} else {
			out = e.execute(prog, inv, true)
		}
		if out.exit {
			return out
		}
		status = out.status
	}
	if err := lines.Err(); err != nil {
		e.errorln("lvsadm: reading rules: " + err.Error())
		return exitNow(1)
	}
	return done(status)
}
