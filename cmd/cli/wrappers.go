package cli

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// The ipvsadm package installs two small shell scripts; lvsadm reproduces
// what they do when invoked under their names. Both run "ipvsadm", so that
// is the program name in any message.

// runSave is ipvsadm-save [-n]: ipvsadm -S, numeric with -n. Any other
// option prints the script's usage to stderr and exits 1; other words are
// ignored.
func runSave(e *env, args []string) int {
	numeric := false
	for _, a := range args {
		switch {
		case a == "-n":
			numeric = true
		case strings.HasPrefix(a, "-"):
			e.errorln("ipvsadm-save: Script to save the IPVS table to stdout.\n   With the -n option, prints out the table in numeric format.")
			return 1
		}
	}
	cmd := []string{"-S"}
	if numeric {
		cmd = append(cmd, "-n")
	}
	return runIpvsadm(e, "ipvsadm", cmd)
}

// runRestoreWrapper is ipvsadm-restore: it drops the lines of stdin that
// start with '#', flushes the table (ipvsadm -C) and restores the rest
// (ipvsadm -R). Its status is the restore's. Arguments are ignored.
func runRestoreWrapper(e *env, _ []string) int {
	input, err := io.ReadAll(e.stdin)
	if err != nil {
		e.errorln("ipvsadm-restore: " + err.Error())
		return 1
	}
	filtered := stripCommentLines(input)

	flush := e.child(nil)
	runIpvsadm(flush, "ipvsadm", []string{"-C"})
	flush.close()

	restore := e.child(bytes.NewReader(filtered))
	defer restore.close()
	return runIpvsadm(restore, "ipvsadm", []string{"-R"})
}

// stripCommentLines is the script's `INPUT="$(grep -v '^#')"` followed by
// `echo "$INPUT"`: comment lines go, trailing newlines collapse into one.
func stripCommentLines(input []byte) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(input))
	sc.Buffer(nil, len(input)+1)
	for sc.Scan() {
		if line := sc.Bytes(); !bytes.HasPrefix(line, []byte("#")) {
			out.Write(line)
			out.WriteByte('\n')
		}
	}
	return append(bytes.TrimRight(out.Bytes(), "\n"), '\n')
}

// child is the environment of a program the wrapper scripts would start:
// same streams and system hooks, its own kernel connection.
func (e *env) child(stdin io.Reader) *env {
	c := *e
	c.stdin = stdin
	c.client = nil
	return &c
}
