package format

import (
	"encoding/binary"
	"net/netip"

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
	if len(tables) < 2 {
		return
	}
	keys := make([]sortKey, len(tables))
	for i := range tables {
		keys[i] = serviceSortKey(&tables[i].Service)
	}
	order := make([]int32, 2*len(tables))
	permute(tables, sortOrder(keys, order[:len(tables)], order[len(tables):]))
}

// ServiceOrder is SortServices for a caller who keeps its services where
// they are: the indexes of svcs in ipvsadm's order.
func ServiceOrder(svcs []ipvs.ServiceEntry) []int32 {
	keys := make([]sortKey, len(svcs))
	for i := range svcs {
		keys[i] = serviceSortKey(&svcs[i])
	}
	order := make([]int32, 2*len(svcs))
	return sortOrder(keys, order[:len(svcs)], order[len(svcs):])
}

// SortDestinations orders destinations as ipvsadm does: by address, then
// port, with the same wrapping comparison as SortServices. The family of
// the left-hand destination of each comparison decides whether one or four
// address words are compared.
func SortDestinations(dests []ipvs.DestinationEntry) {
	if len(dests) < 2 {
		return
	}
	permute(dests, sortedDests(dests, nil, nil, nil))
}

// sortKey holds what ipvsadm's comparators read of a service or a
// destination, taken out once so that comparisons read a few words.
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
	k.setAddr(af, s.Addr, s.Port)
	return k
}

// setAddr sets the address words as rawAddr lays them out, the port, and
// how many words count.
func (k *sortKey) setAddr(af ipvs.Family, addr netip.Addr, port uint16) {
	raw := rawAddr(addr)
	k.setRaw(af, &raw, port)
}

// setRaw is setAddr for an address already laid out as the kernel's union.
func (k *sortKey) setRaw(af ipvs.Family, raw *[16]byte, port uint16) {
	k.port = int32(port)
	k.words = 1
	if af == ipvs.IPv6 {
		k.words = 4
	}
	for w := range k.addr {
		k.addr[w] = binary.BigEndian.Uint32(raw[4*w:])
	}
}

// sortedDests returns the indexes of dests in ipvsadm's order. It works in
// keys, order and tmp when they have room (a caller's arrays on the stack).
func sortedDests(dests []ipvs.DestinationEntry, keys []sortKey, order, tmp []int32) []int32 {
	keys, order, tmp = sortScratch(len(dests), keys, order, tmp)
	for i := range dests {
		d := &dests[i]
		keys[i].setAddr(family(d.Family, d.Addr), d.Addr, d.Port)
	}
	return sortOrder(keys, order, tmp)
}

// sortedProcDests is sortedDests for destinations read from /proc.
func sortedProcDests(dests []ipvs.ProcDestination, keys []sortKey, order, tmp []int32) []int32 {
	if o, ok := sortedProcDests4(dests, order); ok {
		return o
	}
	keys, order, tmp = sortScratch(len(dests), keys, order, tmp)
	for i := range dests {
		d := &dests[i]
		keys[i].setRaw(d.Family(), &d.Addr, d.Port)
	}
	return sortOrder(keys, order, tmp)
}

// sortScratch returns n zero keys and room for n indexes twice, in the
// given slices when they have room. The callers fill the keys in a loop of
// their own rather than through a function value, which would move the
// caller's arrays to the heap for every service listed.
func sortScratch(n int, keys []sortKey, order, tmp []int32) ([]sortKey, []int32, []int32) {
	if cap(keys) < n {
		keys = make([]sortKey, n)
	}
	if cap(order) < n {
		order = make([]int32, n)
	}
	if cap(tmp) < n {
		tmp = make([]int32, n)
	}
	keys = keys[:n]
	clear(keys)
	return keys, order[:n], tmp[:n]
}

