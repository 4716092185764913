// Package cli is lvsadm's command line: the ipvsadm-compatible commands, the
// ipvsadm-save and ipvsadm-restore programs, and lvsadm's own helper
// subcommands. Main owns every exit status.
package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
)

// Main runs the program named by args[0] and returns its exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(newEnv(stdin, stdout, stderr), args)
}

// run is Main with its environment (tests swap in a fake kernel). Output
// that could not be written (a full disk under ipvsadm-save > file) fails
// the run: ipvsadm would exit 0 with a truncated file.
func run(env *env, args []string) int {
	prog := "lvsadm"
	if len(args) > 0 {
		prog = args[0]
	} else {
		args = []string{prog}
	}
	status := dispatch(env, prog, args)
	if err := env.close(); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		fmt.Fprintf(env.stderr, "%s: error writing standard output: %v\n", filepath.Base(prog), err)
		if status == 0 {
			status = 1
		}
	}
	return status
}

func dispatch(env *env, prog string, args []string) int {
	switch filepath.Base(prog) {
	case "ipvsadm":
		return runIpvsadm(env, prog, args[1:])
	case "ipvsadm-save":
		return runSave(env, args[1:])
	case "ipvsadm-restore":
		return runRestoreWrapper(env, args[1:])
	}
	if len(args) > 1 && isHelperCommand(args[1]) {
		return runHelper(env, args[1:])
	}
	if len(args) == 2 && (args[1] == "--version" || args[1] == "version") {
		env.stdout.WriteString(versionLine())
		return 0
	}
	// Anything else is an ipvsadm command line: `lvsadm -Ln` works.
	return runIpvsadm(env, prog, args[1:])
}

// isHelperCommand tells lvsadm's own subcommands from ipvsadm options, which
// always start with a dash.
func isHelperCommand(arg string) bool {
	return arg != "" && !strings.HasPrefix(arg, "-")
}
