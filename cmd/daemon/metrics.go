package daemon

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/ipvs"
)

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

// Labels: node_exporter's names for a backend (real server), so that the
// series it also has (connections_active, connections_inactive, weight)
// join; services have the first four.
var (
	serviceLabels = []string{"local_address", "local_port", "proto", "local_mark"}
	backendLabels = []string{"local_address", "local_port", "proto", "local_mark", "remote_address", "remote_port"}
)

func desc(name, help string, labels []string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	backendActive     = desc("node_ipvs_backend_connections_active", "Active connections of a real server (ActiveConn).", backendLabels)
	backendInactive   = desc("node_ipvs_backend_connections_inactive", "Inactive connections of a real server (InActConn).", backendLabels)
	backendWeight     = desc("node_ipvs_backend_weight", "A real server's weight in the kernel.", backendLabels)
	backendPersistent = desc("lvsadm_backend_connections_persistent", "Persistence templates pointing at a real server.", backendLabels)
	backendConns      = desc("lvsadm_backend_connections_total", "Connections scheduled to a real server.", backendLabels)
	backendPktsIn     = desc("lvsadm_backend_incoming_packets_total", "Packets from clients to a real server.", backendLabels)
	backendPktsOut    = desc("lvsadm_backend_outgoing_packets_total", "Packets from a real server to clients.", backendLabels)
	backendBytesIn    = desc("lvsadm_backend_incoming_bytes_total", "Bytes from clients to a real server.", backendLabels)
	backendBytesOut   = desc("lvsadm_backend_outgoing_bytes_total", "Bytes from a real server to clients.", backendLabels)
	serviceConns      = desc("lvsadm_service_connections_total", "Connections scheduled by a virtual service.", serviceLabels)
	servicePktsIn     = desc("lvsadm_service_incoming_packets_total", "Packets from clients to a virtual service.", serviceLabels)
	servicePktsOut    = desc("lvsadm_service_outgoing_packets_total", "Packets from a virtual service to clients.", serviceLabels)
	serviceBytesIn    = desc("lvsadm_service_incoming_bytes_total", "Bytes from clients to a virtual service.", serviceLabels)
	serviceBytesOut   = desc("lvsadm_service_outgoing_bytes_total", "Bytes from a virtual service to clients.", serviceLabels)
	configuredWeight  = desc("lvsadm_backend_configured_weight", "A real server's weight in lvsadm run's file.", backendLabels)
	backendUp         = desc("lvsadm_backend_up", "1 if a checked real server is up, 0 if it is down.", backendLabels)
	checkLatency      = desc("lvsadm_backend_check_latency_seconds", "How long a real server's last check took.", backendLabels)
	checksTotal       = desc("lvsadm_backend_checks_total", "Checks of a real server since lvsadm run started checking it.", backendLabels)
	checkFailures     = desc("lvsadm_backend_check_failures_total", "Failed checks of a real server since lvsadm run started checking it.", backendLabels)
	scrapeError       = desc("lvsadm_scrape_error", "1 if reading the kernel's table for this scrape failed.", nil)
)

// collector reads the kernel's table at every scrape, with a client of its
// own (the daemon's is busy in its loop), and adds the file's weights and
// the checks' results.
type collector struct{ d *daemon }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{backendActive, backendInactive, backendWeight, backendPersistent, backendConns,
		backendPktsIn, backendPktsOut, backendBytesIn, backendBytesOut, serviceConns, servicePktsIn, servicePktsOut,
		serviceBytesIn, serviceBytesOut, configuredWeight, backendUp, checkLatency, checksTotal, checkFailures, scrapeError} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	c.d.mu.Lock()
	view := c.d.view
	c.d.mu.Unlock()
	failed := 0.0
	if err := c.kernel(ch); err != nil {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(scrapeError, prometheus.GaugeValue, failed)
	for id, v := range view {
		labels := backendLabelValues(id.service, id.server)
		ch <- prometheus.MustNewConstMetric(configuredWeight, prometheus.GaugeValue, float64(v.ConfiguredWeight), labels...)
		if v.Check == "" {
			continue
		}
		up := 0.0
		if v.State == "up" {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(backendUp, prometheus.GaugeValue, up, labels...)
		ch <- prometheus.MustNewConstMetric(checkLatency, prometheus.GaugeValue, v.LastLatencyMs/1000, labels...)
		ch <- prometheus.MustNewConstMetric(checksTotal, prometheus.CounterValue, float64(v.Checks), labels...)
		ch <- prometheus.MustNewConstMetric(checkFailures, prometheus.CounterValue, float64(v.Failed), labels...)
	}
}

func backendLabelValues(svc ipvs.ServiceKey, rs desired.ServerKey) []string {
	a, p, proto, m := keyLabels(svc)
	return []string{a, p, proto, m, rs.Addr.String(), itoa(uint64(rs.Port))}
}

// kernel sends the metrics of every service and real server in the kernel.
func (c *collector) kernel(ch chan<- prometheus.Metric) error {
	client, err := c.d.env.Dial()
	if err != nil {
		return err
	}
	defer client.Close()
	svcs, err := client.Services()
	if err != nil {
		return err
	}
	for i := range svcs {
		s := &svcs[i]
		a, p, proto, m := keyLabels(s.ServiceKey)
		sl := []string{a, p, proto, m}
		for _, x := range []struct {
			d *prometheus.Desc
			v uint64
		}{{serviceConns, s.Stats.Connections}, {servicePktsIn, s.Stats.PacketsIn}, {servicePktsOut, s.Stats.PacketsOut},
			{serviceBytesIn, s.Stats.BytesIn}, {serviceBytesOut, s.Stats.BytesOut}} {
			ch <- prometheus.MustNewConstMetric(x.d, prometheus.CounterValue, float64(x.v), sl...)
		}
		dests, err := client.Destinations(s.ServiceKey)
		if err != nil {
			return err
		}
		k := desired.Key(s.ServiceKey)
		for j := range dests {
			d := &dests[j]
			labels := backendLabelValues(k, desired.DestKey(k.Family, &d.Destination))
			for _, x := range []struct {
				d *prometheus.Desc
				t prometheus.ValueType
				v uint64
			}{
				{backendActive, prometheus.GaugeValue, uint64(d.ActiveConns)},
				{backendInactive, prometheus.GaugeValue, uint64(d.InactiveConns)},
				{backendWeight, prometheus.GaugeValue, uint64(d.Weight)},
				{backendPersistent, prometheus.GaugeValue, uint64(d.PersistentConns)},
				{backendConns, prometheus.CounterValue, d.Stats.Connections},
				{backendPktsIn, prometheus.CounterValue, d.Stats.PacketsIn},
				{backendPktsOut, prometheus.CounterValue, d.Stats.PacketsOut},
				{backendBytesIn, prometheus.CounterValue, d.Stats.BytesIn},
				{backendBytesOut, prometheus.CounterValue, d.Stats.BytesOut},
			} {
				ch <- prometheus.MustNewConstMetric(x.d, x.t, float64(x.v), labels...)
			}
		}
	}
	return nil
}
