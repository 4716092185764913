// Package hostsetup implements lvsadm's host-setup commands: VIP addresses,
// the ARP, forwarding, redirect and reverse-path knobs around LVS, and whole
// director and real-server roles that apply them in a safe order, record
// every value they change (including the kernel's own side effects) and put
// each one back on the way down.
//
// State lives in /run/lvsadm/netns-INODE.json, one file per network
// namespace, written atomically under an flock. All of it acts on the
// network namespace of the calling thread.
package hostsetup

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/lvsadm/lvsadm/sysctl"
	"github.com/spf13/cobra"
)

// ExitError carries the exit status for lvsadm's main. Every error the
// commands return is one. The message has no "lvsadm:" prefix.
type ExitError struct {
	Code int
	Err  error
}

// Exit statuses.
const (
	ExitFailure  = 1 // the operation failed or was refused; nothing was left half done
	ExitUsage    = 2 // the command line is wrong
	ExitProblems = 3 // status found values that are wrong for the role
)

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

func exitError(err error) error {
	if err == nil {
		return nil
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return err
	}
	var ue usageError
	if errors.As(err, &ue) {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	return &ExitError{Code: ExitFailure, Err: err}
}

// Commands returns the host-setup commands (vip, arp, forward, redirects,
// rpfilter, director, realserver), built afresh on every call, for the
// lvsadm root command. They write only to stdout and stderr and return
// *ExitError values instead of printing errors.
func Commands(stdout, stderr io.Writer) []*cobra.Command {
	return newCommands(defaultEnv(), stdout, stderr)
}

func newCommands(e env, stdout, stderr io.Writer) []*cobra.Command {
	r := &runner{env: e, out: stdout, errw: stderr}
	cmds := []*cobra.Command{
		vipCommand(r),
		roleCommand(r, roleARP),
		roleCommand(r, roleForward),
		roleCommand(r, roleRedirects),
		roleCommand(r, roleRPFilter),
		roleCommand(r, roleDirector),
		roleCommand(r, roleRealServer),
	}
	for _, c := range cmds {
		c.SetOut(stdout)
		c.SetErr(stderr)
		quiet(c)
	}
	return cmds
}

// quiet makes cobra leave error printing and exit codes to lvsadm's main.
func quiet(c *cobra.Command) {
	c.SilenceErrors = true
	c.SilenceUsage = true
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &ExitError{Code: ExitUsage, Err: err}
	})
	for _, sub := range c.Commands() {
		quiet(sub)
	}
}

func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s: expected %s", cmd.CommandPath(), what)}
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s: unexpected argument %q", cmd.CommandPath(), args[0])}
	}
	return nil
}

// group is a parent command that only holds subcommands.
func group(use, short, long string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s: give a subcommand (see 'lvsadm %s --help')", cmd.CommandPath(), cmd.Name())}
		},
	}
}

// ---- vip ----

func vipCommand(r *runner) *cobra.Command {
	c := group("vip", "Add, remove and list virtual IP addresses",
		`Manage VIP addresses directly through rtnetlink.

A VIP is added as a host address (/32, or /128 for IPv6) unless a prefix is
given. On a loopback interface only host addresses are accepted: the kernel
treats the whole prefix of a loopback address as local, so 192.0.2.10/24 on lo
would make this host answer for all of 192.0.2.0/24 itself.

Adding is idempotent: an identical address is left alone; the same address
with another prefix, label or interface is an error. After adding an address
on an Ethernet-like interface lvsadm announces it (gratuitous ARP for IPv4,
unsolicited neighbour advertisement for IPv6), which the kernel does not do
for an added address.`)
	c.AddCommand(vipAddCommand(r), vipDelCommand(r), vipListCommand(r))
	return c
}

type vipFlags struct {
	iface      string
	label      string
	noAnnounce bool
	dryRun     bool
}