// sortedProcDests4 sorts the common case cheaply: up to sortOnStack IPv4
// destinations whose addresses lie within 2^31 of each other, so that
// compareKeys cannot wrap and orders them by address, then port, as plain
// numbers. Each becomes one number, address, port and index, and those
// sort by insertion; the index makes ties keep their order, as glibc's
// merge sort does. It reports false for anything else.
func sortedProcDests4(dests []ipvs.ProcDestination, order []int32) ([]int32, bool) {
	n := len(dests)
	if n > sortOnStack || cap(order) < n {
		return nil, false
	}
	var keys [sortOnStack]uint64
	lo, hi := uint32(1<<32-1), uint32(0)
	for i := range dests {
		d := &dests[i]
		if d.IPv6 {
			return nil, false
		}
		addr := binary.BigEndian.Uint32(d.Addr[:4])
		lo, hi = min(lo, addr), max(hi, addr)
		keys[i] = uint64(addr)<<32 | uint64(d.Port)<<16 | uint64(i)
	}
	if n > 0 && hi-lo >= 1<<31 {
		return nil, false
	}
	for i := 1; i < n; i++ {
		x, j := keys[i], i
		for ; j > 0 && keys[j-1] > x; j-- {
			keys[j] = keys[j-1]
		}
		keys[j] = x
	}
	order = order[:n]
	for i := range order {
		order[i] = int32(keys[i] & 0xffff)
	}
	return order, true
}

// sortOrder fills order with the indexes of keys in sorted order; tmp is
// scratch space as long.
func sortOrder(keys []sortKey, order, tmp []int32) []int32 {
	for i := range order {
		order[i] = int32(i)
	}
	if len(keys) < 2 {
		return order
	}
	if len(keys) <= insertionSortMax && consistent(keys) {
		// Any stable sort gives glibc's order when the comparator is
		// consistent; for a service's few destinations insertion sort
		// does the least work.
		for i := 1; i < len(order); i++ {
			x, j := order[i], i
			for ; j > 0 && compareKeys(&keys[order[j-1]], &keys[x]) > 0; j-- {
				order[j] = order[j-1]
			}
			order[j] = x
		}
		return order
	}
	msort(order, tmp, func(a, b int32) int32 { return compareKeys(&keys[a], &keys[b]) })
	return order
}

// insertionSortMax is the most keys sorted by insertion.
const insertionSortMax = 16

// consistent reports whether compareKeys orders keys as plain comparison
// would: every key compares the same number of address words, and in each
// field that compareKeys wraps (fwmark, address words) the values lie
// within 2^31 of each other, so no difference wraps.
func consistent(keys []sortKey) bool {
	lo, hi := keys[0], keys[0]
	for i := range keys[1:] {
		k := &keys[i+1]
		if k.words != lo.words {
			return false
		}
		lo.fwmark, hi.fwmark = min(lo.fwmark, k.fwmark), max(hi.fwmark, k.fwmark)
		for w := range k.words {
			lo.addr[w], hi.addr[w] = min(lo.addr[w], k.addr[w]), max(hi.addr[w], k.addr[w])
		}
	}
	if hi.fwmark-lo.fwmark >= 1<<31 {
		return false
	}
	for w := range lo.words {
		if hi.addr[w]-lo.addr[w] >= 1<<31 {
			return false
		}
	}
	return true
}

// permute puts s in sorted order: entry i becomes the one that was at
// order[i]. It moves each entry once, and leaves order changed.
func permute[T any](s []T, order []int32) {
	for i := range order {
		if int(order[i]) == i {
			continue
		}
		saved := s[i]
		j := i
		for {
			src := int(order[j])
			order[j] = int32(j) // placed
			if src == i {
				s[j] = saved
				break
			}
			s[j] = s[src]
			j = src
		}
	}
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

// mergeSort sorts s the way glibc's qsort (msort.c, up to 2.36) does; see
// msort. cmp gets pointers, for element types too large to copy.
func mergeSort[T any](s []T, cmp func(a, b *T) int32) {
	if len(s) < 2 {
		return
	}
	msort(s, make([]T, len(s)), func(a, b T) int32 { return cmp(&a, &b) })
}

// msort is glibc's msort: split into n/2 and n-n/2, sort both halves,
// merge taking from the left while cmp(left, right) <= 0. tmp is scratch
// space as long as s. glibc only falls back to quicksort when it cannot
// allocate the temporary array (tables far larger than physical memory),
// which is not reproduced. cmp takes values so that s can stay on the
// caller's stack.
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
