package hostsetup

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lvsadm/lvsadm/cmd/internal/netnsid"
	"github.com/lvsadm/lvsadm/sysctl"
)

// DefaultStateDir holds one state file per network namespace. /run is
// cleared at boot, which is right: the kernel values recorded there do not
// survive a reboot either.
const DefaultStateDir = "/run/lvsadm"

const stateVersion = 1

// netnsID identifies a network namespace (see netnsid.ID).
type netnsID = netnsid.ID

// state is the content of one state file: what lvsadm changed in one network
// namespace, per role, so that down can put it back.
type state struct {
	Version int      `json:"version"`
	NetNS   netnsID  `json:"netns"`
	Entries []*entry `json:"entries"`
}

// entry is one role that is up: director, realserver, or one of the knob
// commands (arp, forward, redirects, rpfilter).
type entry struct {
	Role     string    `json:"role"`
	Settings settings  `json:"settings"`
	Since    time.Time `json:"since"`
	// Wants lists the sysctl values the role relies on; down of another
	// role leaves these alone and hands their record over.
	Wants []want `json:"wants,omitempty"`
	// Changes are in the order they were made; down undoes them backwards.
	Changes []change `json:"changes"`
}

type want struct {
	Key    sysctl.Key `json:"key"`
	Accept []string   `json:"accept"`
}

// Kinds of change.
const (
	changeSysctl     = "sysctl"
	changeAddress    = "address"
	changeLinkUp     = "link-up"
	changeLinkCreate = "link-create"
)

// change is one thing up did.
type change struct {
	Kind string `json:"kind"`
	// Status is empty for a change made and recorded, else statusPending
	// or statusUndoing (see journal.go).
	Status string `json:"status,omitempty"`

	// sysctl: Key held Before and lvsadm wrote After; Effects are the other
	// keys the kernel changed as a consequence of that write.
	Key     sysctl.Key `json:"key,omitempty"`
	Before  string     `json:"before,omitempty"`
	After   string     `json:"after,omitempty"`
	Effects []effect   `json:"effects,omitempty"`

	// address: the address added. link-up, link-create: the link.
	Address string `json:"address,omitempty"`
	Link    string `json:"link,omitempty"`
	Label   string `json:"label,omitempty"`
}

type effect struct {
	Key    sysctl.Key `json:"key"`
	Before string     `json:"before"`
	After  string     `json:"after"`
}

func (s *state) entry(role string) *entry {
	for _, e := range s.Entries {
		if e.Role == role {
			return e
		}
	}
	return nil
}

func (s *state) remove(role string) {
	kept := s.Entries[:0]
	for _, e := range s.Entries {
		if e.Role != role {
			kept = append(kept, e)
		}
	}
	s.Entries = kept
}

// validate rejects a file that decodes but cannot be acted on safely: down
// writes only keys of lvsadm's own key table, integer values, addresses it
// can have added and the one link it creates.
func (s *state) validate() error {
	if s.Version != stateVersion {
		return fmt.Errorf("version %d, this lvsadm reads version %d", s.Version, stateVersion)
	}
	seen := map[string]bool{}
	for _, e := range s.Entries {
		if e == nil || !knownRole(e.Role) {
			return errors.New("an entry has an unknown role")
		}
		if seen[e.Role] {
			return fmt.Errorf("role %s recorded twice", e.Role)
		}
		seen[e.Role] = true
		if err := e.Settings.validate(); err != nil {
			return fmt.Errorf("role %s: settings: %w", e.Role, err)
		}
		for _, w := range e.Wants {
			if err := sysctl.CheckHostSetupKey(w.Key); err != nil {
				return fmt.Errorf("role %s: wants: %w", e.Role, err)
			}
		}
		for _, c := range e.Changes {
			if err := c.validate(); err != nil {
				return fmt.Errorf("role %s: %w", e.Role, err)
			}
		}
	}
	return nil
}

func (s settings) validate() error {
	if !slices.Contains([]string{"", modeNAT, modeDR, modeTUN}, s.Mode) ||
		!slices.Contains([]string{"", scopeAll, scopeIface}, s.ARPScope) ||
		!slices.Contains([]string{"", rpLoose, rpOff}, s.RPFilter) {
		return errors.New("unknown mode, ARP scope or rp_filter mode")
	}
	if _, err := s.vips(); err != nil {
		return err
	}
	for _, name := range append([]string{s.Iface}, s.Ifaces...) {
		if name == "" {
			continue
		}
		if err := sysctl.ValidInterfaceName(name); err != nil {
			return err
		}
	}
	if len(s.Label) > 15 || strings.ContainsAny(s.Label, " \t\n/") {
		return fmt.Errorf("label %q", s.Label)
	}
	return nil
}

// validInt refuses a recorded value that is not a decimal integer: every key
// of the table holds one.
func validInt(k sysctl.Key, v string) error {
	if _, err := strconv.Atoi(v); err != nil {
		return fmt.Errorf("sysctl %s: value %q is not an integer", k, v)
	}
	return nil
}

func (c change) validate() error {
	switch {
	case c.Status == "", c.Status == statusPending, c.Status == statusUndoing && c.Kind == changeSysctl:
	default:
		return fmt.Errorf("%s change with unknown status %q", c.Kind, c.Status)
	}
	switch c.Kind {
	case changeSysctl:
		if err := sysctl.CheckHostSetupKey(c.Key); err != nil {
			return err
		}
		if err := validInt(c.Key, c.Before); err != nil {
			return err
		}
		if err := validInt(c.Key, c.After); err != nil {
			return err
		}
		for _, e := range c.Effects {
			if err := sysctl.CheckHostSetupKey(e.Key); err != nil {
				return fmt.Errorf("side effect of %s: %w", c.Key, err)
			}
			if err := validInt(e.Key, e.Before); err != nil {
				return fmt.Errorf("side effect of %s: %w", c.Key, err)
			}
			// After is unknown while the write is pending, and for a key
			// that vanished before it could be read.
			if e.After != "" {
				if err := validInt(e.Key, e.After); err != nil {
					return fmt.Errorf("side effect of %s: %w", c.Key, err)
				}
			}
		}
	case changeAddress:
		p, err := netip.ParsePrefix(c.Address)
		if err != nil || p.Addr().Zone() != "" || p.Addr().Is4In6() {
			return fmt.Errorf("bad address %q", c.Address)
		}
		if err := sysctl.ValidInterfaceName(c.Link); err != nil {
			return fmt.Errorf("address %s: %w", c.Address, err)
		}
		if c.Label != "" {
			if err := validLabel(c.Link, c.Label); err != nil {
				return fmt.Errorf("address %s on %s: %w", c.Address, c.Link, err)
			}
		}
	case changeLinkUp, changeLinkCreate:
		if c.Link != tunnelLink {
			return fmt.Errorf("%s change for %q: lvsadm creates and brings up only %s", c.Kind, c.Link, tunnelLink)
		}
	default:
		return fmt.Errorf("unknown change kind %q", c.Kind)
	}
	return nil
}
