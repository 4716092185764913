package ipvs

import (
	"bytes"
	"testing"

	"github.com/mdlayher/netlink"
)

// decoders lists every decode function, so each fuzz target below decodes
// what its name says.
var decoders = map[string]func([]byte) error{
	"service":      func(b []byte) error { _, err := decodeService(attrReader{b: b}); return err },
	"destination":  func(b []byte) error { _, err := decodeDestination(attrReader{b: b}, IPv4); return err },
	"destination6": func(b []byte) error { _, err := decodeDestination(attrReader{b: b}, IPv6); return err },
	"daemon":       func(b []byte) error { _, err := decodeDaemon(attrReader{b: b}); return err },
	"stats":        func(b []byte) error { _, err := decodeStats(attrReader{b: b}, false); return err },
	"stats64":      func(b []byte) error { _, err := decodeStats(attrReader{b: b}, true); return err },
}

func fuzzDecoder(f *testing.F, name string) {
	decode := decoders[name]
	// Seeds: a valid reply nest and some truncations of it.
	seed := attrs(f, func(ae *netlink.AttributeEncoder) { replyServiceAttrs(ae) })
	ad, _ := netlink.NewAttributeDecoder(seed)
	for ad.Next() {
		inner := ad.Bytes()
		f.Add(inner)
		f.Add(inner[:len(inner)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{4, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = decode(b) // must not panic
	})
}

func FuzzDecodeService(f *testing.F)      { fuzzDecoder(f, "service") }
func FuzzDecodeDestination(f *testing.F)  { fuzzDecoder(f, "destination") }
func FuzzDecodeDestination6(f *testing.F) { fuzzDecoder(f, "destination6") }
func FuzzDecodeDaemon(f *testing.F)       { fuzzDecoder(f, "daemon") }
func FuzzDecodeStats(f *testing.F)        { fuzzDecoder(f, "stats") }
func FuzzDecodeStats64(f *testing.F)      { fuzzDecoder(f, "stats64") }

// FuzzAttrReader checks the in-place attribute walk against mdlayher's
// decoder: wherever both accept the input, they see the same attributes.
func FuzzAttrReader(f *testing.F) {
	f.Add(attrs(f, func(ae *netlink.AttributeEncoder) { replyServiceAttrs(ae) }))
	f.Add([]byte{5, 0, 1, 0, 7, 0, 0, 0})
	f.Add([]byte{4, 0, 1, 0, 8, 0, 2, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		want, werr := netlink.UnmarshalAttributes(b)
		var got []netlink.Attribute
		r := attrReader{b: b}
		for r.next() {
			got = append(got, netlink.Attribute{Type: r.typ, Data: r.val})
		}
		if werr != nil || r.err != nil {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("attrReader saw %d attributes, mdlayher %d", len(got), len(want))
		}
		for i := range got {
			if got[i].Type != want[i].Type&attrTypeMask || !bytes.Equal(got[i].Data, want[i].Data) {
				t.Fatalf("attribute %d: attrReader %d %x, mdlayher %d %x", i, got[i].Type, got[i].Data, want[i].Type, want[i].Data)
			}
		}
	})
}

// FuzzWalkDumpReplies feeds arbitrary datagrams to the dump reader: no panic,
// and every payload handed on lies inside the datagram.
func FuzzWalkDumpReplies(f *testing.F) {
	f.Add([]byte{20, 0, 0, 0, 3, 0, 2, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{24, 0, 0, 0, 33, 0, 2, 0, 7, 0, 0, 0, 0, 0, 0, 0, 8, 1, 0, 0, 4, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		total := 0
		walkDumpReplies(b, 7, func(p []byte) error {
			total += len(p)
			return nil
		})
		if total > len(b) {
			t.Fatalf("payloads of %d bytes from a %d-byte datagram", total, len(b))
		}
	})
}
