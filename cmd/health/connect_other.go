//go:build !linux

package health

import (
	"net/netip"
	"time"
)

// connector is Linux's; elsewhere tcp checks dial with package net.
type connector struct{}

func sharedConnector() *connector { return nil }

func (*connector) start(netip.AddrPort, time.Duration, func(error)) {}
