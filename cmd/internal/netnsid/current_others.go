//go:build !linux

package netnsid

import "errors"

// Current needs Linux.
func Current() (ID, error) { return ID{}, errors.New("network namespaces need Linux") }
