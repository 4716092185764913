package daemon

import (
	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/ipvs"
)

// serverID names a real server of a service.
type serverID struct {
	service ipvs.ServiceKey // desired.Key form
	server  desired.ServerKey
}

func idOf(s *desired.Service, r *desired.Server) serverID {
	k := desired.Key(s.ServiceKey)
	return serverID{k, desired.DestKey(k.Family, &r.Destination)}
}

// serverHealth is a checked real server's state as the table needs it.
type serverHealth struct {
	up bool
	// weight, if set, is the weight an exec check reported (its exit
	// status minus 2) in place of the configured one.
	weight *uint32
}

// quorumState is a service's quorum: whether its sorry server is in.
type quorumState struct {
	lost bool
}

// effective is the table the kernel should have given the real servers'
// health: a down server quiesced (weight 0) or left out (on_failure
// remove); a server up with the weight its check reported, if any; and a
// service whose live weight fell below its quorum with its sorry server.
// quorums is updated: a quorum is lost when the live weight falls below
// quorum - hysteresis (or to 0) and regained at quorum + hysteresis, as
// keepalived does.
func effective(t *desired.Table, states map[serverID]serverHealth, quorums map[ipvs.ServiceKey]*quorumState) *desired.Table {
	out := &desired.Table{Services: make([]desired.Service, len(t.Services))}
	for i := range t.Services {
		s := &t.Services[i]
		e := *s
		e.Servers = make([]desired.Server, 0, len(s.Servers)+1)
		var live uint64
		for j := range s.Servers {
			r := s.Servers[j]
			if r.Check != nil {
				h, known := states[idOf(s, &r)]
				if !known {
					h.up = r.Check.InitialUp
				}
				switch {
				case !h.up && r.Check.OnFailure == desired.OnFailureRemove:
					continue
				case !h.up:
					r.Weight = 0
				case h.weight != nil:
					r.Weight = *h.weight
				}
			}
			live += uint64(r.Weight)
			e.Servers = append(e.Servers, r)
		}
		if s.Quorum > 0 {
			k := desired.Key(s.ServiceKey)
			q := quorums[k]
			if q == nil {
				q = &quorumState{lost: live < uint64(s.Quorum)}
				quorums[k] = q
			}
			switch {
			case !q.lost && (live == 0 || live+uint64(s.Hysteresis) < uint64(s.Quorum)):
				q.lost = true
			case q.lost && live >= uint64(s.Quorum)+uint64(s.Hysteresis):
				q.lost = false
			}
			if q.lost && s.SorryServer != nil && !hasServer(&e, s.SorryServer) {
				e.Servers = append(e.Servers, *s.SorryServer)
			}
		}
		out.Services[i] = e
	}
	return out
}

// hasServer reports whether a service already lists a server at r's
// address (a sorry server that is also a real server is not added twice).
func hasServer(s *desired.Service, r *desired.Server) bool {
	id := idOf(s, r)
	for j := range s.Servers {
		if idOf(s, &s.Servers[j]) == id {
			return true
		}
	}
	return false
}
