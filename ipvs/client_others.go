//go:build !linux

package ipvs

import (
	"errors"
	"os"
	"runtime"

	"github.com/mdlayher/netlink"
)

// dialSocket fails: IPVS and netlink exist only on Linux.
func dialSocket(*Config) (*netlink.Conn, *os.File, error) {
	return nil, nil, needsLinux{runtime.GOOS}
}

func forceReadBuffer(*netlink.Conn, int) error {
	return errors.New("SO_RCVBUFFORCE needs Linux")
}
