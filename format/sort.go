package format

import (
	"encoding/binary"

	"github.com/lvsadm/lvsadm/ipvs"
)

// SortServices orders services as ipvsadm -L does: by fwmark (so services
// without one come first), family, protocol, address, port.
//
// ipvsadm compares unsigned 32-bit fwmarks and address words by subtracting
// them into a C int, so values 2^31 or more apart compare the wrong way
// round and the order is not transitive. The result then depends on the
// sorting algorithm; this uses the same merge sort as glibc 2.36's qsort, so
// the order matches ipvsadm's byte for byte even then.
func SortServices(tables []Table) {
	svcs := make([]ipvs.ServiceEntry, len(tables))
	for i := range tables {
		svcs[i] = tables[i].Service
	}
	sorted := make([]Table, len(tables))
	for i, j := range ServiceOrder(svcs) {
		sorted[i] = tables[j]
	}
	copy(tables, sorted)
}

// ServiceOrder is SortServices for a caller who keeps its services where
// they are: the indexes of svcs in ipvsadm's order.
func ServiceOrder(svcs []ipvs.ServiceEntry) []int {
	keys := make([]sortKey, len(svcs))
	for i := range svcs {
		keys[i] = serviceSortKey(&svcs[i])
	}
	return sortedOrder(keys)
}

// SortDestinations orders destinations as ipvsadm does: by address, then
// port, with the same wrapping comparison as SortServices. The family of
// the left-hand destination of each comparison decides whether one or four
// address words are compared.
func SortDestinations(dests []ipvs.DestinationEntry) {
	sorted := make([]ipvs.DestinationEntry, len(dests))
	for i, j := range destOrder(dests) {
		sorted[i] = dests[j]
	}
	copy(dests, sorted)
}

// destOrder returns the indexes of dests in ipvsadm's order.
func destOrder(dests []ipvs.DestinationEntry) []int {
	keys := make([]sortKey, len(dests))
	for i := range dests {
		d := &dests[i]
		keys[i].setAddr(family(d.Family, d.Addr), rawAddr(d.Addr), d.Port)
	}
	return sortedOrder(keys)
}

// sortKey holds what ipvsadm's comparators read of a service or a
// destination.
type sortKey struct {
	addr   [4]uint32 // the address words in host order
	fwmark uint32
	family int32 // zero for destinations, whose comparator ignores it
	proto  int32
	port   int32
	words  int32 // address words compared when this is the left-hand entry
}

func serviceSortKey(s *ipvs.ServiceEntry) sortKey {
	af := family(s.Family, s.Addr)
	k := sortKey{fwmark: s.FWMark, family: int32(af), proto: int32(s.Protocol)}
	k.setAddr(af, rawAddr(s.Addr), s.Port)
	return k
}

// setAddr sets the address words of an address laid out as the kernel's
// union, the port, and how many words count.
func (k *sortKey) setAddr(af ipvs.Family, raw [16]byte, port uint16) {
	k.port = int32(port)
	k.words = 1
	if af == ipvs.IPv6 {
		k.words = 4
	}
	for w := range k.addr {
		k.addr[w] = binary.BigEndian.Uint32(raw[4*w:])
	}
}

// sortedOrder returns the indexes of keys in the order glibc's qsort puts
// them with ipvsadm's comparator.
func sortedOrder(keys []sortKey) []int {
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	msort(order, make([]int, len(order)), func(a, b int) int32 { return compareKeys(&keys[a], &keys[b]) })
	return order
}

func compareServices(a, b *ipvs.ServiceEntry) int32 {
	ka, kb := serviceSortKey(a), serviceSortKey(b)
	return compareKeys(&ka, &kb)
}

// compareKeys is ipvsadm's comparator: fwmark, family and protocol (all
// zero for destinations), then the address words in host order, then the
// port, each difference wrapped to 32 bits. The left-hand entry's family
// decides how many address words count: all four for IPv6, else the first.
func compareKeys(a, b *sortKey) int32 {
	if r := int32(a.fwmark - b.fwmark); r != 0 {
		return r
	}
	if r := a.family - b.family; r != 0 {
		return r
	}
	if r := a.proto - b.proto; r != 0 {
		return r
	}
	for i := range a.words {
		if r := int32(a.addr[i] - b.addr[i]); r != 0 {
			return r
		}
	}
	return a.port - b.port
}

// msort is glibc's msort (msort.c, up to 2.36): split into n/2 and n-n/2,
// sort both halves, merge taking from the left while cmp(left, right) <= 0.
// tmp is scratch space as long as s. glibc only falls back to quicksort
// when it cannot allocate the temporary array (tables far larger than
// physical memory), which is not reproduced.
func msort[T any](s, tmp []T, cmp func(a, b T) int32) {
	n := len(s)
	if n <= 1 {
		return
	}
	n1 := n / 2
	left, right := s[:n1], s[n1:]
	msort(left, tmp, cmp)
	msort(right, tmp, cmp)

	out := tmp[:0]
	i, j := 0, 0
	for i < len(left) && j < len(right) {
		if cmp(left[i], right[j]) <= 0 {
			out = append(out, left[i])
			i++
		} else {
			out = append(out, right[j])
			j++
		}
	}
	// Whatever is left of the right half is already in place.
	out = append(out, left[i:]...)
	copy(s, out)
}
