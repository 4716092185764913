package ipvs

import (
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// nlmsg builds one netlink message of type typ for request seq.
func nlmsg(typ uint16, seq uint32, payload ...byte) []byte {
	b := binary.NativeEndian.AppendUint32(nil, uint32(nlmsgHeaderLen+len(payload)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, 0)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0)
	b = append(b, payload...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func errnoPayload(code int32) []byte {
	return binary.NativeEndian.AppendUint32(nil, uint32(code))
}

func TestWalkDumpReplies(t *testing.T) {
	const family = 33
	reply := func(seq uint32, attrs ...byte) []byte {
		return nlmsg(family, seq, append([]byte{8, 1, 0, 0}, attrs...)...)
	}
	cat := func(ms ...[]byte) []byte {
		var b []byte
		for _, m := range ms {
			b = append(b, m...)
		}
		return b
	}
	tests := []struct {
		name      string
		datagram  []byte
		payloads  int
		done      bool
		wantErrno unix.Errno
		invalid   bool
	}{
		{name: "two replies, more to come", datagram: cat(reply(7, 4, 0, 1, 0), reply(7)), payloads: 2},
		{name: "replies and done", datagram: cat(reply(7), nlmsg(unix.NLMSG_DONE, 7, errnoPayload(0)...)), payloads: 1, done: true},
		{name: "done without errno", datagram: nlmsg(unix.NLMSG_DONE, 7), done: true},
		{name: "done with an errno", datagram: nlmsg(unix.NLMSG_DONE, 7, errnoPayload(-int32(unix.EMSGSIZE))...), done: true, wantErrno: unix.EMSGSIZE},
		{name: "dump refused", datagram: nlmsg(unix.NLMSG_ERROR, 7, errnoPayload(-int32(unix.EPERM))...), done: true, wantErrno: unix.EPERM},
		{name: "other requests skipped", datagram: cat(reply(6), nlmsg(unix.NLMSG_ERROR, 5, errnoPayload(-1)...), reply(7)), payloads: 1},
		{name: "short error", datagram: nlmsg(unix.NLMSG_ERROR, 7), done: true, invalid: true},
		{name: "length past the end", datagram: reply(7)[:18], done: true, invalid: true},
		{name: "stray bytes", datagram: cat(reply(7), []byte{1, 2, 3}), payloads: 1, done: true, invalid: true},
		{name: "no generic header", datagram: nlmsg(family, 7, 1, 2), done: true, invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payloads := 0
			done, err := walkDumpReplies(tt.datagram, 7, func([]byte) error { payloads++; return nil })
			if done != tt.done || payloads != tt.payloads {
				t.Errorf("done %v after %d payloads; want %v after %d", done, payloads, tt.done, tt.payloads)
			}
			switch {
			case tt.wantErrno != 0:
				if !errors.Is(err, tt.wantErrno) {
					t.Errorf("err = %v; want errno %v", err, tt.wantErrno)
				}
			case tt.invalid:
				if !errors.Is(err, errInvalidReply) {
					t.Errorf("err = %v; want an invalid reply", err)
				}
			case err != nil:
				t.Errorf("err = %v; want none", err)
			}
		})
	}
}

func TestWalkDumpRepliesStopsOnDecodeError(t *testing.T) {
	b := append(nlmsg(33, 7, 8, 1, 0, 0), nlmsg(33, 7, 8, 1, 0, 0)...)
	calls := 0
	boom := errors.New("boom")
	done, err := walkDumpReplies(b, 7, func([]byte) error { calls++; return boom })
	if !done || !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("done %v, err %v after %d calls; want the decode error after 1", done, err, calls)
	}
}
