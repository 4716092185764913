//go:build !linux

package daemon

import (
	"errors"
	"syscall"
)

// markControl fails: firewall marks are Linux's.
func markControl(uint32) func(network, address string, c syscall.RawConn) error {
	return func(string, string, syscall.RawConn) error {
		return errors.New("via_vip checks need Linux (SO_MARK)")
	}
}
