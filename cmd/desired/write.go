package desired

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/lvsadm/lvsadm/ipvs"
)

// The format as written. The field names and the rules for leaving a field
// out are those docs/config.md and docs/config.schema.json describe;
// ParseConfig reads everything these write back to the same table.

// File is a whole file of lvsadm's format.
type File struct {
	SchemaVersion int           `yaml:"schema_version" json:"schema_version"`
	Services      []ServiceJSON `yaml:"services" json:"services"`
}

// ServiceJSON is one service as the format writes it. The fields after
// RealServers are never read: listings add them (read-only state).
type ServiceJSON struct {
	Protocol          string       `yaml:"protocol,omitempty" json:"protocol,omitempty"`
	Address           string       `yaml:"address,omitempty" json:"address,omitempty"`
	Port              *uint16      `yaml:"port,omitempty" json:"port,omitempty"`
	FWMark            uint32       `yaml:"fwmark,omitempty" json:"fwmark,omitempty"`
	Family            string       `yaml:"family,omitempty" json:"family,omitempty"`
	Scheduler         string       `yaml:"scheduler" json:"scheduler"`
	SchedulerFlags    []string     `yaml:"scheduler_flags,omitempty" json:"scheduler_flags,omitempty"`
	Persistent        uint32       `yaml:"persistent,omitempty" json:"persistent,omitempty"`
	Netmask           any          `yaml:"netmask,omitempty" json:"netmask,omitempty"`
	PersistenceEngine string       `yaml:"persistence_engine,omitempty" json:"persistence_engine,omitempty"`
	OnePacket         bool         `yaml:"one_packet,omitempty" json:"one_packet,omitempty"`
	HealthCheck       *CheckJSON   `yaml:"health_check,omitempty" json:"health_check,omitempty"`
	Quorum            uint32       `yaml:"quorum,omitempty" json:"quorum,omitempty"`
	Hysteresis        uint32       `yaml:"hysteresis,omitempty" json:"hysteresis,omitempty"`
	SorryServer       *ServerJSON  `yaml:"sorry_server,omitempty" json:"sorry_server,omitempty"`
	RealServers       []ServerJSON `yaml:"real_servers,omitempty" json:"real_servers,omitempty"`

	Stats *StatsJSON `yaml:"stats,omitempty" json:"stats,omitempty"`
	Rates *RatesJSON `yaml:"rates,omitempty" json:"rates,omitempty"`
}

// ServerJSON is one real server as the format writes it; the fields after
// Tunnel are read-only state, as in ServiceJSON.
type ServerJSON struct {
	Address        string      `yaml:"address" json:"address"`
	Port           uint16      `yaml:"port" json:"port"`
	Method         string      `yaml:"method" json:"method"`
	Weight         uint32      `yaml:"weight" json:"weight"`
	UpperThreshold uint32      `yaml:"upper_threshold,omitempty" json:"upper_threshold,omitempty"`
	LowerThreshold uint32      `yaml:"lower_threshold,omitempty" json:"lower_threshold,omitempty"`
	HealthCheck    *CheckJSON  `yaml:"health_check,omitempty" json:"health_check,omitempty"`
	Tunnel         *TunnelJSON `yaml:"tunnel,omitempty" json:"tunnel,omitempty"`

	ActiveConnections     *uint32    `yaml:"active_connections,omitempty" json:"active_connections,omitempty"`
	InactiveConnections   *uint32    `yaml:"inactive_connections,omitempty" json:"inactive_connections,omitempty"`
	PersistentConnections *uint32    `yaml:"persistent_connections,omitempty" json:"persistent_connections,omitempty"`
	Stats                 *StatsJSON `yaml:"stats,omitempty" json:"stats,omitempty"`
	Rates                 *RatesJSON `yaml:"rates,omitempty" json:"rates,omitempty"`
}

