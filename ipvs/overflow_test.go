package ipvs

import (
	"runtime"
	"slices"
	"testing"
	"unsafe"
)

func TestOverflowKeepsOrder(t *testing.T) {
	for _, tc := range []struct{ prefix, capacity, n int }{
		{0, 0, 0}, {0, 0, 1}, {0, 0, 10000}, {3, 3, 5}, {2, 10, 8}, {2, 10, 9}, {0, 100, 5000},
	} {
		dst := make([]int, tc.prefix, tc.capacity)
		want := slices.Clone(dst)
		var more overflow[int]
		for i := range tc.n {
			dst = more.add(dst, i+1)
			want = append(want, i+1)
		}
		if got := more.appendTo(dst); !slices.Equal(got, want) {
			t.Errorf("%+v: got %d values, want %d (first difference at %d)", tc, len(got), len(want), firstDifference(got, want))
		}
		if more.n != 0 || more.chunks != nil {
			t.Errorf("%+v: appendTo left %d values in %d chunks", tc, more.n, len(more.chunks))
		}
	}
}

func firstDifference(a, b []int) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// A large service dump must not allocate what growing a slice by append
// does (about five times the final size); chunks plus one copy are two.
func TestOverflowAllocatesAboutTwiceTheResult(t *testing.T) {
	const n = 10000
	var result []ServiceEntry
	allocated := bytesAllocated(func() {
		var dst []ServiceEntry
		var more overflow[ServiceEntry]
		for range n {
			dst = more.add(dst, ServiceEntry{})
		}
		result = more.appendTo(dst)
	})
	final := uint64(cap(result)) * uint64(unsafe.Sizeof(ServiceEntry{}))
	if len(result) != n || allocated > final*5/2 {
		t.Errorf("%d services: %d bytes allocated for a result of %d bytes, want at most 2.5 times", len(result), allocated, final)
	}
}

func bytesAllocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
