//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"

	"github.com/lvsadm/lvsadm/ipvs"
)

// tableSize is a benchmark table: Services TCP services on port 80, each
// with DestsPerService masqueraded real servers of weight 1. Services come
// from 198.18.0.0/16 and real servers from 198.19.0.0/16 (RFC 2544's
// benchmarking range), scheduler rr because wrr rescans every destination
// on each add and would measure the scheduler, not the tools.
type tableSize struct {
	Services        int
	DestsPerService int
}

// Lines is the number of restore lines (and of requests) for the table.
func (t tableSize) Lines() int { return t.Services * (1 + t.DestsPerService) }

func (t tableSize) String() string {
	return fmt.Sprintf("%s x %d", thousands(t.Services), t.DestsPerService)
}

// addrsPerOctet keeps the last octet in 1..250, clear of .0 and .255.
const addrsPerOctet = 250

// maxServices is how many service addresses 198.18.0.0/16 gives.
const maxServices = 256 * addrsPerOctet

func serviceAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{198, 18, byte(i / addrsPerOctet), byte(i%addrsPerOctet + 1)})
}

// destAddr numbers real servers consecutively across services, wrapping
// within 198.19.0.0/16; the servers of one service are always distinct.
func destAddr(service, dest, perService int) netip.Addr {
	n := (service*perService + dest) % maxServices
	return netip.AddrFrom4([4]byte{198, 19, byte(n / addrsPerOctet), byte(n%addrsPerOctet + 1)})
}

// writeRules writes the table as ipvsadm -R input: each service followed
// by its real servers.
func writeRules(w io.Writer, t tableSize) error {
	if t.Services > maxServices {
		return fmt.Errorf("%d services: at most %d fit 198.18.0.0/16", t.Services, maxServices)
	}
	bw := bufio.NewWriter(w)
	for i := range t.Services {
		svc := serviceAddr(i)
		fmt.Fprintf(bw, "-A -t %s:80 -s rr\n", svc)
		for k := range t.DestsPerService {
			fmt.Fprintf(bw, "-a -t %s:80 -r %s:80 -m -w 1\n", svc, destAddr(i, k, t.DestsPerService))
		}
	}
	return bw.Flush()
}

func writeRulesFile(path string, t tableSize) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := writeRules(f, t); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// queueTable queues the requests that restoring writeRules' output makes,
// in the same order, as the library encodes them.
func queueTable(b *ipvs.Batch, t tableSize) {
	for i := range t.Services {
		key := ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: serviceAddr(i), Port: 80}
		b.AddService(ipvs.Service{ServiceKey: key, Scheduler: "rr", Netmask: 0xffffffff})
		for k := range t.DestsPerService {
			b.AddDestination(key, ipvs.Destination{
				Addr:          destAddr(i, k, t.DestsPerService),
				Port:          80,
				ForwardMethod: ipvs.Masquerade,
				Weight:        1,
			})
		}
	}
}

// thousands formats n with comma separators: 110000 -> "110,000".
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