func (f vipFlags) address(arg string) (Address, error) {
	p, err := parseVIP(arg)
	if err != nil {
		return Address{}, usageError{err}
	}
	if f.iface == "" {
		return Address{}, usagef("--iface is required")
	}
	dev, label, err := splitLabel(f.iface)
	if err != nil {
		return Address{}, usageError{err}
	}
	if f.label != "" {
		if label != "" && label != f.label {
			return Address{}, usagef("--iface %s and --label %s disagree", f.iface, f.label)
		}
		label = f.label
	}
	if label == dev {
		label = ""
	}
	return Address{Prefix: p, Link: dev, Label: label}, nil
}

func vipAddCommand(r *runner) *cobra.Command {
	var f vipFlags
	c := &cobra.Command{
		Use:   "add ADDRESS[/PREFIX] --iface IFACE[:LABEL]",
		Short: "Add a VIP to an interface and announce it",
		Example: `  lvsadm vip add 192.0.2.10 --iface lo:0
  lvsadm vip add 192.0.2.10/24 --iface eth0 --label eth0:vip
  lvsadm vip add 2001:db8::10 --iface eth0`,
		Args: exactArgs(1, "one address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := f.address(args[0])
			if err != nil {
				return exitError(err)
			}
			return exitError(r.vipAdd(a, !f.noAnnounce, f.dryRun))
		},
	}
	c.Flags().StringVar(&f.iface, "iface", "", "interface, optionally with an ifconfig-style label (lo:0, eth0:1)")
	c.Flags().StringVar(&f.label, "label", "", "IPv4 address label, IFACE:SOMETHING (at most 15 characters)")
	c.Flags().BoolVar(&f.noAnnounce, "no-announce", false, "do not send a gratuitous ARP / neighbour advertisement")
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the address operation without doing it")
	return c
}

func vipDelCommand(r *runner) *cobra.Command {
	var f vipFlags
	c := &cobra.Command{
		Use:     "del ADDRESS[/PREFIX] --iface IFACE[:LABEL]",
		Aliases: []string{"delete", "remove"},
		Short:   "Remove a VIP from an interface",
		Long: `Remove a VIP. The prefix (default /32 or /128) and label must match the
address on the interface; an address that is not there is not an error.`,
		Example: "  lvsadm vip del 192.0.2.10 --iface lo:0",
		Args:    exactArgs(1, "one address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := f.address(args[0])
			if err != nil {
				return exitError(err)
			}
			return exitError(r.vipDel(a, f.dryRun))
		},
	}
	c.Flags().StringVar(&f.iface, "iface", "", "interface, optionally with its label (lo:0)")
	c.Flags().StringVar(&f.label, "label", "", "IPv4 address label the address carries")
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the address operation without doing it")
	return c
}

