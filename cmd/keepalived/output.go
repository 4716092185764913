package keepalived

import "github.com/lvsadm/lvsadm/cmd/desired"

// The YAML the importer writes: lvsadm's format (desired.File) with the
// health-check keys of docs/health.md. Service mirrors desired.ServiceJSON,
// with the health keys before real_servers.

// File is a whole converted configuration.
type File struct {
	SchemaVersion int       `yaml:"schema_version"`
	Services      []Service `yaml:"services"`
}

// Service is one converted virtual_server.
type Service struct {
	Protocol          string              `yaml:"protocol,omitempty"`
	Address           string              `yaml:"address,omitempty"`
	Port              *uint16             `yaml:"port,omitempty"`
	FWMark            uint32              `yaml:"fwmark,omitempty"`
	Family            string              `yaml:"family,omitempty"`
	Scheduler         string              `yaml:"scheduler"`
	SchedulerFlags    []string            `yaml:"scheduler_flags,omitempty"`
	Persistent        uint32              `yaml:"persistent,omitempty"`
	Netmask           any                 `yaml:"netmask,omitempty"`
	PersistenceEngine string              `yaml:"persistence_engine,omitempty"`
	OnePacket         bool                `yaml:"one_packet,omitempty"`
	HealthCheck       *Check              `yaml:"health_check,omitempty"`
	Quorum            *uint32             `yaml:"quorum,omitempty"`
	Hysteresis        uint32              `yaml:"hysteresis,omitempty"`
	SorryServer       *desired.ServerJSON `yaml:"sorry_server,omitempty"`
	RealServers       []Server            `yaml:"real_servers,omitempty"`
}

// Server is one converted real_server: desired.ServerJSON's keys, with its
// own Check type for the health check (written in flow style where lists
// are short).
type Server struct {
	Address        string              `yaml:"address"`
	Port           uint16              `yaml:"port"`
	Method         string              `yaml:"method"`
	Weight         uint32              `yaml:"weight"`
	UpperThreshold uint32              `yaml:"upper_threshold,omitempty"`
	LowerThreshold uint32              `yaml:"lower_threshold,omitempty"`
	HealthCheck    *Check              `yaml:"health_check,omitempty"`
	Tunnel         *desired.TunnelJSON `yaml:"tunnel,omitempty"`
}

// Check is a converted checker. Keys that hold lvsadm's default are left
// out except where keepalived's default differs (interval, timeout, rise,
// fall, retry_interval, on_failure, dynamic_weight are always written).
type Check struct {
	Type          string     `yaml:"type"`
	Interval      string     `yaml:"interval,omitempty"`
	Timeout       string     `yaml:"timeout,omitempty"`
	RetryInterval string     `yaml:"retry_interval,omitempty"`
	Rise          int        `yaml:"rise,omitempty"`
	Fall          int        `yaml:"fall,omitempty"`
	Warmup        string     `yaml:"warmup,omitempty"`
	ConnectTo     *ConnectTo `yaml:"connect_to,omitempty"`
	Path          string     `yaml:"path,omitempty"`
	Host          string     `yaml:"host,omitempty"`
	Status        []any      `yaml:"status,omitempty,flow"` // codes (int) and "MIN-MAX" ranges
	Body          string     `yaml:"body,omitempty"`
	SNI           string     `yaml:"sni,omitempty"`
	Send          string     `yaml:"send,omitempty"`
	Expect        string     `yaml:"expect,omitempty"`
	Command       []string   `yaml:"command,omitempty,flow"`
	DynamicWeight *bool      `yaml:"dynamic_weight,omitempty"`
	OnFailure     string     `yaml:"on_failure,omitempty"`
	InitialState  string     `yaml:"initial_state,omitempty"`
}

// ConnectTo is where a check goes instead of the real server.
type ConnectTo struct {
	Address string `yaml:"address,omitempty"`
	Port    uint16 `yaml:"port,omitempty"`
}
