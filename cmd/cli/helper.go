package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/lvsadm/lvsadm/cmd/hostsetup"
)

// runHelper runs lvsadm's own subcommands (cobra), built fresh per call.
func runHelper(e *env, args []string) int {
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
	root.SetErr(e.stderr)
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print lvsadm's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := e.stdout.WriteString(versionLine())
			return err
		},
	})
	root.AddCommand(helperCommands(e)...)
	if err := root.Execute(); err != nil {
		e.errorln("lvsadm: " + err.Error())
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

// helperCommands are the host-setup subcommands.
func helperCommands(e *env) []*cobra.Command {
	return hostsetup.Commands(e.stdout, e.stderr)
}
