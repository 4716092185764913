package hostsetup

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestDocumentedJSON: the host-setup JSON examples in docs/config.md use
// exactly the field names the commands print.
func TestDocumentedJSON(t *testing.T) {
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	strict := func(text string, v any) error {
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		return dec.Decode(v)
	}
	seen := map[string]bool{}
	for _, b := range outputBlocks(string(doc)) {
		switch {
		case strings.HasSuffix(b.command, " status -o json"):
			var s struct {
				statusJSON
				Checks []json.RawMessage `json:"checks"`
			}
			if err := strict(b.text, &s); err != nil {
				t.Errorf("docs/config.md:%d: %s: %v", b.line, b.command, err)
				continue
			}
			for _, raw := range s.Checks {
				var kind struct{ Kind string }
				json.Unmarshal(raw, &kind)
				var c any
				switch kind.Kind {
				case "sysctl":
					c = &sysctlCheckJSON{}
				case "vip":
					c = &vipCheckJSON{}
				case "link":
					c = &linkCheckJSON{}
				default:
					t.Errorf("docs/config.md:%d: a check of kind %q", b.line, kind.Kind)
					continue
				}
				seen["status "+kind.Kind] = true
				if err := strict(string(raw), c); err != nil {
					t.Errorf("docs/config.md:%d: %s check: %v", b.line, kind.Kind, err)
				}
			}
		case b.command == "lvsadm vip list -o json":
			seen["vip list"] = true
			if err := strict(b.text, &vipListJSON{}); err != nil {
				t.Errorf("docs/config.md:%d: %s: %v", b.line, b.command, err)
			}
		}
	}
	for _, want := range []string{"status sysctl", "status vip", "status link", "vip list"} {
		if !seen[want] {
			t.Errorf("docs/config.md shows no %s JSON", want)
		}
	}
}

type outputBlock struct {
	line          int
	command, text string
}

// outputBlocks are the ```json blocks of a Markdown document marked
// <!-- output: COMMAND -->.
func outputBlocks(doc string) []outputBlock {
	var blocks []outputBlock
	lines := strings.Split(doc, "\n")
	for i := 0; i+1 < len(lines); i++ {
		marker, ok := strings.CutPrefix(strings.TrimSpace(lines[i]), "<!-- output:")
		if !ok || strings.TrimSpace(lines[i+1]) != "```json" {
			continue
		}
		var text bytes.Buffer
		j := i + 2
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
			text.WriteString(lines[j] + "\n")
		}
		blocks = append(blocks, outputBlock{i + 2, strings.TrimSpace(strings.TrimSuffix(marker, "-->")), text.String()})
		i = j
	}
	return blocks
}
