package sysctl

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// DefaultRoot is where the kernel exposes the sysctl tree.
const DefaultRoot = "/proc/sys"

// FS reads and writes sysctls below a root directory. The zero value and
// New("") use DefaultRoot; tests point it at a temporary copy of the tree.
type FS struct {
	root string
}

// New returns an FS rooted at root, or at DefaultRoot if root is empty.
func New(root string) FS {
	return FS{root: root}
}

// Root returns the directory the FS reads from.
func (fs FS) Root() string {
	if fs.root == "" {
		return DefaultRoot
	}
	return fs.root
}

// Path returns the file that holds k, or an error for a key that could leave
// the root.
func (fs FS) Path(k Key) (string, error) {
	if err := k.validate(); err != nil {
		return "", fmt.Errorf("sysctl %q: %w", string(k), err)
	}
	return filepath.Join(fs.Root(), filepath.FromSlash(string(k))), nil
}

// Read returns the value of k as the kernel prints it, without the final
// newline. A missing key gives an error matching fs.ErrNotExist.
func (fs FS) Read(k Key) (string, error) {
	p, err := fs.Path(k)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// ReadInt reads k and parses it as a decimal integer.
func (fs FS) ReadInt(k Key) (int, error) {
	s, err := fs.Read(k)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("sysctl %s: value %q is not an integer", k, s)
	}
	return n, nil
}

// Write stores value followed by a newline in k with a single write(2). It
// never creates a key: a missing key gives an error matching fs.ErrNotExist.
func (fs FS) Write(k Key, value string) error {
	p, err := fs.Path(k)
	if err != nil {
		return err
	}
	if strings.Contains(value, "\n") {
		return fmt.Errorf("sysctl %s: value %q contains a newline", k, value)
	}
	// O_TRUNC does nothing on /proc/sys, but a plain file (tests) needs it.
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	n, err := f.Write([]byte(value + "\n"))
	if err == nil && n != len(value)+1 {
		err = io.ErrShortWrite
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// Exists reports whether k is present (for interface keys: whether the
// interface exists and has that family enabled).
func (fs FS) Exists(k Key) bool {
	p, err := fs.Path(k)
	if err != nil {
		return false
	}
	_, err = os.Stat(p)
	return err == nil
}

// Interfaces lists the interfaces in the IPv4 (family 4) or IPv6 (family 6)
// conf tree, sorted, without the all and default pseudo-interfaces.
func (fs FS) Interfaces(family int) ([]string, error) {
	var dir Key
	switch family {
	case 4:
		dir = Key(strings.TrimSuffix(ipv4Conf, "/"))
	case 6:
		dir = Key(strings.TrimSuffix(ipv6Conf, "/"))
	default:
		return nil, fmt.Errorf("sysctl: unknown address family %d", family)
	}
	p, err := fs.Path(dir)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(p)
	if errors.Is(err, os.ErrNotExist) && family == 6 {
		// IPv6 disabled on the kernel command line: no tree, no interfaces.
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); e.IsDir() && n != All && n != Default {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}
