package hostsetup

import (
	"slices"
	"strings"

	"github.com/lvsadm/lvsadm/sysctl"
	"github.com/spf13/cobra"
)

type roleDoc struct {
	short, long string
	example     string // the whole round trip, for the group's help
	upExample   string
}

var roleDocs = map[string]roleDoc{
	roleARP: {
		short: "Keep a real server from answering or announcing ARP for its VIPs",
		long: `Set arp_ignore=1 (answer only for addresses of the receiving interface) and
arp_announce=2 (never use the VIP as ARP source) for LVS-DR and LVS-TUN real
servers.

The kernel uses max(conf/all, conf/IFACE) for both, so setting them on lo alone,
as many guides do, changes nothing: requests for the VIP arrive on the LAN
interface. --arp-scope all (the default) sets conf/all, which holds for every
interface (bridges and container veths included), plus each --iface;
--arp-scope iface sets only the interfaces named. Values already stricter
(arp_ignore=2) are kept.`,
		example: `  lvsadm arp up --iface eth0
  lvsadm arp status
  lvsadm arp down`,
		upExample: `  lvsadm arp up --iface eth0
  lvsadm arp up --arp-scope iface --iface eth0 --iface eth1`,
	},
	roleForward: {
		short: "Turn IP forwarding on for a NAT director",
		long: `up (or on) sets net.ipv4.ip_forward=1 (and net.ipv6.conf.all.forwarding=1
with --ipv6); down (or off) puts back the previous value.

Writing ip_forward is not a single change: the kernel also sets every
interface's forwarding and conf/default/forwarding to the new value and
conf/all/accept_redirects to the opposite. lvsadm records all of it, and down
puts back per-interface values that the restoring write disturbs.`,
		example: `  lvsadm forward on --ipv6
  lvsadm forward status --ipv6
  lvsadm forward off`,
		upExample: "  lvsadm forward up\n  lvsadm forward up --ipv6",
	},
	roleRedirects: {
		short: "Stop a director from sending ICMP redirects",
		long: `Set send_redirects=0 on conf/all, conf/default and each --iface.

The kernel sends redirects if conf/all OR conf/IFACE allows it, so both must
be 0; conf/default covers interfaces created later (and, the kernel copies a
default write at once to every interface where send_redirects was never
written explicitly).`,
		example: `  lvsadm redirects up --iface eth0 --iface eth1
  lvsadm redirects status
  lvsadm redirects down`,
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
		example: `  lvsadm rpfilter up
  lvsadm rpfilter status
  lvsadm rpfilter down`,
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
/run/lvsadm/netns-INODE.json before making it, so that down can put back
exactly what was there, even after a crash or a kill: each value only if it
still holds what lvsadm wrote (otherwise it warns and leaves it). up twice
changes nothing the second time. status shows the values the kernel actually
uses and flags what is wrong for the mode. up and down need root.`,
		example: `  lvsadm director up --mode dr --vip 192.0.2.10 --iface eth0:0
  lvsadm director status
  lvsadm director down`,
		upExample: `  lvsadm director up --mode dr --vip 192.0.2.10 --iface eth0:0
  lvsadm director up --mode nat --vip 203.0.113.10 --iface eth0 --rs-iface eth1`,
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

up records each change in /run/lvsadm/netns-INODE.json before making it;
down puts back each value only if it still holds what lvsadm wrote, even
after a crash or a kill. status shows the effective values and flags what is
wrong. up and down need root.`,
		example: `  lvsadm realserver up --mode dr --vip 192.0.2.10 --iface eth0
  lvsadm realserver status
  lvsadm realserver down`,
		upExample: `  lvsadm realserver up --mode dr --vip 192.0.2.10 --iface eth0
  lvsadm realserver up --mode tun --vip 192.0.2.10 --label tunl0:vip`,
	},
}

// roleFlags are the options of up and status.
type roleFlags struct {
	mode, iface, label, arpScope, rpFilter string
	vips, ifaces, rsIfaces                 []string
	ipv6, noAnnounce                       bool
}

