package cli

import (
	"errors"
	"fmt"
	"strings"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"
	"github.com/spf13/cobra"

	"github.com/lvsadm/lvsadm/cmd/daemon"
	"github.com/lvsadm/lvsadm/cmd/drain"
	"github.com/lvsadm/lvsadm/cmd/hostsetup"
	"github.com/lvsadm/lvsadm/cmd/keepalived"
	"github.com/lvsadm/lvsadm/cmd/statecmd"
	"github.com/lvsadm/lvsadm/cmd/top"
	"github.com/lvsadm/lvsadm/ipvs"
)

// runHelper runs lvsadm's own subcommands (cobra), built fresh per call.
func runHelper(e *env, args []string) int {
	root := helperRoot(e)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		// cobra's suggestions end in a newline of their own. An error
		// without text only carries a status (plan's 2).
		if msg := strings.TrimRight(err.Error(), "\n"); msg != "" {
			e.errorln("lvsadm: " + msg)
		}
		return exitStatus(err)
	}
	return 0
}

// helperRoot builds the tree of lvsadm's own subcommands.
func helperRoot(e *env) *cobra.Command {
	stderr := stderrAfterStdout{e}
	root := &cobra.Command{
		Use:           "lvsadm",
		Short:         "Linux Virtual Server administration",
		Long:          "lvsadm manages IPVS (ipvsadm-compatible options, see lvsadm -h) and the host\nsettings around it.",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	// An explicit completion command instead of cobra's: its bash
	// script also completes ipvsadm.
	root.CompletionOptions.DisableDefaultCmd = true
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
	root.AddCommand(statecmd.Commands(statecmd.Env{
		Stdin:    e.stdin,
		Stdout:   e.stdout,
		Stderr:   stderr,
		Dial:     e.dialIPVS,
		OpenProc: e.procIPVS,
		Parser:   e.parser(),
		Ipvsadm:  func(args ...string) int { return runIpvsadm(e, "ipvsadm", args) },
	})...)
	root.AddCommand(top.Command(top.Env{
		Stdout:   e.stdout,
		Stderr:   stderr,
		Dial:     e.dialIPVS,
		OpenProc: e.procIPVS,
		Terminal: e.terminal,
	}))
	root.AddCommand(drain.Commands(drain.Env{
		Stdout:   e.stdout,
		Stderr:   stderr,
		Dial:     e.dialIPVS,
		Parser:   e.parser(),
		Complete: e.completeDrainArgs,
	})...)
	root.AddCommand(e.completionCommands(root)...)
	root.AddCommand(manCommand(root))
	root.AddCommand(keepalived.Command(e.stdin, e.stdout, stderr))
	root.AddCommand(daemon.Commands(daemon.Env{
		Stderr:   stderr,
		Dial:     e.dialIPVS,
		OpenProc: e.procIPVS,
		Parser:   e.parser(),
		Notify:   func(state string) { sddaemon.SdNotify(false, state) },
	}, e.stdout)...)
	return root
}

// exitStatus is the status a command's error asks for; cobra's own errors
// (unknown command or flag) are usage errors.
func exitStatus(err error) int {
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) {
		return coded.ExitCode()
	}
	return hostsetup.ExitUsage
}

// dialIPVS connects as ipvsadm does, trying modprobe ip_vs once if IPVS is
// not there, and says so if it still is not.
func (e *env) dialIPVS() (*ipvs.Client, error) {
	c, err := e.dial()
	if err != nil {
		e.stdout.Flush() // modprobe writes to stderr
		if e.modprobe(e.stderr) == nil {
			c, err = e.dial()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot use IPVS: %w", err)
	}
	return c, nil
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
