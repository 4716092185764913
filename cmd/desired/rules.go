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
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &Error{Source: Source{File: name}, Msg: err.Error()}
	}
	return parseRules(name, string(data), p)
}

// parseRules is ParseRules of text. The words of every line are slices of
// it, so a line costs no allocation of its own.
func parseRules(name, text string, p compat.Parser) (*Table, error) {
	var (
		t     Table
		errs  errorList
		index = map[ipvs.ServiceKey]int{} // service key -> position in t.Services
		words []string                    // the current line's, reused
		inv   compat.Invocation           // the current line's, reused
	)
	// The real servers, in file order, with the position of each one's
	// service. ipvsadm -S writes every service's servers right after it,
	// so they usually come in service order already and each service's
	// list is a window of servers; otherwise they are sorted by service
	// into a new array.
	lines := strings.Count(text, "\n") + 1
	servers := make([]Server, 0, lines)
	owners := make([]int, 0, lines)
	inOrder := true
	lastKey, last := ipvs.ServiceKey{}, -1 // the service of the line before
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
			i, ok := last, last >= 0 && k == lastKey
			if !ok {
				i, ok = index[k]
			}
			if !ok {
				errs.add(src, "real server for service %s, which no -A line before it defines", Describe(k))
				continue
			}
			lastKey, last = k, i
			if n := len(owners); n > 0 && i < owners[n-1] {
				inOrder = false
			}
			servers = append(servers, Server{Destination: inv.Dest, Source: src})
			owners = append(owners, i)
		default:
			errs.add(src, "only -A and -a lines describe a table; this line is %s", inv.Command)
		}
	}
	if !inOrder {
		servers, owners = byService(servers, owners, len(t.Services))
	}
	for start := 0; start < len(servers); {
		end := start + 1
		for end < len(servers) && owners[end] == owners[start] {
			end++
		}
		t.Services[owners[start]].Servers = servers[start:end:end]
		start = end
	}
	t.check(&errs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return &t, nil
}

// byService sorts servers, whose services are at the same positions of
// owners, by service and otherwise in file order: a counting sort into new
// arrays, one allocation each.
func byService(servers []Server, owners []int, services int) ([]Server, []int) {
	start := make([]int, services+1)
	for _, o := range owners {
		start[o+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	sorted := make([]Server, len(servers))
	sortedOwners := make([]int, len(owners))
	for j, o := range owners {
		sorted[start[o]] = servers[j]
		sortedOwners[start[o]] = o
		start[o]++
	}
	return sorted, sortedOwners
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
