package statecmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/cmd/internal/kerneltable"
	"github.com/lvsadm/lvsadm/format"
	"github.com/lvsadm/lvsadm/ipvs"
)

func exportCommand(e Env) *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "export [-o yaml|json|rules]",
		Short: "Print the kernel's table as a desired table",
		Long: `Print the kernel's IPVS table in a form apply reads back: lvsadm's YAML (the
default) or JSON format, or ipvsadm rules (exactly what ipvsadm -Sn prints).
Applying what export printed changes nothing.`,
		Example: `  lvsadm export > lvs.yaml
  lvsadm export -o rules > /etc/ipvsadm.rules`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := desired.ParseFormat(output)
			if err != nil {
				return failure(err)
			}
			if f == desired.Rules {
				if status := e.Ipvsadm("-S", "-n"); status != 0 {
					return &ExitError{Code: status, Err: errChangesPending}
				}
				return nil
			}
			file, err := readFile(e, true, false, false)
			if err != nil {
				return failure(err)
			}
			return failure(write(e, file, f))
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "yaml", "yaml, json or rules")
	return c
}

func listCommand(e Env) *cobra.Command {
	var output string
	var stats, rate, numeric bool
	c := &cobra.Command{
		Use:   "list [-o table|json] [--stats] [--rate]",
		Short: "List the kernel's table, for people or as JSON",
		Long: `List the kernel's IPVS table. As a table (the default) it is ipvsadm -L's
listing; with -o json it is lvsadm's format (see docs/config.md) with the
kernel's read-only state added: each real server's active and inactive
connections, and with --stats the counters, with --rate the rates, of every
service and real server.`,
		Example: `  lvsadm list -n
  lvsadm list -o json --stats`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch output {
			case "table":
				args := []string{"-L"}
				for _, o := range []struct {
					on   bool
					flag string
				}{{numeric, "-n"}, {stats, "--stats"}, {rate, "--rate"}} {
					if o.on {
						args = append(args, o.flag)
					}
				}
				if status := e.Ipvsadm(args...); status != 0 {
					return &ExitError{Code: status, Err: errChangesPending}
				}
				return nil
			case "json":
				file, err := readFile(e, false, stats, rate)
				if err != nil {
					return failure(err)
				}
				return failure(write(e, file, desired.JSON))
			}
			return failure(fmt.Errorf("-o %s: want table or json", output))
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	c.Flags().BoolVar(&stats, "stats", false, "with counters")
	c.Flags().BoolVar(&rate, "rate", false, "with rates")
	c.Flags().BoolVarP(&numeric, "numeric", "n", false, "table: numeric addresses and ports")
	return c
}

// readFile reads the kernel's table into the format's structure, in
// ipvsadm's order. Every real server is read over netlink: thresholds,
// tunnel settings, persistent connections and counters are not in
// /proc/net/ip_vs. A listing adds connection counts, and counters or rates
// if asked.
func readFile(e Env, export, stats, rate bool) (desired.File, error) {
	c, err := e.Dial()
	if err != nil {
		return desired.File{}, err
	}
	defer c.Close()
	tbl, err := kerneltable.Read(c, nil)
	if err != nil {
		return desired.File{}, err
	}
	f := desired.File{SchemaVersion: desired.SchemaVersion, Services: []desired.ServiceJSON{}}
	for _, i := range format.ServiceOrder(tbl.Services) {
		dests, err := tbl.Dests(nil, i)
		if err != nil {
			return desired.File{}, err
		}
		format.SortDestinations(dests)
		svc := &tbl.Services[i]
		servers := make([]ipvs.Destination, len(dests))
		for j := range dests {
			servers[j] = dests[j].Destination
		}
		sj := desired.ServiceFile(&svc.Service, servers)
		if !export {
			if stats {
				sj.Stats = statsJSON(svc.Stats)
			}
			if rate {
				sj.Rates = ratesJSON(svc.Stats)
			}
			for j := range dests {
				d, rs := &dests[j], &sj.RealServers[j]
				rs.ActiveConnections, rs.InactiveConnections = &d.ActiveConns, &d.InactiveConns
				rs.PersistentConnections = &d.PersistentConns
				if stats {
					rs.Stats = statsJSON(d.Stats)
				}
				if rate {
					rs.Rates = ratesJSON(d.Stats)
				}
			}
		}
		f.Services = append(f.Services, sj)
	}
	return f, nil
}

func statsJSON(s ipvs.Stats) *desired.StatsJSON {
	return &desired.StatsJSON{Connections: s.Connections, PacketsIn: s.PacketsIn, PacketsOut: s.PacketsOut, BytesIn: s.BytesIn, BytesOut: s.BytesOut}
}

func ratesJSON(s ipvs.Stats) *desired.RatesJSON {
	return &desired.RatesJSON{Connections: s.CPS, PacketsIn: s.PPSIn, PacketsOut: s.PPSOut, BytesIn: s.BPSIn, BytesOut: s.BPSOut}
}

func write(e Env, file desired.File, f desired.Format) error {
	marshal := desired.MarshalYAML
	if f == desired.JSON {
		marshal = desired.MarshalJSON
	}
	b, err := marshal(file)
	if err != nil {
		return err
	}
	_, err = e.Stdout.Write(b)
	return err
}
