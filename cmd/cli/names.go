package cli

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/ipvs"
)

// systemNames resolves names as ipvsadm does through glibc: forward lookups
// (gethostbyname, getservbyname) for the parser, reverse lookups
// (gethostbyaddr, getservbyport) for listings without -n. Files are read
// only when a name is first needed, so numeric commands never touch them.
type systemNames struct {
	compat.SystemResolver

	once     sync.Once
	hosts    map[netip.Addr]string // first name of the first line for an address
	services map[servicePort]string
}

type servicePort struct {
	port  uint16
	proto string
}

func (n *systemNames) loadReverse() {
	n.once.Do(func() {
		n.hosts = map[netip.Addr]string{}
		n.services = map[servicePort]string{}
		if f, err := os.Open(n.hostsPath()); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				fields := strings.Fields(strings.SplitN(sc.Text(), "#", 2)[0])
				if len(fields) < 2 {
					continue
				}
				if a, err := netip.ParseAddr(fields[0]); err == nil {
					if _, seen := n.hosts[a]; !seen {
						n.hosts[a] = fields[1]
					}
				}
			}
			f.Close()
		}
		if f, err := os.Open(n.servicesPath()); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				fields := strings.Fields(strings.SplitN(sc.Text(), "#", 2)[0])
				if len(fields) < 2 {
					continue
				}
				portText, proto, ok := strings.Cut(fields[1], "/")
				port, err := strconv.ParseUint(portText, 10, 16)
				if !ok || err != nil {
					continue
				}
				key := servicePort{uint16(port), proto}
				if _, seen := n.services[key]; !seen {
					n.services[key] = fields[0]
				}
			}
			f.Close()
		}
	})
}

func (n *systemNames) hostsPath() string {
	if n.HostsPath != "" {
		return n.HostsPath
	}
	return "/etc/hosts"
}

func (n *systemNames) servicesPath() string {
	if n.ServicesPath != "" {
		return n.ServicesPath
	}
	return "/etc/services"
}

// HostName is gethostbyaddr with "files dns".
func (n *systemNames) HostName(addr netip.Addr) (string, bool) {
	n.loadReverse()
	if name, ok := n.hosts[addr]; ok {
		return name, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	names, err := net.DefaultResolver.LookupAddr(ctx, addr.String())
	if err != nil || len(names) == 0 {
		return "", false
	}
	return strings.TrimSuffix(names[0], "."), true
}

// ServiceName is getservbyport.
func (n *systemNames) ServiceName(port uint16, proto ipvs.Protocol) (string, bool) {
	n.loadReverse()
	name, ok := n.services[servicePort{port, strings.ToLower(proto.String())}]
	return name, ok
}
