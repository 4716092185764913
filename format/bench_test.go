package format

import (
	"bufio"
	"bytes"
	"io"
	"net/netip"
	"strconv"
	"testing"

	"github.com/lvsadm/lvsadm/ipvs"
)

// benchTable is a service with ten destinations in reverse order (so
// sorting has work to do), with counters of every magnitude.
func benchTable(v6 bool) Table {
	svc, destAddr := "192.0.2.1:80", func(i int) string { return "198.51.100." + strconv.Itoa(i) + ":8080" }
	if v6 {
		svc, destAddr = "[2001:db8::1]:80", func(i int) string { return "[2001:db8:0:1::" + strconv.Itoa(i) + "]:8080" }
	}
	tb := table(service(tcp(svc), "wlc"))
	tb.Service.Stats = ipvs.Stats{Connections: 123456, PacketsIn: 98765432, PacketsOut: 1234567890,
		BytesIn: 123456789012, BytesOut: 9876543210987}
	for i := 10; i >= 1; i-- {
		d := dest(destAddr(i), route, uint32(i))
		d.ActiveConns, d.InactiveConns = uint32(i*1000), uint32(i*37)
		d.Stats = ipvs.Stats{Connections: uint64(i) * 12345, PacketsIn: uint64(i) * 54321987,
			PacketsOut: uint64(i) * 7, BytesIn: uint64(i) * 1e11, BytesOut: uint64(i) * 3e8}
		tb.Dests = append(tb.Dests, d)
	}
	return tb
}

// BenchmarkServiceRows writes one service as lvsadm does in a listing: to
// a 64 KiB bufio.Writer, which the benchmark never lets fill up.
func BenchmarkServiceRows(b *testing.B) {
	for _, bc := range []struct {
		name string
		o    Options
	}{
		{"default", Options{Numeric: true}},
		{"stats", Options{Numeric: true, Stats: true}},
	} {
		for _, v6 := range []bool{false, true} {
			tb := benchTable(v6)
			b.Run(bc.name+"/"+ipName(v6), func(b *testing.B) {
				var sink bytes.Buffer
				w := bufio.NewWriterSize(&sink, 64<<10)
				b.ReportAllocs()
				for b.Loop() {
					if err := ServiceRows(w, tb, bc.o, nil); err != nil {
						b.Fatal(err)
					}
					w.Reset(&sink) // drop the buffered bytes; nothing reaches sink
				}
			})
		}
	}
	// A writer without its own buffer costs one allocation per service.
	b.Run("default/ipv4/discard", func(b *testing.B) {
		tb := benchTable(false)
		b.ReportAllocs()
		for b.Loop() {
			if err := ServiceRows(io.Discard, tb, Options{Numeric: true}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSave(b *testing.B) {
	for _, v6 := range []bool{false, true} {
		tb := benchTable(v6)
		b.Run(ipName(v6), func(b *testing.B) {
			var sink bytes.Buffer
			w := bufio.NewWriterSize(&sink, 64<<10)
			b.ReportAllocs()
			for b.Loop() {
				if err := Save(w, tb, nil, true); err != nil {
					b.Fatal(err)
				}
				w.Reset(&sink)
			}
		})
	}
	b.Run("ipv4/discard", func(b *testing.B) {
		tb := benchTable(false)
		b.ReportAllocs()
		for b.Loop() {
			if err := Save(io.Discard, tb, nil, true); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkListing is lvsadm -Ln and -Sn of 10,000 services with ten
// destinations each, as cmd/cli prints them: sort the services, then each
// service through a 64 KiB bufio.Writer.
func BenchmarkListing(b *testing.B) {
	base := benchTable(false)
	tables := make([]Table, 10000)
	for i := range tables {
		tb := base
		// Kernel hash order: scattered addresses.
		x := uint32(i) * 2654435761
		tb.Service.Addr = netip.AddrFrom4([4]byte{198, 18 + byte(x>>31), byte(x >> 23), byte(x >> 15)})
		tb.Service.Port = uint16(x)
		tables[i] = tb
	}
	work := make([]Table, len(tables))
	for _, bc := range []struct {
		name string
		save bool
	}{{"list", false}, {"save", true}} {
		b.Run(bc.name, func(b *testing.B) {
			w := bufio.NewWriterSize(io.Discard, 64<<10)
			o := Options{Numeric: true}
			b.ReportAllocs()
			for b.Loop() {
				copy(work, tables)
				SortServices(work)
				for _, tb := range work {
					var err error
					if bc.save {
						err = Save(w, tb, nil, true)
					} else {
						err = ServiceRows(w, tb, o, nil)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Flush(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSortServices(b *testing.B) {
	tables := make([]Table, 10000)
	for i := range tables {
		x := uint32(i) * 2654435761
		tables[i].Service = service(tcp(netip.AddrPortFrom(
			netip.AddrFrom4([4]byte{198, 18 + byte(x>>31), byte(x >> 23), byte(x >> 15)}), uint16(x)).String()), "rr")
	}
	work := make([]Table, len(tables))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, tables)
		SortServices(work)
	}
}

func ipName(v6 bool) string {
	if v6 {
		return "ipv6"
	}
	return "ipv4"
}
