package cli

import (
	"runtime"
	"runtime/debug"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/ipvs"
)

// restoreFlushLines bounds how many lines wait for their results, so output
// keeps flowing and memory stays flat on huge inputs.
const restoreFlushLines = 5000

// pendingLine is a restore line whose outcome is printed in input order:
// either a queued kernel change or an already known popt error.
type pendingLine struct {
	request int // index in the batch, or -1
	op      ipvs.Op
	message string // printed when request is -1
}

// restore runs every line of stdin as an ipvsadm command line, with
// ipvsadm's observable behaviour: the same messages in the same order, the
// same stop-or-continue rules (a validation failure, the "Try" line or a
// failed listing end the run; kernel and popt errors do not) and the same
// final status, that of the last line.
//
// Unlike ipvsadm it does not wait for the kernel after each line: changes
// are queued in a batch and sent together; the kernel applies them in
// order, so the final state is the same. Queued results are printed before
// anything else happens that could write output or end the run.
func (e *env) restore(prog string) outcome {
	lines := compat.NewRestoreScanner(e.stdin)
	status := 0
	batch := e.client.NewBatch()
	var pending []pendingLine
	settle := func() {
		if len(pending) == 0 {
			return
		}
		results, _ := batch.Send() // an exchange failure is in each unknown result
		for _, p := range pending {
			switch {
			case p.request < 0:
				e.errorln(p.message)
				status = 255
			case results[p.request] != nil:
				e.errorln(kernelMessage(p.op, results[p.request]))
				status = 255
			default:
				status = 0
			}
		}
		pending = pending[:0]
	}
	// Restores are allocation-heavy and short-lived: trade memory for less
	// collector work while they run.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	parser := e.parser()
	inv := new(compat.Invocation) // reused for every line
	for n := 1; lines.Scan(); n++ {
		if n%1000 == 0 {
			runtime.Gosched() // no preemption signal needed; see ipvs's yield
		}
		err := parser.ParseInto(inv, prog, lines.Args())
		if err != nil {
			out := e.classifyParseError(prog, err)
			if !out.exit {
				pending = append(pending, pendingLine{request: -1, message: err.Error()})
				continue
			}
			settle()
			e.errorln(err.Error())
			return out
		}
		if op, ok := queueChange(batch, inv); ok {
			pending = append(pending, pendingLine{request: batch.Len() - 1, op: op})
			if len(pending) >= restoreFlushLines {
				settle()
			}
			continue
		}
		settle()
		out := e.execute(prog, inv, true)
		if out.exit {
			return out
		}
		status = out.status
	}
	settle()
	if err := lines.Err(); err != nil {
		e.errorln("lvsadm: reading rules: " + err.Error())
		return exitNow(1)
	}
	return done(status)
}
