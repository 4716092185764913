// Package exitcode carries a subcommand's exit status, with its error, to
// lvsadm's main (cmd/cli asks any error for an ExitCode method).
package exitcode

// Error is an error with the status lvsadm exits with.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ExitCode is the status lvsadm exits with.
func (e *Error) ExitCode() int { return e.Code }
