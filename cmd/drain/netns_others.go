//go:build !linux

package drain

import "errors"

// CurrentNetNS needs Linux.
func CurrentNetNS() (NetNS, error) {
	return NetNS{}, errors.New("network namespaces need Linux")
}
