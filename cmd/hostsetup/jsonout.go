package hostsetup

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The JSON forms of 'ROLE status' and 'vip list' (-o json): the same
// information as their tables, under the field names docs/config.md
// documents. Fields are added, never renamed; jsonVersion changes if one
// ever has to change meaning.
const jsonVersion = 1

// Output formats of status and vip list.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// checkOutput refuses an -o value other than table and json.
func checkOutput(o string) error {
	if o != outputTable && o != outputJSON {
		return usagef("-o %s: want table or json", o)
	}
	return nil
}

// statusJSON is 'ROLE status -o json'.
type statusJSON struct {
	SchemaVersion int    `json:"schema_version"`
	Role          string `json:"role"`
	// Recorded is what 'ROLE up' recorded; null if the role is not up.
	Recorded *recordedJSON `json:"recorded"`
	// Checking are the settings checked: the recorded ones unless options
	// were given.
	Checking settingsJSON `json:"checking"`
	Checks   []checkJSON  `json:"checks"`
	// Problems explain the checks that failed, in order; status exits 3
	// if there are any.
	Problems []string `json:"problems"`
}

type recordedJSON struct {
	Since    time.Time    `json:"since"`
	Settings settingsJSON `json:"settings"`
	Changes  int          `json:"changes"`
	// Unconfirmed changes are ones an interrupted up or down left.
	Unconfirmed int `json:"unconfirmed"`
}

// settingsJSON are a role's settings as its options.
type settingsJSON struct {
	Flags      string   `json:"flags"` // as options ("--mode dr --vip 192.0.2.10/32"); "" for none
	Mode       string   `json:"mode,omitempty"`
	VIPs       []string `json:"vips,omitempty"`
	Iface      string   `json:"iface,omitempty"`     // director --iface
	Label      string   `json:"label,omitempty"`     // --label
	Ifaces     []string `json:"ifaces,omitempty"`    // --iface of the other roles
	RSIfaces   []string `json:"rs_ifaces,omitempty"` // director --rs-iface
	ARPScope   string   `json:"arp_scope,omitempty"`
	RPFilter   string   `json:"rp_filter,omitempty"`
	IPv6       bool     `json:"ipv6,omitempty"`
	NoAnnounce bool     `json:"no_announce,omitempty"`
}

func settingsOf(role string, s settings) settingsJSON {
	out := settingsJSON{Flags: strings.Join(flagWords(role, s), " "), Mode: s.Mode, VIPs: s.VIPs, Iface: s.Iface, Label: s.Label,
		ARPScope: s.ARPScope, RPFilter: s.RPFilter, IPv6: s.IPv6, NoAnnounce: s.NoAnnounce}
	if role == roleDirector {
		out.RSIfaces = s.Ifaces
	} else {
		out.Ifaces = s.Ifaces
	}
	return out
}

// checkJSON is one row of the status table: a *sysctlCheckJSON,
// *vipCheckJSON or *linkCheckJSON, told apart by their kind.
type checkJSON any

// verdict ends every kind of check: whether the value is right, and if not
// why.
type verdict struct {
	OK      bool   `json:"ok"`
	Problem string `json:"problem,omitempty"`
}

// sysctlCheckJSON is a /proc/sys value. Interface is a conf key's
// interface (all, default or a name); Own is its value there, and All
// conf/all's where the kernel combines the two. They are left out where
// the table has no cell, and null where it shows "-" (not readable).
// Effective is the value the kernel acts on, null if it could not be read
// (ReadError says why: missing or unreadable).
type sysctlCheckJSON struct {
	Kind      string `json:"kind"` // sysctl
	Key       string `json:"key"`  // in sysctl(8) notation
	Interface string `json:"interface,omitempty"`
	All       **int  `json:"all,omitzero"`
	Own       **int  `json:"own,omitzero"`
	Effective *int   `json:"effective"`
	ReadError string `json:"read_error,omitempty"`
	Needed    []int  `json:"needed"` // the values that are right
	verdict
}

// vipCheckJSON is a VIP: where it must be (no Interface: anywhere on the
// host, at any prefix length), as which prefix length and label, whether
// it must be there alone, and where it is.
type vipCheckJSON struct {
	Kind         string        `json:"kind"` // vip
	VIP          string        `json:"vip"`
	Interface    string        `json:"interface,omitempty"`
	PrefixLength *int          `json:"prefix_length,omitempty"`
	Label        string        `json:"label,omitempty"`
	Exclusive    bool          `json:"exclusive"`
	Found        []addressJSON `json:"found"`
	verdict
}

// linkCheckJSON is an interface that must be up.
type linkCheckJSON struct {
	Kind      string `json:"kind"` // link
	Interface string `json:"interface"`
	State     string `json:"state"` // up, down or missing
	verdict
}

// addressJSON is an address on an interface; Label is omitted if the
// address has none of its own.
type addressJSON struct {
	Address   string `json:"address"` // with its prefix length
	Interface string `json:"interface"`
	Label     string `json:"label,omitempty"`
	Role      string `json:"role,omitempty"` // vip list: the lvsadm role that added it
}

// vipListJSON is 'vip list -o json'.
type vipListJSON struct {
	SchemaVersion int           `json:"schema_version"`
	Addresses     []addressJSON `json:"addresses"`
}

// verdictOf is the verdict of a row whose problem is known.
func verdictOf(problem string) verdict { return verdict{OK: problem == "", Problem: problem} }

// cellValue is a table cell's number for sysctlCheckJSON: nil for an
// empty cell, a nil *int for one that is not a number ("-").
func cellValue(cell string) **int {
	if cell == "" {
		return nil
	}
	var p *int
	if v, err := strconv.Atoi(strings.TrimSpace(cell)); err == nil {
		p = &v
	}
	return &p
}

// writeJSON prints v indented, with a final newline.
func (r *runner) writeJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(r.out, "%s\n", b)
	return err
}
