package cli

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/cmd/internal/procipvs"
	"github.com/lvsadm/lvsadm/ipvs"
)

// liveTable is the kernel's services and real servers as completion
// offers them, read in one go from /proc/net/ip_vs; nil on any error
// (completion stays quiet).
type liveService struct {
	key     ipvs.ServiceKey // Family unset for fwmark services: the file does not say
	servers []string        // ADDRESS:PORT
}

func (e *env) liveTable() []liveService {
	f, err := e.procIPVS()
	if err != nil {
		return nil
	}
	defer f.Close()
	svcs, err := procipvs.Read(f)
	if err != nil {
		return nil
	}
	var table []liveService
	for i := range svcs {
		s := &svcs[i]
		ls := liveService{key: ipvs.ServiceKey{Protocol: s.Protocol, Addr: s.Addr, Port: s.Port, FWMark: s.FWMark}}
		dests, err := s.AppendDests(nil)
		if err != nil {
			return nil
		}
		for _, d := range dests {
			ls.servers = append(ls.servers, desired.AddrPort(d.Addr, d.Port))
		}
		table = append(table, ls)
	}
	return table
}

// serviceWord is a service as ipvsadm takes it after -t/-u/--sctp-service
// (ADDRESS:PORT) or -f (the mark).
func serviceWord(k ipvs.ServiceKey) string {
	if k.FWMark != 0 {
		return strconv.FormatUint(uint64(k.FWMark), 10)
	}
	return desired.AddrPort(k.Addr, k.Port)
}

// serviceWords are the live services of one kind: a protocol, or fwmark
// services for fwmark true.
func serviceWords(table []liveService, proto ipvs.Protocol, fwmark bool) []string {
	var words []string
	for _, s := range table {
		if fwmark == (s.key.FWMark != 0) && (fwmark || s.key.Protocol == proto) {
			words = append(words, serviceWord(s.key))
		}
	}
	return words
}

// serverWords are the real servers of the service named by word (of kind
// proto/fwmark), or of every service when word is "".
func serverWords(table []liveService, proto ipvs.Protocol, fwmark bool, word string) []string {
	var words []string
	for _, s := range table {
		if word != "" && (fwmark != (s.key.FWMark != 0) || (!fwmark && s.key.Protocol != proto) || serviceWord(s.key) != word) {
			continue
		}
		for _, rs := range s.servers {
			if !slices.Contains(words, rs) {
				words = append(words, rs)
			}
		}
	}
	return words
}

