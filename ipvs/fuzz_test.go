package ipvs

import (
	"testing"

	"github.com/mdlayher/netlink"
)

// decoders lists every decode function, so each fuzz target below decodes
// what its name says.
var decoders = map[string]func([]byte) error{
	"service": func(b []byte) error {
		return decodeWith(b, func(ad *netlink.AttributeDecoder) error { _, err := decodeService(ad); return err })
	},
	"destination": func(b []byte) error {
		return decodeWith(b, func(ad *netlink.AttributeDecoder) error { _, err := decodeDestination(ad, IPv4); return err })
	},
	"destination6": func(b []byte) error {
		return decodeWith(b, func(ad *netlink.AttributeDecoder) error { _, err := decodeDestination(ad, IPv6); return err })
	},
	"daemon": func(b []byte) error {
		return decodeWith(b, func(ad *netlink.AttributeDecoder) error { _, err := decodeDaemon(ad); return err })
	},
	"stats": func(b []byte) error {
		var st Stats
		return decodeWith(b, decodeStats(false, &st))
	},
	"stats64": func(b []byte) error {
		var st Stats
		return decodeWith(b, decodeStats(true, &st))
	},
}

func decodeWith(b []byte, fn func(*netlink.AttributeDecoder) error) error {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return err
	}
	if err := fn(ad); err != nil {
		return err
	}
	return ad.Err()
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