// addRoleFlags defines role's options on up (status false) or status,
// which checks the same settings and takes no option that only acts.
func addRoleFlags(c *cobra.Command, role string, f *roleFlags, status bool) {
	fl := c.Flags()
	switch role {
	case roleDirector:
		fl.StringVar(&f.mode, "mode", "", "forwarding method: nat, dr or tun")
		fl.StringArrayVar(&f.vips, "vip", nil, "virtual IP address[/prefix] (repeatable); default prefix /32 or /128")
		fl.StringVar(&f.iface, "iface", "", "interface that receives the clients' traffic and carries the VIP (IFACE:LABEL: with that address label)")
		fl.StringVar(&f.label, "label", "", "IPv4 label of the VIP, IFACE:SOMETHING")
		fl.StringArrayVar(&f.rsIfaces, "rs-iface", nil, "interface facing the real servers, for send_redirects (repeatable)")
		if !status {
			fl.BoolVar(&f.noAnnounce, "no-announce", false, "do not send a gratuitous ARP / neighbour advertisement for the VIP")
		}
	case roleRealServer:
		fl.StringVar(&f.mode, "mode", "", "forwarding method: dr or tun")
		fl.StringArrayVar(&f.vips, "vip", nil, "virtual IP address (repeatable); always a host address")
		fl.StringArrayVar(&f.ifaces, "iface", nil, "LAN interface where ARP requests for the VIP arrive (repeatable)")
		fl.StringVar(&f.arpScope, "arp-scope", scopeAll, "all: conf/all and each --iface; iface: only each --iface")
		fl.StringVar(&f.rpFilter, "rp-filter", rpLoose, "tun: rp_filter on tunl0, loose (2, only tunl0) or off (0, also conf/all)")
		fl.StringVar(&f.label, "label", "", "IPv4 label of the VIP on lo or tunl0 (lo:0)")
	case roleARP:
		fl.StringArrayVar(&f.ifaces, "iface", nil, "LAN interface where ARP requests for the VIP arrive (repeatable)")
		fl.StringVar(&f.arpScope, "arp-scope", scopeAll, "all: conf/all and each --iface; iface: only each --iface")
	case roleForward:
		if status {
			fl.BoolVar(&f.ipv6, "ipv6", false, "also check IPv6 forwarding")
		} else {
			fl.BoolVar(&f.ipv6, "ipv6", false, "also turn on IPv6 forwarding")
		}
	case roleRedirects:
		fl.StringArrayVar(&f.ifaces, "iface", nil, "interface besides all and default (repeatable)")
	case roleRPFilter:
		fl.StringArrayVar(&f.ifaces, "iface", nil, "interface (repeatable; default tunl0)")
		fl.StringVar(&f.rpFilter, "rp-filter", rpLoose, "loose (2 on the interface) or off (0 on it and on conf/all)")
	}
}

// settings validates the flags and puts them in canonical form, so that the
// same role given the same way twice compares equal.
func (f roleFlags) settings(role string) (settings, error) {
	switch role {
	case roleDirector, roleRealServer:
		modes := []string{modeNAT, modeDR, modeTUN}
		if role == roleRealServer {
			modes = modes[1:]
		}
		switch {
		case f.mode == "":
			return settings{}, usagef("--mode is missing; give --mode %s", orList(modes))
		case role == roleRealServer && f.mode == modeNAT:
			return settings{}, usagef("a NAT real server needs no host setup: its default route must point at the director")
		case !slices.Contains(modes, f.mode):
			return settings{}, usagef("--mode must be %s, not %q", orList(modes), f.mode)
		case len(f.vips) == 0:
			return settings{}, usagef("--vip is missing; give at least one VIP address")
		}
	}
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
			return settings{}, usagef("--arp-scope must be all or iface, not %q", s.ARPScope)
		}
		if s.ARPScope == scopeIface && len(s.Ifaces) == 0 {
			return settings{}, usagef("--arp-scope iface needs --iface, the interfaces where ARP requests for the VIP arrive")
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
	up, down := upCommand(r, role), downCommand(r, role)
	if role == roleForward {
		// "forward on|off" reads naturally; off puts back what was there
		// before on, so a host that already routed keeps routing.
		up.Aliases, down.Aliases = []string{"on"}, []string{"off"}
	}
	long := doc.long
	if role != roleDirector && role != roleRealServer {
		long += roleNote
	}
	return group(role, doc.short, long, doc.example, up, down, statusCommand(r, role))
}

