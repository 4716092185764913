package cli

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lvsadm/lvsadm/cmd/hostsetup"
)

// runHelper runs lvsadm's own subcommands (cobra), built fresh per call.
func runHelper(e *env, args []string) int {
	stderr := stderrAfterStdout{e}
	root := &cobra.Command{
		Use:           "lvsadm",
		Short:         "Linux Virtual Server administration",
		Long:          "lvsadm manages IPVS (ipvsadm-compatible options, see lvsadm -h) and the host\nsettings around it.",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetArgs(args)
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(stderr)
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print lvsadm's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := e.stdout.WriteString(versionLine())
			return err
		},
	})
	root.AddCommand(hostsetupCommands(e.stdout, stderr)...)
	if err := root.Execute(); err != nil {
		// cobra's suggestions end in a newline of their own.
		e.errorln("lvsadm: " + strings.TrimRight(err.Error(), "\n"))
		return exitStatus(err)
	}
	return 0
}

// exitStatus is the status a host-setup error asks for; cobra's own errors
// (unknown command or flag) are usage errors.
func exitStatus(err error) int {
	var he *hostsetup.ExitError
	if errors.As(err, &he) {
		return he.Code
	}
	return hostsetup.ExitUsage
}

// hostsetupCommands builds the host-setup subcommands; tests replace it.
var hostsetupCommands = hostsetup.Commands

// stderrAfterStdout is the helpers' stderr: it flushes the buffered stdout
// before each write, so that warnings and tables reach a shared terminal in
// the order they were produced.
type stderrAfterStdout struct{ e *env }

func (w stderrAfterStdout) Write(p []byte) (int, error) {
	w.e.stdout.Flush() // a failing stdout must not silence the warning
	return w.e.stderr.Write(p)
}
