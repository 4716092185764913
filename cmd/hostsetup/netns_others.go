//go:build !linux

package hostsetup

func currentNetNS() (netnsID, error) { return netnsID{}, errNeedsLinux }
