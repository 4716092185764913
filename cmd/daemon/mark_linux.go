package daemon

import "syscall"

// markControl sets a socket's firewall mark (SO_MARK) before it connects.
func markControl(mark uint32) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_MARK, int(mark))
		}); cerr != nil {
			return cerr
		}
		return err
	}
}
