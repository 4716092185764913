package desired

import (
	"errors"
	"io"
	"strings"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/ipvs"
)

// ParseRules reads ipvsadm rules: one -A (add service) or -a (add real
// server) command line per line, as ipvsadm -S and ipvsadm-save write them,
// each parsed exactly as ipvsadm parses it (host and service names
// included, through p's resolver). Blank lines and lines starting with '#'
// (which ipvsadm-restore drops) are skipped; a leading "ipvsadm" word is
// allowed. name is the file's name for messages.
func ParseRules(name string, r io.Reader, p compat.Parser) (*Table, error) {
	var (
		t     Table
		errs  errorList
		index = map[ipvs.ServiceKey]int{} // service key -> position in t.Services
		words []string                    // the current line's, reused
		inv   compat.Invocation           // the current line's, reused
	)
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &Error{Source: Source{File: name}, Msg: err.Error()}
	}
	// One string for the whole input: the words of every line are slices
	// of it, so a line costs no allocation of its own.
	text := string(data)
	// The real servers, in file order, are gathered into their services'
	// lists at the end: one allocation for all, instead of each service's
	// list growing (and being copied) one server at a time.
	type serverOf struct {
		service int
		server  Server
	}
	servers := make([]serverOf, 0, strings.Count(text, "\n")+1)
	for line := 1; text != "" && !errs.full(); line++ {
		var l string
		l, text, _ = strings.Cut(text, "\n")
		words = appendFields(words[:0], l)
		if len(words) == 0 || strings.HasPrefix(words[0], "#") {
			continue
		}
		src := Source{File: name, Line: line}
		args := words
		if args[0] == "ipvsadm" {
			args = args[1:]
		}
		if err := p.ParseInto(&inv, "ipvsadm", args); err != nil {
			var ce *compat.Error
			if errors.As(err, &ce) {
				err = errors.New(ce.Message)
			}
			errs.add(src, "%v", err)
			continue
		}
		switch inv.Command {
		case compat.AddService:
			k := Key(inv.Service.ServiceKey)
			if _, ok := index[k]; !ok {
				index[k] = len(t.Services)
			}
			t.Services = append(t.Services, Service{Service: inv.Service, Source: src})
		case compat.AddServer:
			k := Key(inv.Service.ServiceKey)
			i, ok := index[k]
			if !ok {
				errs.add(src, "real server for service %s, which no -A line before it defines", Describe(k))
				continue
			}
			servers = append(servers, serverOf{i, Server{Destination: inv.Dest, Source: src}})
		default:
			errs.add(src, "only -A and -a lines describe a table; this line is %s", inv.Command)
		}
	}
	// Each service's list is a window of one array, in file order.
	count := make([]int, len(t.Services)+1)
	for _, so := range servers {
		count[so.service+1]++
	}
	for i := 1; i < len(count); i++ {
		count[i] += count[i-1]
	}
	all := make([]Server, len(servers))
	for i := range t.Services {
		if count[i] < count[i+1] {
			t.Services[i].Servers = all[count[i]:count[i]:count[i+1]]
		}
	}
	for _, so := range servers {
		s := &t.Services[so.service]
		s.Servers = append(s.Servers, so.server)
	}
	t.check(&errs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return &t, nil
}

// appendFields appends the words of line (separated by white space) to
// words.
func appendFields(words []string, line string) []string {
	start := -1
	for i := 0; i < len(line); i++ {
		switch c := line[i]; c {
		case ' ', '\t', '\r', '\v', '\f':
			if start >= 0 {
				words = append(words, line[start:i])
				start = -1
			}
		default:
			if start < 0 {
				start = i
			}
		}
	}
	if start >= 0 {
		words = append(words, line[start:])
	}
	return words
}
