package daemon

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/ipvs"
)

// StatusDoc is what /status serves and lvsadm status prints.
type StatusDoc struct {
	SchemaVersion int             `json:"schema_version"`
	File          string          `json:"file"`
	Updated       time.Time       `json:"updated"`
	Services      []ServiceStatus `json:"services"`
}

type statusDoc = StatusDoc

// ServiceStatus is one service of the file.
type ServiceStatus struct {
	Service string `json:"service"` // as ipvsadm's options name it: "-t 192.0.2.10:80"
	// Quorum and LiveWeight: the least sum of live weights, and the sum;
	// SorryServer says whether the sorry server is in.
	Quorum      uint32         `json:"quorum,omitempty"`
	LiveWeight  uint64         `json:"live_weight"`
	SorryServer bool           `json:"sorry_server_active,omitempty"`
	RealServers []ServerStatus `json:"real_servers"`
}

// ServerStatus is one real server of the file.
type ServerStatus struct {
	Address string `json:"address"` // "198.51.100.1:80"
	// Check is the check's type, empty for an unchecked server.
	Check            string    `json:"check,omitempty"`
	State            string    `json:"state"` // up, down, draining, unchecked
	Since            time.Time `json:"since,omitempty"`
	Reason           string    `json:"reason,omitempty"`
	Weight           uint32    `json:"weight"`            // in the kernel now
	ConfiguredWeight uint32    `json:"configured_weight"` // in the file
	LastResult       string    `json:"last_result,omitempty"`
	LastCheck        time.Time `json:"last_check,omitempty"`
	LastLatencyMs    float64   `json:"last_latency_ms,omitempty"`
	Checks           uint64    `json:"checks,omitempty"`
	Failed           uint64    `json:"failed,omitempty"`
}

// updateSnapshot rebuilds /status from the daemon's state; it runs in the
// daemon's loop, and the handler reads the result under mu.
func (d *daemon) updateSnapshot() {
	statuses := map[string]int{}
	all := d.sched.Statuses()
	for i, st := range all {
		statuses[st.Key] = i
	}
	doc := StatusDoc{SchemaVersion: 1, File: d.opts.File, Updated: time.Now().UTC(), Services: []ServiceStatus{}}
	view := map[serverID]ServerStatus{}
	for i := range d.table.Services {
		s := &d.table.Services[i]
		applied := map[desired.ServerKey]uint32{}
		var live uint64
		k := desired.Key(s.ServiceKey)
		for _, as := range d.applied.Services {
			if desired.Key(as.ServiceKey) == k {
				for j := range as.Servers {
					applied[desired.DestKey(k.Family, &as.Servers[j].Destination)] = as.Servers[j].Weight
					live += uint64(as.Servers[j].Weight)
				}
			}
		}
		ss := ServiceStatus{Service: desired.Describe(k), Quorum: s.Quorum, LiveWeight: live, RealServers: []ServerStatus{}}
		if q := d.quorums[k]; q != nil {
			ss.SorryServer = q.lost && s.SorryServer != nil
		}
		for j := range s.Servers {
			r := &s.Servers[j]
			id := idOf(s, r)
			rs := ServerStatus{Address: desired.AddrPort(r.Addr, r.Port), State: "unchecked", ConfiguredWeight: r.Weight, Weight: applied[id.server]}
			if r.Check != nil {
				rs.Check = string(r.Check.Type)
				if i, ok := statuses[checkKey(id)]; ok {
					st := all[i]
					rs.State, rs.Since, rs.Reason = "down", st.Since.UTC(), st.Reason
					if st.Up {
						rs.State = "up"
					}
					if _, ok := d.draining[id]; ok {
						rs.State = "draining"
					}
					rs.LastResult, rs.Checks, rs.Failed = st.Last.Reason, st.Checks, st.Failed
					if !st.Last.Time.IsZero() {
						rs.LastCheck = st.Last.Time.UTC()
						rs.LastLatencyMs = float64(st.Last.Latency.Microseconds()) / 1000
					}
				}
			}
			ss.RealServers = append(ss.RealServers, rs)
			view[id] = rs
		}
		doc.Services = append(doc.Services, ss)
	}
	d.mu.Lock()
	d.snapshot, d.view = doc, view
	d.mu.Unlock()
}

// handler serves /status, /reload and /metrics.
func (d *daemon) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		d.mu.Lock()
		doc := d.snapshot
		d.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(doc)
	})
	mux.HandleFunc("POST /reload", func(w http.ResponseWriter, r *http.Request) {
		reply := make(chan error, 1)
		select {
		case d.reloads <- reply:
		case <-r.Context().Done():
			return
		}
		if err := <-reply; err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		w.Write([]byte("reloaded\n"))
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&collector{d: d})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}

// keyLabels are node_exporter's labels for a service: its address and
// port, protocol and fwmark. A fwmark service's address is the unspecified
// address of its family, so that IPv4 and IPv6 marks do not collide.
func keyLabels(k ipvs.ServiceKey) (addr, port, proto, mark string) {
	k = desired.Key(k)
	if k.FWMark != 0 {
		addr = "0.0.0.0"
		if k.Family == ipvs.IPv6 {
			addr = "::"
		}
		return addr, "0", "FWM", itoa(uint64(k.FWMark))
	}
	return k.Addr.String(), itoa(uint64(k.Port)), k.Protocol.String(), ""
}
