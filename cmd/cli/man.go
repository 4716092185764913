package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// ipvsadmModeSection is lvsadm(8)'s section on the ipvsadm-compatible mode,
// in roff, placed before SEE ALSO.
const ipvsadmModeSection = `.SH IPVSADM MODE
.PP
Any command line whose first argument starts with a dash is an ipvsadm
command line: \fBlvsadm -Ln\fP lists the IPVS table as \fBipvsadm -Ln\fP
would. The options, the checks of which options go together, the listings,
the error messages and the exit statuses are those of ipvsadm 1.31;
\fBlvsadm -h\fP prints the option summary.
.PP
Installed under the names \fBipvsadm\fP, \fBipvsadm-save\fP and
\fBipvsadm-restore\fP (\fBmake install\fP makes these symbolic links), the
binary behaves as that program, so scripts written for ipvsadm work
unchanged. Messages then carry the name it was called by.
.PP
Where lvsadm differs, it is in how it talks to the kernel, not in what it
prints: \fB-R\fP (restore) sends its lines to the kernel in batches while
still applying piped input as it arrives, and listings read the whole table
in a few netlink requests plus one read of \fI/proc/net/ip_vs\fP.
.PP
Services and real servers given to the subcommands \fBdrain\fP and
\fBenable\fP are read exactly as ipvsadm reads the arguments of
\fB-t\fP, \fB-u\fP, \fB--sctp-service\fP, \fB-f\fP and \fB-r\fP.
.SH FILES
.TP
\fI/run/lvsadm\fP
What \fBdirector up\fP, \fBrealserver up\fP and the other host-setup
commands changed, one file per network namespace, and the weights of real
servers drained with \fBdrain\fP. It must belong to root and not be
writable by group or others.
`

// writeManPages writes a section 8 page for every visible command of root
// into dir, with the ipvsadm-mode section in lvsadm(8).
func writeManPages(root *cobra.Command, dir string) error {
	root.DisableAutoGenTag = true
	header := &doc.GenManHeader{Title: "LVSADM", Section: "8", Source: "lvsadm " + buildVersion(), Manual: "System Administration"}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := doc.GenManTree(root, header, dir); err != nil {
		return err
	}
	var page bytes.Buffer
	if err := doc.GenMan(root, header, &page); err != nil {
		return err
	}
	text := page.String()
	at := strings.Index(text, ".SH SEE ALSO")
	if at < 0 {
		return fmt.Errorf("lvsadm.8 has no SEE ALSO section")
	}
	text = text[:at] + ipvsadmModeSection + text[at:]
	return os.WriteFile(filepath.Join(dir, "lvsadm.8"), []byte(text), 0o644)
}

// manCommand is the hidden `__man DIR` that `make man` runs.
func manCommand(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:    "__man DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeManPages(root, args[0])
		},
	}
}
