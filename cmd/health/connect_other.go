//go:build !linux

package health

import (
	"errors"
	"net/netip"
	"time"
)

// connector is Linux's; elsewhere tcp checks run in workers with package
// net, and a Scheduler has none.
type connector struct{}

func newConnector() (*connector, error) { return nil, errors.New("no connector here") }

func (*connector) start(netip.AddrPort, time.Duration, func(error)) {}
func (*connector) underWay() bool                                   { return false }
func (*connector) reap(time.Time)                                   {}
func (*connector) close()                                           {}
