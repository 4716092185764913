//go:build linux

package top

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"syscall"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/lvsadm/lvsadm/cmd/internal/kerneltable"
	"github.com/lvsadm/lvsadm/format"
	"github.com/lvsadm/lvsadm/ipvs"
	"github.com/lvsadm/lvsadm/ipvs/ipvstest"
)

// cpuTime is the process's user and system time so far: on a shared machine
// a benchmark's wall time says more about the neighbours than about it.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs op b.N times and reports, besides ns/op, the process's CPU
// time per op (the fake kernel and the garbage collector included).
func loop(b *testing.B, op func()) {
	b.ReportAllocs()
	start := cpuTime(b)
	for b.Loop() {
		op()
	}
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkRefresh is one refresh of a 50-line screen over the table of
// cmd/cli's BenchmarkListAll (10,000 services of 10 real servers, the
// services from the fake kernel's dump and the real servers from
// /proc/net/ip_vs in memory): the read, the rates, sorting, and drawing
// the screen, with every service collapsed and with every one expanded
// (then the services on screen get their real servers dumped).
func BenchmarkRefresh(b *testing.B) {
	k := ipvstest.New()
	c, err := ipvs.NewFromConn(k.NetlinkConn())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	batch := c.NewBatch()
	var proc bytes.Buffer
	proc.WriteString("IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n")
	for i := range 10000 {
		// Scattered addresses, as in the kernel's hash order.
		x := uint32(i) * 2654435761 >> 16
		key := ipvs.ServiceKey{Family: ipvs.IPv4, Protocol: ipvs.TCP, Addr: netip.AddrFrom4([4]byte{198, 18, byte(x >> 8), byte(x)}), Port: 80}
		batch.AddService(ipvs.Service{ServiceKey: key, Scheduler: "rr", Netmask: 0xffffffff})
		for j := range 10 {
			n := (i*10 + j) % 64000
			batch.AddDestination(key, ipvs.Destination{Addr: netip.AddrFrom4([4]byte{198, 19, byte(n / 250), byte(n%250 + 1)}), Port: 80, Weight: 1})
		}
	}
	if _, err := batch.Send(); err != nil {
		b.Fatal(err)
	}
	svcs, err := c.Services()
	if err != nil {
		b.Fatal(err)
	}
	for i, s := range svcs {
		a := s.Addr.As4()
		fmt.Fprintf(&proc, "TCP  %02X%02X%02X%02X:0050 rr  \n", a[0], a[1], a[2], a[3])
		for j := range 10 {
			n := (i*10 + j) % 64000
			fmt.Fprintf(&proc, "  -> C613%02X%02X:0050      Masq    1      0          0         \n", n/250, n%250+1)
		}
	}
	openProc := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(proc.Bytes())), nil }
	// list is what lvsadm -Ln does with the same table (cmd/cli's listAll,
	// which this package cannot import), the figure a refresh is held to.
	b.Run("list", func(b *testing.B) {
		out := bufio.NewWriterSize(io.Discard, 64<<10)
		loop(b, func() {
			tbl, err := kerneltable.Read(c, openProc)
			if err != nil {
				b.Fatal(err)
			}
			var dests []ipvs.DestinationEntry
			for _, i := range format.ServiceOrder(tbl.Services) {
				if dests, err = tbl.Dests(dests[:0], i); err != nil {
					b.Fatal(err)
				}
				format.ServiceRows(out, format.Table{Service: tbl.Services[i], Dests: dests}, format.Options{Numeric: true}, nil)
			}
			out.Flush()
		})
	})
	for _, bc := range []struct {
		name   string
		expand string
	}{{"collapsed", ""}, {"expanded", "e"}} {
		b.Run(bc.name, func(b *testing.B) {
			clock := time.Unix(0, 0)
			s := &sampler{client: c, now: func() time.Time { clock = clock.Add(time.Second); return clock }, openProc: openProc}
			m := newModel(s, time.Second)
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 53})
			m.Update(m.Init()())
			if bc.expand != "" {
				_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(bc.expand)})
				m.Update(cmd())
			}
			m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("5")}) // by CONN/S
			loop(b, func() {
				_, cmd := m.Update(tickMsg{m.ticks})
				m.Update(cmd())
				if m.err != nil || len(m.snap.services) != 10000 {
					b.Fatal(m.err)
				}
				_ = m.View()
			})
		})
	}
}
