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
	mergeSort(tables, func(a, b *Table) int32 { return compareServices(&a.Service, &b.Service) })
}

// SortDestinations orders destinations as ipvsadm does: by address, then
// port, with the same wrapping comparison as SortServices. The family of
// the left-hand destination of each comparison decides whether one or four
// address words are compared.
func SortDestinations(dests []ipvs.DestinationEntry) {
	mergeSort(dests, compareDestinations)
}

func compareServices(a, b *ipvs.ServiceEntry) int32 {
	if r := int32(a.FWMark - b.FWMark); r != 0 {
		return r
	}
	afA, afB := family(a.Family, a.Addr), family(b.Family, b.Addr)
	if r := int32(afA) - int32(afB); r != 0 {
		return r
	}
	if r := int32(a.Protocol) - int32(b.Protocol); r != 0 {
		return r
	}
	if r := compareAddrs(afA, rawAddr(a.Addr), rawAddr(b.Addr)); r != 0 {
		return r
	}
	return int32(a.Port) - int32(b.Port)
}

func compareDestinations(a, b *ipvs.DestinationEntry) int32 {
	if r := compareAddrs(family(a.Family, a.Addr), rawAddr(a.Addr), rawAddr(b.Addr)); r != 0 {
		return r
	}
	return int32(a.Port) - int32(b.Port)
}

// compareAddrs compares the address words in host order, each difference
// wrapped to 32 bits: all four words for IPv6, the first one otherwise.
func compareAddrs(af ipvs.Family, a, b [16]byte) int32 {
	words := 1
	if af == ipvs.IPv6 {
		words = 4
	}
	for i := 0; i < words; i++ {
		wa := binary.BigEndian.Uint32(a[4*i:])
		wb := binary.BigEndian.Uint32(b[4*i:])
		if r := int32(wa - wb); r != 0 {
			return r
		}
	}
	return 0
}

// mergeSort sorts s the way glibc's qsort (msort.c, up to 2.36) does: split
// into n/2 and n-n/2, sort both halves, merge taking from the left while
// cmp(left, right) <= 0. glibc only falls back to quicksort when it cannot
// allocate the temporary array (tables far larger than physical memory),
// which is not reproduced.
func mergeSort[T any](s []T, cmp func(a, b *T) int32) {
	if len(s) < 2 {
		return
	}
	tmp := make([]T, len(s))
	msort(s, tmp, cmp)
}

func msort[T any](s, tmp []T, cmp func(a, b *T) int32) {
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
		if cmp(&left[i], &right[j]) <= 0 {
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
