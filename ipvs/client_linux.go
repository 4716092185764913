package ipvs

import (
	"errors"
	"fmt"
	"os"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// readSize: the kernel sizes each dump chunk by the socket's largest read (at most 32 KiB) and re-walks the table per chunk, so small reads make large dumps quadratic.
const readSize = 32 << 10

// dialSocket opens the generic-netlink socket in the namespace cfg names.
// The namespace file it opened, if any, must stay open with the socket.
func dialSocket(cfg *Config) (*netlink.Conn, *os.File, error) {
	netns := cfg.NetNSFD
	var ns *os.File
	if cfg.NetNSPath != "" {
		f, err := os.Open(cfg.NetNSPath)
		if err != nil {
			return nil, nil, fmt.Errorf("network namespace: %w", err)
		}
		ns, netns = f, int(f.Fd())
	}
	nl, err := netlink.Dial(unix.NETLINK_GENERIC, &netlink.Config{NetNS: netns, MessageBufferSize: readSize})
	if err != nil {
		if ns != nil {
			ns.Close()
		}
		return nil, nil, err
	}
	return nl, ns, nil
}

// forceReadBuffer sets the socket's receive buffer with SO_RCVBUFFORCE,
// which ignores net.core.rmem_max but needs CAP_NET_ADMIN.
func forceReadBuffer(nl *netlink.Conn, size int) error {
	raw, err := nl.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size)
	})
	return errors.Join(err, serr)
}