func vipListCommand(r *runner) *cobra.Command {
	var iface string
	c := &cobra.Command{
		Use:   "list",
		Short: "List VIP-like addresses",
		Long: `List host addresses (/32, /128), labelled aliases and addresses recorded by
lvsadm roles, leaving out loopback and link-local addresses.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return exitError(r.vipList(iface))
		},
	}
	c.Flags().StringVar(&iface, "iface", "", "only this interface")
	return c
}

func (r *runner) vipAdd(a Address, announce, dryRun bool) error {
	h, n, err := r.openHost()
	if err != nil {
		return err
	}
	defer n.Close()
	if err := checkAddress(a, h, false); err != nil {
		return err
	}
	if dryRun {
		r.printf("# dry run: nothing is changed\n")
		return r.dryRun([]action{{kind: actAddress, addr: a, announce: announce}}, h)
	}
	_, err = r.addAddress(nil, nil, a, announce, h, n)
	return err
}

func (r *runner) vipDel(a Address, dryRun bool) error {
	h, n, err := r.openHost()
	if err != nil {
		return err
	}
	defer n.Close()
	if _, ok := h.link(a.Link); !ok {
		return fmt.Errorf("interface %s does not exist", a.Link)
	}
	for _, have := range h.addressesOf(a.Prefix.Addr()) {
		if have.Link != a.Link {
			continue
		}
		if have.Prefix.Bits() != a.Prefix.Bits() || have.Label != a.Label {
			return fmt.Errorf("%s is on %s as %s, not %s; give that prefix and label to remove it",
				a.Prefix.Addr(), a.Link, have, a)
		}
		if dryRun {
			r.printf("# dry run: nothing is changed\n")
		}
		return r.deleteAddress(a, h, n, dryRun)
	}
	r.printf("address %s is not present; nothing to do\n", a)
	return nil
}

func (r *runner) vipList(iface string) error {
	h, n, err := r.openHost()
	if err != nil {
		return err
	}
	defer n.Close()
	owners := map[string]string{} // "prefix dev" → role
	if st, err := r.store(); err == nil {
		if s, err := st.load(false); err == nil {
			for _, e := range s.Entries {
				for _, c := range e.Changes {
					if c.Kind == changeAddress {
						owners[c.Address+" "+c.Link] = e.Role
					}
				}
			}
		} else {
			r.warnf("%v", err)
		}
	}
	var rows [][]string
	for _, a := range h.addrs {
		ip := a.Prefix.Addr()
		owner := owners[a.Prefix.String()+" "+a.Link]
		vipLike := isHostPrefix(a.Prefix) || a.Label != "" || owner != ""
		if (iface != "" && a.Link != iface) || !vipLike || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
			continue
		}
		if owner == "" {
			owner = "-"
		}
		label := a.Label
		if label == "" {
			label = "-"
		}
		rows = append(rows, []string{a.Prefix.String(), a.Link, label, owner})
	}
	return renderTable(r.out, []string{"ADDRESS", "INTERFACE", "LABEL", "LVSADM ROLE"}, rows)
}

// ---- knob groups and roles ----

type roleDoc struct {
	short, long, upExample string
}

var roleDocs = map[string]roleDoc{
	roleARP: {
		short: "Keep a real server from answering or announcing ARP for its VIPs",
		long: `Set arp_ignore=1 (answer only for addresses of the receiving interface) and
arp_announce=2 (never use the VIP as ARP source) for LVS-DR and LVS-TUN real
servers.

The kernel uses max(conf/all, conf/IFACE) for both, so setting them on lo alone,
as many guides do, changes nothing: requests for the VIP arrive on the LAN
interface. --scope all (the default) sets conf/all, which holds for every
interface (bridges and container veths included), plus each --iface;
--scope iface sets only the interfaces named. Values already stricter
(arp_ignore=2) are kept.`,
		upExample: `  lvsadm arp up --iface eth0
  lvsadm arp up --scope iface --iface eth0 --iface eth1`,
	},
	roleForward: {
		short: "Turn IP forwarding on for a NAT director",
		long: `up (or on) sets net.ipv4.ip_forward=1 (and net.ipv6.conf.all.forwarding=1
with --ipv6); down (or off) puts back the previous value.

Writing ip_forward is not a single change: the kernel also sets every
interface's forwarding and conf/default/forwarding to the new value and
conf/all/accept_redirects to the opposite. lvsadm records all of it, and down
puts back per-interface values that the restoring write disturbs.`,
		upExample: "  lvsadm forward up\n  lvsadm forward up --ipv6",
	},
	roleRedirects: {
		short: "Stop a director from sending ICMP redirects",
		long: `Set send_redirects=0 on conf/all, conf/default and each --iface.

The kernel sends redirects if conf/all OR conf/IFACE allows it, so both must
be 0; conf/default covers interfaces created later (and, the kernel copies a
default write at once to every interface where send_redirects was never
written explicitly).`,
		upExample: "  lvsadm redirects up --iface eth0 --iface eth1",
	},
	roleRPFilter: {
		short: "Let decapsulated LVS-TUN traffic pass reverse-path filtering",
		long: `On an LVS-TUN real server the client's packets come out of tunl0 while the
route back to the client goes through another interface, so strict reverse
path filtering (rp_filter=1) drops them. The kernel uses max(conf/all,
conf/IFACE): --rp-filter loose (default) sets 2 on the interface (default
tunl0), which wins over any all value and changes nothing else; --rp-filter off
sets 0 on the interface and on conf/all, turning source validation off
everywhere.

tunl0 exists once the ipip module is loaded. If it is missing, lvsadm asks
rtnetlink for an ipip link named tunl0 (what 'ip link add tunl0 type ipip'
does); the kernel loads ipip for the request, the module creates tunl0 in
every network namespace, and the request itself then fails harmlessly with
"exists". Where fallback tunnels are disabled
(net.core.fb_tunnels_only_for_init_net) the request creates tunl0 instead, and
down deletes it again.`,
		upExample: "  lvsadm rpfilter up\n  lvsadm rpfilter up --iface tunl0 --rp-filter off",
	},
	roleDirector: {
		short: "Set up or tear down an LVS director (nat, dr, tun)",
		long: `Apply everything an LVS director needs besides the IPVS rules themselves
(lvsadm -A/-a), in a safe order:

  nat  ip_forward=1 (IPv6: conf/all/forwarding=1), send_redirects=0 on all,
       default, --iface and each --rs-iface; the VIP on --iface if given
       (otherwise it must already be configured)
  dr   send_redirects=0 as for nat; the VIP on --iface, announced
  tun  the VIP on --iface, announced

up records each value it changes, including the kernel's side effects, in
/run/lvsadm/netns-INODE.json, so that down can put back exactly what was
there: each value only if it still holds what lvsadm wrote (otherwise it warns
and leaves it). up twice changes nothing the second time. status shows the
values the kernel actually uses and flags what is wrong for the mode.`,
		upExample: `  lvsadm director up --mode dr --vip 192.0.2.10 --iface eth0:0
  lvsadm director up --mode nat --vip 203.0.113.10 --iface eth0 --rs-iface eth1
  lvsadm director status
  lvsadm director down`,
	},
	roleRealServer: {
		short: "Set up or tear down an LVS real server (dr, tun)",
		long: `Apply what an LVS-DR or LVS-TUN real server needs, in a safe order:

  dr   arp_ignore=1 and arp_announce=2 (see 'lvsadm arp --help' for --iface and
       --arp-scope), then each VIP as a host address on lo
  tun  tunl0 (loading ipip), the same ARP settings, rp_filter on tunl0 (see
       'lvsadm rpfilter --help'), tunl0 up, then each VIP on tunl0

The ARP settings come before the VIP so the host never answers for it in
between; down removes the VIPs before putting the ARP settings back. A NAT
real server needs no host setup: only its default route via the director.

up records each change in /run/lvsadm/netns-INODE.json; down puts back each
value only if it still holds what lvsadm wrote. status shows the effective
values and flags what is wrong.`,
		upExample: `  lvsadm realserver up --mode dr --vip 192.0.2.10 --iface eth0
  lvsadm realserver up --mode tun --vip 192.0.2.10 --label tunl0:vip
  lvsadm realserver status
  lvsadm realserver down`,
	},
}

// roleFlags are the options of up and status.
type roleFlags struct {
	mode, iface, label, arpScope, rpFilter string
	vips, ifaces, rsIfaces                 []string
	ipv6, noAnnounce                       bool
}

func addRoleFlags(c *cobra.Command, role string, f *roleFlags) {
	fl := c.Flags()
	switch role {
	case roleDirector:
		fl.StringVar(&f.mode, "mode", "", "forwarding method: nat, dr or tun")
		fl.StringArrayVar(&f.vips, "vip", nil, "virtual IP address[/prefix] (repeatable); default prefix /32 or /128")
		fl.StringVar(&f.iface, "iface", "", "interface that receives the clients' traffic and carries the VIP; IFACE:LABEL sets an address label")
		fl.StringVar(&f.label, "label", "", "IPv4 label for the VIP, IFACE:SOMETHING")
		fl.StringArrayVar(&f.rsIfaces, "rs-iface", nil, "interface facing the real servers, for send_redirects (repeatable)")
		fl.BoolVar(&f.noAnnounce, "no-announce", false, "do not send a gratuitous ARP / neighbour advertisement for the VIP")
	case roleRealServer:
		fl.StringVar(&f.mode, "mode", "", "forwarding method: dr or tun")
		fl.StringArrayVar(&f.vips, "vip", nil, "virtual IP address (repeatable); always a host address")
		fl.StringArrayVar(&f.ifaces, "iface", nil, "LAN interface where ARP requests for the VIP arrive (repeatable)")
		fl.StringVar(&f.arpScope, "arp-scope", scopeAll, "all: set conf/all and each --iface; iface: only each --iface")
		fl.StringVar(&f.rpFilter, "rp-filter", rpLoose, "tun: rp_filter on tunl0, loose (2, only tunl0) or off (0, also conf/all)")
		fl.StringVar(&f.label, "label", "", "IPv4 label for the VIP on lo or tunl0 (lo:0)")
	case roleARP:
		fl.StringArrayVar(&f.ifaces, "iface", nil, "interface to set (repeatable)")
		fl.StringVar(&f.arpScope, "scope", scopeAll, "all: conf/all and each --iface; iface: only each --iface")
	case roleForward:
		fl.BoolVar(&f.ipv6, "ipv6", false, "also turn on IPv6 forwarding")
	case roleRedirects:
		fl.StringArrayVar(&f.ifaces, "iface", nil, "interface to set besides all and default (repeatable)")
	case roleRPFilter:
		fl.StringArrayVar(&f.ifaces, "iface", nil, "interface to set (repeatable; default tunl0)")
		fl.StringVar(&f.rpFilter, "rp-filter", rpLoose, "loose (2 on the interface) or off (0 on it and on conf/all)")
	}
}

// settings validates the flags and puts them in canonical form, so that the
// same role given the same way twice compares equal.
func (f roleFlags) settings(role string) (settings, error) {
	s := settings{Mode: f.mode, Label: f.label, IPv6: f.ipv6, NoAnnounce: f.noAnnounce}
	for _, v := range f.vips {
		p, err := parseVIP(v)
		if err != nil {
			return settings{}, usageError{err}
		}
		if role == roleRealServer && !isHostPrefix(p) {
			return settings{}, usagef("a real server holds the VIP as a host address; drop the /%d from %s", p.Bits(), v)
		}
		if c := p.String(); !slices.Contains(s.VIPs, c) {
			s.VIPs = append(s.VIPs, c)
		}
	}
	if f.iface != "" {
		dev, label, err := splitLabel(f.iface)
		if err != nil {
			return settings{}, usageError{err}
		}
		if label != "" {
			if s.Label != "" && s.Label != label {
				return settings{}, usagef("--iface %s and --label %s disagree", f.iface, s.Label)
			}
			s.Label = label
		}
		s.Iface = dev
	}
	for _, list := range [][]string{f.ifaces, f.rsIfaces} {
		for _, name := range list {
			for _, n := range strings.Split(name, ",") {
				if err := sysctl.ValidInterfaceName(n); err != nil {
					return settings{}, usageError{err}
				}
				if !slices.Contains(s.Ifaces, n) {
					s.Ifaces = append(s.Ifaces, n)
				}
			}
		}
	}
	switch role {
	case roleRealServer, roleARP:
		s.ARPScope = f.arpScope
		if s.ARPScope != scopeAll && s.ARPScope != scopeIface {
			return settings{}, usagef("ARP scope must be all or iface, not %q", s.ARPScope)
		}
	}
	if role == roleRPFilter || (role == roleRealServer && s.Mode == modeTUN) {
		s.RPFilter = f.rpFilter
		if s.RPFilter != rpLoose && s.RPFilter != rpOff {
			return settings{}, usagef("--rp-filter must be loose or off, not %q", s.RPFilter)
		}
	}
	if s.Label != "" {
		vipLink := s.Iface
		if role == roleRealServer {
			vipLink = "lo"
			if s.Mode == modeTUN {
				vipLink = tunnelLink
			}
		}
		if err := validLabel(vipLink, s.Label); err != nil {
			return settings{}, usageError{err}
		}
	}
	return s, nil
}

// roleCommand is the up/down/status group of one role.
func roleCommand(r *runner, role string) *cobra.Command {
	doc := roleDocs[role]
	long := doc.long
	if role != roleDirector && role != roleRealServer {
		long += upDownNote
	}
	c := group(role, doc.short, long)
	up, down := upCommand(r, role), downCommand(r, role)
	if role == roleForward {
		// "forward on|off" reads naturally; off puts back what was there
		// before on, so a host that already routed keeps routing.
		up.Aliases, down.Aliases = []string{"on"}, []string{"off"}
	}
	c.AddCommand(up, down, statusCommand(r, role))
	return c
}

const upDownNote = `

up records the previous values; down puts each back if it still holds what
lvsadm wrote; status shows the values the kernel uses.`

func upCommand(r *runner, role string) *cobra.Command {
	var f roleFlags
	var dryRun, persist bool
	c := &cobra.Command{
		Use:     "up",
		Short:   "Apply and record the " + role + " settings",
		Example: roleDocs[role].upExample,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := f.settings(role)
			if err != nil {
				return exitError(err)
			}
			return exitError(r.up(role, s, upOptions{dryRun: dryRun, persist: persist}))
		},
	}
	addRoleFlags(c, role, &f)
	c.Flags().BoolVar(&dryRun, "dry-run", false, "print every /proc/sys write and address operation without doing any")
	c.Flags().BoolVar(&persist, "persist", false, "also write /etc/sysctl.d and systemd-networkd files so that the setup survives a reboot")
	return c
}

func downCommand(r *runner, role string) *cobra.Command {
	var dryRun, persist bool
	c := &cobra.Command{
		Use:   "down",
		Short: "Put back what '" + role + " up' changed",
		Long: `Undo the recorded changes, newest first. A value someone else has changed
since up is left as it is, with a warning. Values another recorded role relies
on are kept and handed over to that role.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return exitError(r.down(role, downOptions{dryRun: dryRun, persist: persist}))
		},
	}
	c.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be put back without doing it")
	c.Flags().BoolVar(&persist, "persist", false, "also remove the files 'up --persist' wrote")
	return c
}