// CheckJSON is a health_check mapping as written (by lvsadm import, for
// one); an empty field is left out and takes its default when read.
type CheckJSON struct {
	Type          string         `yaml:"type,omitempty" json:"type,omitempty"`
	Interval      string         `yaml:"interval,omitempty" json:"interval,omitempty"`
	Timeout       string         `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	RetryInterval string         `yaml:"retry_interval,omitempty" json:"retry_interval,omitempty"`
	Rise          int            `yaml:"rise,omitempty" json:"rise,omitempty"`
	Fall          int            `yaml:"fall,omitempty" json:"fall,omitempty"`
	Warmup        string         `yaml:"warmup,omitempty" json:"warmup,omitempty"`
	ConnectTo     *ConnectToJSON `yaml:"connect_to,omitempty" json:"connect_to,omitempty"`
	ViaVIP        bool           `yaml:"via_vip,omitempty" json:"via_vip,omitempty"`
	Method        string         `yaml:"method,omitempty" json:"method,omitempty"`
	Path          string         `yaml:"path,omitempty" json:"path,omitempty"`
	Host          string         `yaml:"host,omitempty" json:"host,omitempty"`
	Status        []any          `yaml:"status,omitempty" json:"status,omitempty"`
	Body          string         `yaml:"body,omitempty" json:"body,omitempty"`
	SNI           string         `yaml:"sni,omitempty" json:"sni,omitempty"`
	Verify        bool           `yaml:"verify,omitempty" json:"verify,omitempty"`
	Send          string         `yaml:"send,omitempty" json:"send,omitempty"`
	Expect        string         `yaml:"expect,omitempty" json:"expect,omitempty"`
	Command       []string       `yaml:"command,omitempty" json:"command,omitempty"`
	DynamicWeight *bool          `yaml:"dynamic_weight,omitempty" json:"dynamic_weight,omitempty"`
	OnFailure     string         `yaml:"on_failure,omitempty" json:"on_failure,omitempty"`
	InitialState  string         `yaml:"initial_state,omitempty" json:"initial_state,omitempty"`
}

// ConnectToJSON is where a check goes instead of the real server.
type ConnectToJSON struct {
	Address string `yaml:"address,omitempty" json:"address,omitempty"`
	Port    uint16 `yaml:"port,omitempty" json:"port,omitempty"`
}

// TunnelJSON is a tunnel real server's encapsulation.
type TunnelJSON struct {
	Type     string `yaml:"type" json:"type"`
	Port     uint16 `yaml:"port,omitempty" json:"port,omitempty"`
	Checksum string `yaml:"checksum,omitempty" json:"checksum,omitempty"`
}

// StatsJSON are the 64-bit counters since the service or server was added.
type StatsJSON struct {
	Connections uint64 `yaml:"connections" json:"connections"`
	PacketsIn   uint64 `yaml:"packets_in" json:"packets_in"`
	PacketsOut  uint64 `yaml:"packets_out" json:"packets_out"`
	BytesIn     uint64 `yaml:"bytes_in" json:"bytes_in"`
	BytesOut    uint64 `yaml:"bytes_out" json:"bytes_out"`
}

// RatesJSON are the kernel's rate estimates, per second.
type RatesJSON struct {
	Connections uint64 `yaml:"connections" json:"connections"`
	PacketsIn   uint64 `yaml:"packets_in" json:"packets_in"`
	PacketsOut  uint64 `yaml:"packets_out" json:"packets_out"`
	BytesIn     uint64 `yaml:"bytes_in" json:"bytes_in"`
	BytesOut    uint64 `yaml:"bytes_out" json:"bytes_out"`
}

// ServiceFile is s (with its servers) as the format writes it.
func ServiceFile(s *ipvs.Service, servers []ipvs.Destination) ServiceJSON {
	k := Key(s.ServiceKey)
	out := ServiceJSON{Scheduler: s.Scheduler, SchedulerFlags: schedFlagNames(s)}
	if k.FWMark != 0 {
		out.FWMark = k.FWMark
		if k.Family == ipvs.IPv6 {
			out.Family = "ipv6"
		}
	} else {
		port := k.Port
		out.Protocol = protocolName(k.Protocol)
		out.Address, out.Port = k.Addr.String(), &port
	}
	if s.Flags&ipvs.FlagPersistent != 0 {
		out.Persistent = s.Timeout
	}
	switch {
	case k.Family == ipvs.IPv6 && s.Netmask != 128:
		out.Netmask = s.Netmask
	case k.Family != ipvs.IPv6 && s.Netmask != 0xffffffff:
		m := s.Netmask
		out.Netmask = netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
	}
	out.PersistenceEngine = s.PE
	out.OnePacket = s.Flags&ipvs.FlagOnePacket != 0
	for i := range servers {
		out.RealServers = append(out.RealServers, ServerFile(&servers[i]))
	}
	return out
}

// ServerFile is d as the format writes it.
func ServerFile(d *ipvs.Destination) ServerJSON {
	out := ServerJSON{Address: d.Addr.String(), Port: d.Port, Method: methodName(d.ForwardMethod), Weight: d.Weight,
		UpperThreshold: d.UpperThreshold, LowerThreshold: d.LowerThreshold}
	if d.ForwardMethod == ipvs.Tunnel && (d.TunnelType != ipvs.TunnelIPIP || d.TunnelPort != 0 || d.TunnelFlags != ipvs.TunnelNoChecksum) {
		t := &TunnelJSON{Type: d.TunnelType.String(), Port: d.TunnelPort}
		switch d.TunnelFlags {
		case ipvs.TunnelChecksum:
			t.Checksum = "csum"
		case ipvs.TunnelRemoteChecksum:
			t.Checksum = "remcsum"
		}
		out.Tunnel = t
	}
	return out
}

func protocolName(p ipvs.Protocol) string {
	switch p {
	case ipvs.TCP:
		return "tcp"
	case ipvs.UDP:
		return "udp"
	case ipvs.SCTP:
		return "sctp"
	}
	return strconv.Itoa(int(p))
}

// methodName is the format's name for a forwarding method. The kernel
// makes every real server with a local address Local, whatever it was
// given; ipvsadm -S writes those as -g, and so does the format.
func methodName(m ipvs.ForwardMethod) string {
	switch m {
	case ipvs.Masquerade:
		return "nat"
	case ipvs.Tunnel:
		return "tunnel"
	}
	return "dr"
}

// schedFlagNames are the -b names of a service's scheduler flags.
func schedFlagNames(s *ipvs.Service) []string {
	var names []string
	for i, f := range []ipvs.ServiceFlags{ipvs.FlagSched1, ipvs.FlagSched2, ipvs.FlagSched3} {
		if s.Flags&f == 0 {
			continue
		}
		switch {
		case (s.Scheduler == "sh" || s.Scheduler == "mh") && i < 2:
			names = append(names, s.Scheduler+[]string{"-fallback", "-port"}[i])
		default:
			names = append(names, fmt.Sprintf("flag-%d", i+1))
		}
	}
	return names
}

// TableFile is t as the format writes it, services and servers in the
// order given, with their health checks (each real server's whole).
func TableFile(t *Table) File {
	f := File{SchemaVersion: SchemaVersion, Services: []ServiceJSON{}}
	for i := range t.Services {
		s := &t.Services[i]
		servers := make([]ipvs.Destination, len(s.Servers))
		for j := range s.Servers {
			servers[j] = s.Servers[j].Destination
		}
		sj := ServiceFile(&s.Service, servers)
		for j := range s.Servers {
			sj.RealServers[j].HealthCheck = CheckFile(s.Servers[j].Check)
		}
		sj.Quorum, sj.Hysteresis = s.Quorum, s.Hysteresis
		if s.SorryServer != nil {
			r := ServerFile(&s.SorryServer.Destination)
			sj.SorryServer = &r
		}
		f.Services = append(f.Services, sj)
	}
	return f
}

// CheckFile is c as the format writes it, every key given; nil for nil.
func CheckFile(c *Check) *CheckJSON {
	if c == nil {
		return nil
	}
	j := &CheckJSON{Type: string(c.Type), Interval: c.Interval.String(), Timeout: c.Timeout.String(),
		RetryInterval: c.RetryInterval.String(), Rise: c.Rise, Fall: c.Fall, Warmup: c.Warmup.String(),
		ViaVIP: c.ViaVIP, Method: c.Method, Path: c.Path, Host: c.Host, SNI: c.SNI, Verify: c.Verify,
		Send: string(c.Send), Command: c.Command, OnFailure: c.OnFailure, InitialState: "up"}
	if !c.InitialUp {
		j.InitialState = "down"
	}
	if c.ConnectAddr.IsValid() || c.ConnectPort != 0 {
		j.ConnectTo = &ConnectToJSON{Port: c.ConnectPort}
		if c.ConnectAddr.IsValid() {
			j.ConnectTo.Address = c.ConnectAddr.String()
		}
	}
	for _, r := range c.Status {
		if r.Min == r.Max {
			j.Status = append(j.Status, r.Min)
		} else {
			j.Status = append(j.Status, fmt.Sprintf("%d-%d", r.Min, r.Max))
		}
	}
	if c.Body != nil {
		j.Body = c.Body.String()
	}
	if c.Expect != nil {
		j.Expect = c.Expect.String()
	}
	dw := c.DynamicWeight
	j.DynamicWeight = &dw
	return j
}

// MarshalYAML writes f as YAML.
func MarshalYAML(f any) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// MarshalJSON writes f as indented JSON.
func MarshalJSON(f any) ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
