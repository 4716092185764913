package hostsetup

import (
	"fmt"

	"github.com/spf13/cobra"
)

func vipCommand(r *runner) *cobra.Command {
	return group("vip", "Add, remove and list virtual IP addresses",
		`Manage VIP addresses directly through rtnetlink, without recording them:
to have lvsadm record and undo a VIP, use the director or realserver role.

A VIP is added as a host address (/32, or /128 for IPv6) unless a prefix is
given. On a loopback interface only host addresses are accepted: the kernel
treats the whole prefix of a loopback address as local, so 192.0.2.10/24 on lo
would make this host answer for all of 192.0.2.0/24 itself.

Adding is idempotent: an identical address is left alone; the same address
with another prefix, label or interface is an error. After adding an address
on an Ethernet-like interface lvsadm announces it (gratuitous ARP for IPv4,
unsolicited neighbour advertisement for IPv6), which the kernel does not do
for an added address. add and del need root; list does not.`,
		`  lvsadm vip add 192.0.2.10 --iface lo:0
  lvsadm vip list
  lvsadm vip del 192.0.2.10 --iface lo:0`,
		vipAddCommand(r), vipDelCommand(r), vipListCommand(r))
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
		Long: `Add ADDRESS to IFACE (as /32 or /128 unless a prefix is given), then
announce it on Ethernet-like interfaces. Needs root.`,
		Example: `  lvsadm vip add 192.0.2.10 --iface lo:0
  lvsadm vip add 192.0.2.10/24 --iface eth0 --label eth0:vip
  lvsadm vip add 2001:db8::10 --iface eth0`,
		Args: exactArgs(1, "one address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := f.address(args[0])
			if err == nil && !f.dryRun {
				err = r.needRoot()
			}
			if err == nil {
				err = r.vipAdd(a, !f.noAnnounce, f.dryRun)
			}
			return commandError(cmd, err)
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
address on the interface; an address that is not there is not an error.
Needs root.`,
		Example: "  lvsadm vip del 192.0.2.10 --iface lo:0",
		Args:    exactArgs(1, "one address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := f.address(args[0])
			if err == nil && !f.dryRun {
				err = r.needRoot()
			}
			if err == nil {
				err = r.vipDel(a, f.dryRun)
			}
			return commandError(cmd, err)
		},
	}
	c.Flags().StringVar(&f.iface, "iface", "", "interface, optionally with its label (lo:0)")
	c.Flags().StringVar(&f.label, "label", "", "IPv4 address label the address carries")
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the address operation without doing it")
	return c
}

func vipListCommand(r *runner) *cobra.Command {
	var iface string
	output := outputTable
	c := &cobra.Command{
		Use:   "list",
		Short: "List VIP-like addresses",
		Long: `List host addresses (/32, /128), labelled aliases and addresses recorded by
lvsadm roles, leaving out loopback and link-local addresses, with the role
that added each. -o json prints the same as JSON (see docs/config.md). Needs
no root.`,
		Example: "  lvsadm vip list\n  lvsadm vip list --iface lo -o json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			err := checkOutput(output)
			if err == nil {
				err = r.vipList(iface, output)
			}
			return commandError(cmd, err)
		},
	}
	c.Flags().StringVar(&iface, "iface", "", "only this interface")
	c.Flags().StringVarP(&output, "output", "o", outputTable, "table or json")
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

func (r *runner) vipList(iface, output string) error {
	h, n, err := r.openHost()
	if err != nil {
		return err
	}
	defer n.Close()
	if _, ok := h.link(iface); iface != "" && !ok {
		return fmt.Errorf("interface %s does not exist", iface)
	}
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
	list := vipListJSON{SchemaVersion: jsonVersion, Addresses: []addressJSON{}}
	for _, a := range h.addrs {
		ip := a.Prefix.Addr()
		owner := owners[a.Prefix.String()+" "+a.Link]
		vipLike := isHostPrefix(a.Prefix) || a.Label != "" || owner != ""
		if (iface != "" && a.Link != iface) || !vipLike || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
			continue
		}
		list.Addresses = append(list.Addresses, addressJSON{Address: a.Prefix.String(), Interface: a.Link, Label: a.Label, Role: owner})
		if owner == "" {
			owner = "-"
		}
		label := a.Label
		if label == "" {
			label = "-"
		}
		rows = append(rows, []string{a.Prefix.String(), a.Link, label, owner})
	}
	if output == outputJSON {
		return r.writeJSON(list)
	}
	return renderTable(r.out, []string{"ADDRESS", "INTERFACE", "LABEL", "LVSADM ROLE"}, rows)
}