func statusCommand(r *runner, role string) *cobra.Command {
	var f roleFlags
	c := &cobra.Command{
		Use:   "status",
		Short: "Show the effective " + role + " values and what is wrong",
		Long: `Show, for each setting the role needs, the conf/all and per-interface values,
the value the kernel acts on (their max or OR), and whether it is right.
Without options, the settings recorded by up are checked. Exit status 3 means
problems were found.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return exitError(r.statusCommand(role, f, cmd.Flags().NFlag() > 0))
		},
	}
	addRoleFlags(c, role, &f)
	return c
}

func (r *runner) statusCommand(role string, f roleFlags, flagsGiven bool) error {
	var recorded *entry
	if st, err := r.store(); err != nil {
		return err
	} else if s, err := st.load(false); err != nil {
		r.warnf("%v", err)
	} else {
		recorded = s.entry(role)
	}
	var s settings
	switch {
	case flagsGiven || recorded == nil:
		var err error
		if s, err = f.settings(role); err != nil {
			return err
		}
		if (role == roleDirector || role == roleRealServer) && (s.Mode == "" || len(s.VIPs) == 0) {
			return usagef("%s is not recorded as up here; give --mode and --vip to check", role)
		}
	default:
		s = recorded.Settings
	}
	return r.status(role, s, recorded)
}
