package keepalived

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/lvsadm/lvsadm/cmd/desired"
)

// exitError is a failure with the exit status 1.
type exitError struct{ err error }

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// ExitCode is the status lvsadm exits with.
func (e *exitError) ExitCode() int { return 1 }

// Command returns `lvsadm import` with its subcommand `keepalived FILE`,
// which writes the converted YAML on stdout and names on stderr, one per
// line, what it did not convert. It exits 1, writing nothing on stdout, if
// the file cannot be read or converted.
func Command(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	imp := &cobra.Command{
		Use:   "import",
		Short: "Convert another tool's configuration into lvsadm's YAML",
		Args:  cobra.NoArgs,
	}
	var opt Options
	kc := &cobra.Command{
		Use:   "keepalived FILE",
		Short: "Convert keepalived.conf's virtual servers into lvsadm's YAML (- reads standard input)",
		Long: "Convert the virtual_server blocks of a keepalived configuration, with their\n" +
			"real servers and checkers, into lvsadm's YAML on standard output. Each keyword\n" +
			"that has no lvsadm equivalent is named on standard error with its file and line.",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name := args[0]
			var data []byte
			var err error
			if name == "-" {
				name = "<stdin>"
				data, err = io.ReadAll(stdin)
			} else {
				data, err = os.ReadFile(name)
			}
			if err != nil {
				return &exitError{err}
			}
			f, warnings, err := Import(name, data, opt)
			if err != nil {
				return &exitError{err}
			}
			out, err := desired.MarshalYAML(f)
			if err != nil {
				return &exitError{err}
			}
			if _, err := stdout.Write(out); err != nil {
				return &exitError{err}
			}
			for _, w := range warnings {
				fmt.Fprintln(stderr, w)
			}
			return nil
		},
	}
	kc.Flags().StringVar(&opt.ConfigID, "config-id", "", "keepalived's configuration id (its -i): which @ID lines apply")
	imp.AddCommand(kc)
	for _, c := range []*cobra.Command{imp, kc} {
		c.SilenceErrors, c.SilenceUsage = true, true
	}
	return imp
}