// completeDrainArgs completes drain's and enable's SERVICE and SERVER.
func (e *env) completeDrainArgs(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	proto, fwmark := ipvs.TCP, false
	set := func(name string) bool { v, err := cmd.Flags().GetBool(name); return err == nil && v }
	switch {
	case set("udp-service"):
		proto = ipvs.UDP
	case set("sctp-service"):
		proto = ipvs.SCTP
	case set("fwmark-service"):
		fwmark = true
	}
	switch len(args) {
	case 0:
		return serviceWords(e.liveTable(), proto, fwmark), cobra.ShellCompDirectiveNoFileComp
	case 1:
		return serverWords(e.liveTable(), proto, fwmark, args[0]), cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// schedulers are the IPVS schedulers of current kernels, for -s.
var schedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"}

// ipvsadmCandidates completes the last word of an ipvsadm command line
// (line is the text up to the cursor, the program name first): options,
// live services after -t/-u/--sctp-service/-f, real servers after -r (of
// the service given earlier on the line), schedulers after -s.
func (e *env) ipvsadmCandidates(line string) []string {
	words := strings.Fields(line)
	if len(words) > 0 {
		words = words[1:]
	}
	cur := ""
	if line != "" && !strings.ContainsAny(line[len(line)-1:], " \t\n") && len(words) > 0 {
		cur, words = words[len(words)-1], words[:len(words)-1]
	}
	prev := ""
	if len(words) > 0 {
		prev = words[len(words)-1]
	}
	// The service given so far, for -r.
	proto, fwmark, service := ipvs.TCP, false, ""
	for i := 0; i+1 < len(words); i++ {
		switch words[i] {
		case "-t", "--tcp-service":
			proto, fwmark, service = ipvs.TCP, false, words[i+1]
		case "-u", "--udp-service":
			proto, fwmark, service = ipvs.UDP, false, words[i+1]
		case "--sctp-service":
			proto, fwmark, service = ipvs.SCTP, false, words[i+1]
		case "-f", "--fwmark-service":
			proto, fwmark, service = 0, true, words[i+1]
		}
	}
	var cands []string
	switch prev {
	case "-t", "--tcp-service":
		cands = serviceWords(e.liveTable(), ipvs.TCP, false)
	case "-u", "--udp-service":
		cands = serviceWords(e.liveTable(), ipvs.UDP, false)
	case "--sctp-service":
		cands = serviceWords(e.liveTable(), ipvs.SCTP, false)
	case "-f", "--fwmark-service":
		cands = serviceWords(e.liveTable(), 0, true)
	case "-r", "--real-server":
		cands = serverWords(e.liveTable(), proto, fwmark, service)
	case "-s", "--scheduler":
		cands = schedulers
	default:
		if strings.HasPrefix(cur, "-") {
			cands = compat.OptionWords()
		}
	}
	var out []string
	for _, c := range cands {
		if strings.HasPrefix(c, cur) {
			out = append(out, c)
		}
	}
	return out
}

// ipvsadmBashCompletion completes ipvsadm's command line in bash by asking
// `lvsadm __ipvsadm_complete` with the line up to the cursor. Bash splits
// words at colons (COMP_WORDBREAKS), so the candidates lose the part of
// the current word before its last colon, which bash keeps.
const ipvsadmBashCompletion = `
# ipvsadm (lvsadm's ipvsadm mode): options, and live services and real
# servers after -t, -u, --sctp-service, -f and -r.
_lvsadm_ipvsadm() {
	local IFS=$'\n' line=${COMP_LINE:0:COMP_POINT} cur prefix i
	local -a cands
	cands=($(lvsadm __ipvsadm_complete "$line" 2>/dev/null))
	cur=${line##*[[:space:]]}
	if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
		prefix=${cur%"${cur##*:}"}
		for i in "${!cands[@]}"; do cands[i]=${cands[i]#"$prefix"}; done
	fi
	COMPREPLY=("${cands[@]}")
}
complete -F _lvsadm_ipvsadm ipvsadm
`

// completionCommands are `completion SHELL` and the hidden helper the
// ipvsadm completion calls.
func (e *env) completionCommands(root *cobra.Command) []*cobra.Command {
	completion := &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print a shell completion script",
		Long: `completion prints a script that teaches the shell to complete lvsadm's
subcommands, flags and live service and real-server addresses. For bash it
also completes ipvsadm (lvsadm's ipvsadm mode): its options, and after -t,
-u, --sctp-service, -f and -r the services and real servers in the kernel.

  bash:  source <(lvsadm completion bash)
         or lvsadm completion bash > /etc/bash_completion.d/lvsadm
  zsh:   lvsadm completion zsh > "${fpath[1]}/_lvsadm"
  fish:  lvsadm completion fish > ~/.config/fish/completions/lvsadm.fish`,
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || !slices.Contains(cmd.ValidArgs, args[0]) {
				return fmt.Errorf("completion: give one shell: bash, zsh or fish")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				if err := root.GenBashCompletionV2(w, true); err != nil {
					return err
				}
				_, err := io.WriteString(w, ipvsadmBashCompletion)
				return err
			case "zsh":
				return root.GenZshCompletion(w)
			}
			return root.GenFishCompletion(w, true)
		},
	}
	helper := &cobra.Command{
		Use:    "__ipvsadm_complete LINE",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, c := range e.ipvsadmCandidates(args[0]) {
				if _, err := fmt.Fprintln(cmd.OutOrStdout(), c); err != nil {
					return err
				}
			}
			return nil
		},
	}
	return []*cobra.Command{completion, helper}
}
