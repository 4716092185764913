package desired

import (
	"bufio"
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
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan() && !errs.full(); line++ {
		text := sc.Text()
		if trimmed := strings.TrimSpace(text); trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		src := Source{File: name, Line: line}
		words := strings.Fields(text)
		if words[0] == "ipvsadm" {
			words = words[1:]
		}
		inv, err := p.Parse("ipvsadm", words)
		if err != nil {
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
			t.Services[i].Servers = append(t.Services[i].Servers, Server{Destination: inv.Dest, Source: src})
		default:
			errs.add(src, "only -A and -a lines describe a table; this line is %s", inv.Command)
		}
	}
	if err := sc.Err(); err != nil {
		errs.add(Source{File: name}, "%v", err)
	}
	t.check(&errs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return &t, nil
}
