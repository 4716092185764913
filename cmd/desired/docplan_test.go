package desired_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/lvsadm/lvsadm/cmd/reconcile"
)

// TestDocumentedPlanJSON: the plan -o json example of docs/config.md uses
// exactly the field names plan prints.
func TestDocumentedPlanJSON(t *testing.T) {
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	const marker = "<!-- output: lvsadm plan -o json -->\n```json\n"
	_, rest, ok := strings.Cut(string(doc), marker)
	if !ok {
		t.Fatalf("docs/config.md has no block marked %q", marker)
	}
	text, _, _ := strings.Cut(rest, "```")
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	var p reconcile.PlanJSON
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("the plan -o json example: %v", err)
	}
	if len(p.Changes) == 0 || p.Add+p.Change+p.Remove != len(p.Changes) {
		t.Errorf("the plan -o json example's counts do not add up: %+v", p)
	}
	for _, c := range p.Changes {
		if c.Action == "" || c.Object == "" || c.Service == "" || c.Command == "" {
			t.Errorf("a change of the example lacks a field plan always prints: %+v", c)
		}
	}
}
