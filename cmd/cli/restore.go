package cli

import (
	"io"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/ipvs"
)

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
// Unlike ipvsadm it does not wait for the kernel after each line: the
// changes of the lines already read are queued in a batch, and the batch is
// sent before anything that could write output or end the run, and before
// every read of more input. So a large file goes out in large batches, while
// lines arriving one at a time (a pipe, an admin typing) take effect as they
// arrive, as with ipvsadm. The kernel applies a batch in order, so the final
// state is the same.
func (e *env) restore(prog string) outcome {
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
	lines := compat.NewRestoreScanner(readHook{e.stdin, settle})
	parser := e.parser()
	inv := new(compat.Invocation) // reused for every line
	for lines.Scan() {
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

// readHook calls before ahead of every read of r.
type readHook struct {
	r      io.Reader
	before func()
}

func (h readHook) Read(p []byte) (int, error) {
	h.before()
	return h.r.Read(p)
}