const roleNote = `

up records each change in /run/lvsadm/netns-INODE.json before making it,
so that down undoes exactly what up did, even after a crash or a kill; status
shows the values the kernel uses and what is wrong. up and down need root.`

func upCommand(r *runner, role string) *cobra.Command {
	var f roleFlags
	var dryRun, persist bool
	c := &cobra.Command{
		Use:   "up",
		Short: "Apply and record the " + role + " settings",
		Long: `Apply the ` + role + ` settings that 'lvsadm ` + role + ` --help' describes.

Every change is recorded in /run/lvsadm/netns-INODE.json before it is made
and again once it is, so that 'lvsadm ` + role + ` down' undoes exactly what up
did, even after a crash or a kill. SIGINT or SIGTERM stops up after the step
under way, with what it did recorded. Running up again with the same options
changes nothing more.

Needs to run as root; --dry-run prints every /proc/sys write and address
operation without doing any, and works unprivileged.`,
		Example: roleDocs[role].upExample,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := f.settings(role)
			if err == nil && !dryRun {
				err = r.needRoot()
			}
			if err == nil {
				err = r.up(role, s, upOptions{dryRun: dryRun, persist: persist})
			}
			return commandError(cmd, err)
		},
	}
	addRoleFlags(c, role, &f, false)
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
on are kept and handed over to that role. Changes that an interrupted up or
down left unconfirmed are checked: undone if they were made, forgotten if not.
SIGINT or SIGTERM stops down after the change under way; what is left stays
recorded for the next down.

Needs to run as root; --dry-run prints what would be put back, and works
unprivileged.`,
		Example: "  lvsadm " + role + " down\n  lvsadm " + role + " down --dry-run",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if !dryRun {
				err = r.needRoot()
			}
			if err == nil {
				err = r.down(role, downOptions{dryRun: dryRun, persist: persist})
			}
			return commandError(cmd, err)
		},
	}
	c.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be put back without doing it")
	c.Flags().BoolVar(&persist, "persist", false, "also remove the files 'up --persist' wrote")
	return c
}

func statusCommand(r *runner, role string) *cobra.Command {
	var f roleFlags
	output := outputTable
	need := ""
	example := "  lvsadm " + role + " status"
	switch role {
	case roleDirector, roleRealServer:
		need = "\n--mode and --vip are needed when nothing is recorded."
		example += "\n  lvsadm " + role + " status --mode dr --vip 192.0.2.10 --iface eth0"
	}
	c := &cobra.Command{
		Use:   "status",
		Short: "Show the effective " + role + " values and what is wrong",
		Long: `Show each setting the ` + role + ` role needs, the value the kernel acts on and
whether it is right: for a conf knob the conf/all and per-interface values
that the kernel combines, for a VIP or a link where it is. Without options
the settings recorded by 'lvsadm ` + role + ` up' are checked; options check
other settings instead.` + need + `
status changes nothing and needs no root. -o json prints the same as JSON
(see docs/config.md).

Exit status 3 means problems were found (each is explained after the table);
0 means everything is right.`,
		Example: example,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Options other than -o name the settings to check.
			flagsGiven := cmd.Flags().NFlag() > 0
			if cmd.Flags().Changed("output") {
				flagsGiven = cmd.Flags().NFlag() > 1
			}
			return commandError(cmd, r.statusCommand(role, f, flagsGiven, output))
		},
	}
	addRoleFlags(c, role, &f, true)
	c.Flags().StringVarP(&output, "output", "o", outputTable, "table or json")
	return c
}

func (r *runner) statusCommand(role string, f roleFlags, flagsGiven bool, output string) error {
	if err := checkOutput(output); err != nil {
		return err
	}
	var s settings
	if flagsGiven {
		var err error
		if s, err = f.settings(role); err != nil {
			return err
		}
	}
	st, err := r.store()
	if err != nil {
		return err
	}
	var recorded *entry
	if state, err := st.load(false); err != nil {
		r.warnf("%v", err)
	} else {
		recorded = state.entry(role)
	}
	switch {
	case flagsGiven:
	case recorded != nil:
		s = recorded.Settings
	case role == roleDirector || role == roleRealServer:
		return usagef("not recorded as up in this network namespace; give --mode and --vip to check")
	default:
		if s, err = f.settings(role); err != nil {
			return err
		}
	}
	return r.status(role, s, recorded, output)
}
