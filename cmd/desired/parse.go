package desired

import (
	"bytes"
	"fmt"
	"regexp"

	"github.com/lvsadm/lvsadm/cmd/compat"
)

// Format is a way of writing a table.
type Format string

// Formats.
const (
	Rules Format = "rules" // ipvsadm -S
	YAML  Format = "yaml"
	JSON  Format = "json"
)

// ParseFormat reads a --format or -o value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Rules, YAML, JSON:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (want rules, yaml or json)", s)
}

// rulesLine is how a line of ipvsadm rules starts: a short or a long
// option (and not YAML's "---").
var rulesLine = regexp.MustCompile(`^\s*(ipvsadm\s+)?(-[A-Za-z]|--[A-Za-z])`)

// Detect tells the format of data from its first line that is neither
// blank nor a comment: ipvsadm rules start with an option (-A, -a), JSON
// with '{', anything else is taken for YAML.
func Detect(data []byte) Format {
	for line := range bytes.Lines(data) {
		trimmed := bytes.TrimSpace(line)
		switch {
		case len(trimmed) == 0 || trimmed[0] == '#':
			continue
		case rulesLine.Match(line):
			return Rules
		case trimmed[0] == '{':
			return JSON
		}
		return YAML
	}
	return YAML
}

// Parse reads a table in format f, or in the format Detect finds if f is
// empty; p parses rules (its resolver looks up the names ipvsadm-save
// writes without -n).
func Parse(name string, data []byte, f Format, p compat.Parser) (*Table, error) {
	if f == "" {
		f = Detect(data)
	}
	if f == Rules {
		return parseRules(name, string(data), p)
	}
	return ParseConfig(name, data)
}
