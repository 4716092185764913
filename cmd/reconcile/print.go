package reconcile

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/format"
	"github.com/lvsadm/lvsadm/ipvs"
)

// Command is the ipvsadm command line that makes a change by itself, as
// ipvsadm -S writes service and server options (with thresholds, which -S
// leaves out).
func (c *Change) Command() string { return string(c.appendCommand(nil)) }

// appendCommand appends Command's line to b.
func (c *Change) appendCommand(b []byte) []byte {
	switch {
	case !c.IsServer() && c.Action == Remove:
		return append(append(b, "-D "...), desired.Describe(c.Service.ServiceKey)...)
	case !c.IsServer():
		at := len(b)
		b = format.AppendSaveLine(b, c.Service, nil)
		if c.Action == Edit {
			b[at+1] = 'E' // "-A ..." as "-E ..."
		}
		return b
	case c.Action == Remove:
		b = append(append(b, "-d "...), desired.Describe(c.Service.ServiceKey)...)
		return append(append(b, " -r "...), desired.AddrPort(c.Server.Addr, c.Server.Port)...)
	}
	at := len(b)
	b = format.AppendSaveLine(b, c.Service, c.Server)
	if c.Action == Edit {
		b[at+1] = 'e' // "-a ..." as "-e ..."
	}
	if d := c.Server; d.UpperThreshold != 0 || d.LowerThreshold != 0 {
		b = fmt.Appendf(b, " -x %d -y %d", d.UpperThreshold, d.LowerThreshold)
	}
	return b
}

// FieldChange is one field an edit changes.
type FieldChange struct {
	Name     string
	From, To string
}

func (f FieldChange) String() string { return f.Name + " " + f.From + " -> " + f.To }

// Delta lists the fields an edit changes.
func (c *Change) Delta() []FieldChange {
	var fields []FieldChange
	add := func(name string, from, to any) {
		if f, t := fmt.Sprint(from), fmt.Sprint(to); f != t {
			fields = append(fields, FieldChange{name, f, t})
		}
	}
	switch {
	case c.Action != Edit:
		return nil
	case c.IsServer():
		o, n := c.OldServer, c.Server
		add("method", methodWord(o.ForwardMethod), methodWord(n.ForwardMethod))
		add("weight", o.Weight, n.Weight)
		add("upper threshold", o.UpperThreshold, n.UpperThreshold)
		add("lower threshold", o.LowerThreshold, n.LowerThreshold)
		add("tunnel type", o.TunnelType, n.TunnelType)
		add("tunnel port", o.TunnelPort, n.TunnelPort)
		add("tunnel checksum", o.TunnelFlags, n.TunnelFlags)
	default:
		o, n := c.OldService, c.Service
		add("scheduler", o.Scheduler, n.Scheduler)
		add("flags", flagWords(o), flagWords(n))
		add("persistence timeout", o.Timeout, n.Timeout)
		add("netmask", netmaskWord(o), netmaskWord(n))
		add("persistence engine", quoteEmpty(o.PE), quoteEmpty(n.PE))
	}
	return fields
}

func methodWord(m ipvs.ForwardMethod) string {
	if m == ipvs.Local {
		return "local"
	}
	return desired.ServerFile(&ipvs.Destination{ForwardMethod: m}).Method
}

func flagWords(s *ipvs.Service) string {
	var words []string
	if s.Flags&ipvs.FlagPersistent != 0 {
		words = append(words, "persistent")
	}
	if s.Flags&ipvs.FlagOnePacket != 0 {
		words = append(words, "one-packet")
	}
	words = append(words, desired.ServiceFile(s, nil).SchedulerFlags...)
	if len(words) == 0 {
		return "none"
	}
	return strings.Join(words, ",")
}

func netmaskWord(s *ipvs.Service) string {
	if m := desired.ServiceFile(s, nil).Netmask; m != nil {
		return fmt.Sprint(m)
	}
	return "host"
}

func quoteEmpty(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// WriteText writes the plan for people: one line per change, "+" adds,
// "~" edits, "-" removes, as the ipvsadm command that would make it, then
// a summary. drain is the drain timeout apply will use.
func (p *Plan) WriteText(w io.Writer, drain time.Duration) error {
	b := bufio.NewWriter(w)
	var line []byte // reused: a plan can have a line per real server of a large table
	for i := range p.Changes {
		c := &p.Changes[i]
		line = append(append(line[:0], c.Action.mark()...), ' ')
		line = c.appendCommand(line)
		switch {
		case c.Action == Edit:
			var parts []string
			for _, f := range c.Delta() {
				parts = append(parts, f.String())
			}
			line = fmt.Appendf(line, "   # %s", strings.Join(parts, ", "))
		case c.Action == Remove && drain > 0:
			line = fmt.Appendf(line, "   # drain: weight 0 now, delete when its connections end or after %s", drain)
		}
		if c.Source.File != "" {
			line = append(c.Source.AppendTo(append(line, "   ("...)), ')')
		}
		line = append(line, '\n')
		b.Write(line)
	}
	add, change, remove := p.Counts()
	fmt.Fprintf(b, "Plan: %d to add, %d to change, %d to remove.\n", add, change, remove)
	return b.Flush()
}

// mark is the sign of an action in the plan's text.
func (a Action) mark() string {
	switch a {
	case Add:
		return "+"
	case Edit:
		return "~"
	case Remove:
		return "-"
	}
	return "?"
}

// ChangeJSON is one change of a plan in JSON.
type ChangeJSON struct {
	Action  string               `json:"action"`
	Object  string               `json:"object"` // service or real_server
	Service string               `json:"service"`
	Server  string               `json:"real_server,omitempty"`
	Command string               `json:"command"`
	Changes map[string]FieldJSON `json:"changes,omitempty"`
	Source  string               `json:"source,omitempty"`
}

// FieldJSON is one field an edit changes.
type FieldJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// PlanJSON is a plan in JSON.
type PlanJSON struct {
	SchemaVersion int          `json:"schema_version"`
	Changes       []ChangeJSON `json:"changes"`
	Add           int          `json:"add"`
	Change        int          `json:"change"`
	Remove        int          `json:"remove"`
}

// JSON is the plan as PlanJSON.
func (p *Plan) JSON() PlanJSON {
	out := PlanJSON{SchemaVersion: desired.SchemaVersion, Changes: []ChangeJSON{}}
	out.Add, out.Change, out.Remove = p.Counts()
	for i := range p.Changes {
		c := &p.Changes[i]
		j := ChangeJSON{Action: c.Action.String(), Object: "service", Service: desired.Describe(c.Service.ServiceKey), Command: c.Command()}
		if c.IsServer() {
			j.Object, j.Server = "real_server", desired.AddrPort(c.Server.Addr, c.Server.Port)
		}
		if c.Source.File != "" {
			j.Source = c.Source.String()
		}
		for _, f := range c.Delta() {
			if j.Changes == nil {
				j.Changes = map[string]FieldJSON{}
			}
			j.Changes[f.Name] = FieldJSON{f.From, f.To}
		}
		out.Changes = append(out.Changes, j)
	}
	return out
}
