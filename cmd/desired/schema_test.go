package desired

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/lvsadm/lvsadm/cmd/compat"
)

// The documentation of the format (docs/config.md), its JSON Schema
// (docs/config.schema.json) and its example files (scripts/examples) are
// checked here against the parser and the writer, so that none of them can
// drift from what lvsadm reads and writes.

const (
	repoRoot      = "../.."
	schemaPath    = repoRoot + "/docs/config.schema.json"
	docPath       = repoRoot + "/docs/config.md"
	healthDocPath = repoRoot + "/docs/health.md"
)

// schemas compiles the schema of a file (config) and of list -o json's
// output (listing). Formats are asserted: draft 2020-12 leaves that to the
// validator, and the address patterns alone are looser.
func schemas(t *testing.T) (config, listing *jsonschema.Schema) {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	config, err := c.Compile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	listing, err = c.Compile(schemaPath + "#listing")
	if err != nil {
		t.Fatal(err)
	}
	return config, listing
}

// instance turns YAML or JSON text into the value a JSON Schema validates.
func instance(t *testing.T, text []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(text, &v); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, text)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("not representable in JSON: %v\n%s", err, text)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// exampleFiles are the example configurations docs/config.md shows.
func exampleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(repoRoot + "/scripts/examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dr", "nat", "tun", "fwmark", "ipv6"} {
		if !slices.Contains(files, repoRoot+"/scripts/examples/"+want+".yaml") {
			t.Errorf("scripts/examples/%s.yaml is missing", want)
		}
	}
	return files
}

// TestExampleFiles: every example file parses, satisfies the schema, and
// reads back the same once written by lvsadm in YAML and JSON (as export
// writes it), the written form satisfying the schema too.
func TestExampleFiles(t *testing.T) {
	config, _ := schemas(t)
	for _, path := range exampleFiles(t) {
		name := filepath.Base(path)
		text := readFile(t, path)
		tbl, err := ParseConfig(name, text)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if len(tbl.Services) == 0 {
			t.Errorf("%s: no services", name)
		}
		if err := config.Validate(instance(t, text)); err != nil {
			t.Errorf("%s does not satisfy the schema: %#v", name, err)
		}
		for _, marshal := range []func(any) ([]byte, error){MarshalYAML, MarshalJSON} {
			b, err := marshal(TableFile(tbl))
			if err != nil {
				t.Fatal(err)
			}
			if err := config.Validate(instance(t, b)); err != nil {
				t.Errorf("%s as lvsadm writes it does not satisfy the schema: %#v\n%s", name, err, b)
			}
			back, err := ParseConfig(name+" written", b)
			if err != nil {
				t.Errorf("%v\n%s", err, b)
				continue
			}
			if diff := cmp.Diff(tbl, back, ignoreSources); diff != "" {
				t.Errorf("%s written and read back (-before +after):\n%s", name, diff)
			}
		}
	}
}

// block is a fenced code block of docs/config.md.
type block struct {
	line   int    // of the opening fence
	lang   string // the info string's first word
	marker string // the <!-- ... --> comment right before the block, if any
	text   string
}

// docBlocks returns the fenced code blocks of a Markdown document.
func docBlocks(t *testing.T, doc string) []block {
	t.Helper()
	var blocks []block
	var cur *block
	var body strings.Builder
	lastComment := ""
	for i, line := range strings.Split(doc, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur != nil && trimmed == "```":
			cur.text = body.String()
			blocks = append(blocks, *cur)
			cur, lastComment = nil, ""
		case cur != nil:
			body.WriteString(line + "\n")
		case strings.HasPrefix(trimmed, "```"):
			lang, _, _ := strings.Cut(strings.TrimPrefix(trimmed, "```"), " ")
			cur = &block{line: i + 1, lang: lang, marker: lastComment}
			body.Reset()
		case strings.HasPrefix(trimmed, "<!--") && strings.HasSuffix(trimmed, "-->"):
			lastComment = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(trimmed, "<!--"), "-->"))
		case trimmed != "":
			lastComment = ""
		}
	}
	if cur != nil {
		t.Fatalf("docs/config.md:%d: code block not closed", cur.line)
	}
	return blocks
}

// TestDocExamples: every YAML and JSON block of docs/config.md is a file
// lvsadm reads and the schema accepts, unless a comment right before it
// says otherwise:
//
//	<!-- file: PATH -->  the block is PATH (an example file) verbatim
//	<!-- listing -->     lvsadm list -o json output: the schema's #listing
//	<!-- output: CMD --> another command's JSON output (checked where
//	                     that command is tested)
//
// A text block marked <!-- rules: PATH --> is ipvsadm rules that read as
// the same table as PATH.
func TestDocExamples(t *testing.T) {
	config, listing := schemas(t)
	type docBlock struct {
		doc string
		block
	}
	var blocks []docBlock
	for _, doc := range []string{docPath, healthDocPath} {
		for _, b := range docBlocks(t, string(readFile(t, doc))) {
			blocks = append(blocks, docBlock{strings.TrimPrefix(doc, repoRoot+"/"), b})
		}
	}
	shown := map[string]bool{}
	configs, rules := 0, 0
	for _, b := range blocks {
		where := b.doc + ":" + strconv.Itoa(b.line)
		kind, arg, _ := strings.Cut(b.marker, ":")
		if kind == "rules" {
			rules++
			path := strings.TrimSpace(arg)
			got, err := ParseRules(where, strings.NewReader(b.text), docParser(t))
			if err != nil {
				t.Errorf("%v", err)
				continue
			}
			want, err := ParseConfig(path, readFile(t, repoRoot+"/"+path))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, ignoreSources); diff != "" {
				t.Errorf("%s: the rules are not %s (-yaml +rules):\n%s", where, path, diff)
			}
			continue
		}
		if b.lang != "yaml" && b.lang != "json" {
			continue
		}
		switch {
		case kind == "listing":
			if err := listing.Validate(instance(t, []byte(b.text))); err != nil {
				t.Errorf("%s: the listing does not satisfy #listing: %#v", where, err)
			}
			continue
		case kind == "output":
			if !json.Valid([]byte(b.text)) {
				t.Errorf("%s: output of %s is not JSON", where, strings.TrimSpace(arg))
			}
			continue
		case kind == "file":
			path := strings.TrimSpace(arg)
			shown[path] = true
			if want := string(readFile(t, repoRoot+"/"+path)); b.text != want {
				t.Errorf("%s differs from %s:\n%s", where, path, cmp.Diff(want, b.text))
			}
		case b.marker != "":
			t.Errorf("%s: unknown marker %q before a %s block", where, b.marker, b.lang)
		}
		configs++
		// The parser's places are within the block.
		if _, err := ParseConfig(b.doc+" (block at line "+strconv.Itoa(b.line)+")", []byte(b.text)); err != nil {
			t.Errorf("%v", err)
		}
		if err := config.Validate(instance(t, []byte(b.text))); err != nil {
			t.Errorf("%s does not satisfy the schema: %#v", where, err)
		}
	}
	if rules == 0 {
		t.Errorf("docs/config.md shows no rules")
	}
	if configs < 6 {
		t.Errorf("docs/config.md has %d example files, want the DR, NAT, TUN, fwmark and IPv6 ones and one in JSON", configs)
	}
	for _, path := range exampleFiles(t) {
		if rel := strings.TrimPrefix(path, repoRoot+"/"); !shown[rel] {
			t.Errorf("neither docs/config.md nor docs/health.md shows %s", rel)
		}
	}
}

// TestSchemaAgreesWithParser: files the parser reads satisfy the schema,
// and files the parser refuses for a reason the schema can see are refused
// by the schema too.
func TestSchemaAgreesWithParser(t *testing.T) {
	config, _ := schemas(t)
	const head = "schema_version: 1\nservices:\n"
	written := func(marshal func(any) ([]byte, error)) string {
		b, err := marshal(TableFile(parse(t, "t.rules", sampleRules)))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	good := []string{
		sampleYAML,
		sampleJSON,
		written(MarshalYAML),
		written(MarshalJSON),
		"schema_version: 1\n",
		"schema_version: 1\nservices:\n",
		`{"schema_version": 1, "services": []}`,
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 0, persistent: true}\n",
		head + "  - {protocol: udp, address: 192.0.2.1, port: 53, one_packet: true, persistent: false}\n",
		head + "  - {fwmark: 4294967295, one_packet: true, family: ipv4}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, persistent: 2678400, netmask: 255.255.0.0}\n",
		head + "  - {protocol: tcp, address: \"2001:db8::1\", port: 80, persistent: 60, netmask: 128}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, scheduler: sh, scheduler_flags: [sh-fallback, flag-3]}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, scheduler_flags: []}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, real_servers: [{address: 198.51.100.1, port: 80, weight: 2147483647, upper_threshold: 2147483647, lower_threshold: 0}]}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, real_servers: [{address: 198.51.100.1, port: 65535, method: nat}]}\n",
		head + "  - {fwmark: 1, real_servers: [{address: 198.51.100.1, method: tunnel, tunnel: {}}]}\n",
		head + "  - {fwmark: 1, real_servers: [{address: 198.51.100.1, method: tunnel, tunnel: {type: ipip}}]}\n",
		head + "  - {fwmark: 1, real_servers: [{address: 198.51.100.1, method: tunnel, tunnel: {type: gue, port: 65535, checksum: none}}]}\n",
		head + "  - {fwmark: 1, real_servers: [{address: 198.51.100.1, method: tunnel, tunnel: {type: gre, checksum: csum}}]}\n",
		head + "  - {fwmark: 1, real_servers: null}\n",
		head + "  - {fwmark: 1, health_check: {type: tcp}}\n",
		head + "  - {fwmark: 1, health_check: {type: http, interval: 2, timeout: 1.5s, status: [200, \"300-302\"], body: ok}, quorum: 2, hysteresis: 1, sorry_server: {address: 198.51.100.9}, real_servers: [{address: 198.51.100.1, health_check: {path: /x, connect_to: {port: 8080}}}]}\n",
		head + "  - {fwmark: 1, real_servers: [{address: 198.51.100.1, health_check: {type: exec, command: [/bin/true, 1], dynamic_weight: false, on_failure: remove, initial_state: down}}]}\n",
	}
	bad := []string{
		"",
		"services: []\n",
		"schema_version: 2\n",
		"schema_version: \"1\"\n",
		"schema_version: 1\nservice: []\n",
		"schema_version: 1\nservices: {}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, schedular: rr}\n",
		head + "  - {fwmark: 1, health_check: {type: smtp}}\n",
		head + "  - {fwmark: 1, health_check: {type: tcp, interval: fast}}\n",
		head + "  - {fwmark: 1, health_check: {type: tcp, rise: 0}}\n",
		head + "  - {fwmark: 1, health_check: {type: http, status: [700]}}\n",
		head + "  - {fwmark: 1, health_check: {type: tcp, on_failure: panic}}\n",
		head + "  - {fwmark: 1, health_check: {type: tcp, intervall: 5s}}\n",
		head + "  - {fwmark: 1, sorry_server: {address: 198.51.100.9, health_check: {type: tcp}}}\n",
		head + "  - {fwmark: 1, quorum: -1}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, stats: {connections: 1, packets_in: 1, packets_out: 1, bytes_in: 1, bytes_out: 1}}\n",
		head + "  - {protocol: TCP, address: 192.0.2.1, port: 80}\n",
		head + "  - {protocol: icmp, address: 192.0.2.1, port: 80}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 70000}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: -1}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: \"80\"}\n",
		head + "  - {protocol: tcp, address: 192.0.2.300, port: 80}\n",
		head + "  - {protocol: tcp, address: www.example.com, port: 80}\n",
		head + "  - {protocol: tcp, address: \"fe80::1%eth0\", port: 80}\n",
		head + "  - {protocol: tcp, address: 192.0.2.0/24, port: 80}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1}\n",
		head + "  - {protocol: tcp, port: 80}\n",
		head + "  - {scheduler: rr}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, fwmark: 1}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, family: ipv4}\n",
		head + "  - {fwmark: 0}\n",
		head + "  - {fwmark: 4294967296}\n",
		head + "  - {fwmark: 1, family: inet6}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 0}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 0, persistent: false}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, persistent: 0}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, persistent: 2678401}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, persistent: \"300\"}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, one_packet: true}\n",
		head + "  - {protocol: sctp, address: 192.0.2.1, port: 80, one_packet: true}\n",
		head + "  - {protocol: udp, address: 192.0.2.1, port: 80, one_packet: yes please}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, persistent: 60, netmask: example.com}\n",
		head + "  - {protocol: tcp, address: \"2001:db8::1\", port: 80, persistent: 60, netmask: 129}\n",
		head + "  - {protocol: tcp, address: \"2001:db8::1\", port: 80, persistent: 60, netmask: 0}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, scheduler: rr, scheduler_flags: [sh-port]}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, scheduler_flags: [mh-fallback]}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, scheduler_flags: [fast]}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, scheduler_flags: flag-1}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, scheduler: [rr]}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, real_servers: {address: 198.51.100.1}}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, real_servers: [{port: 80}]}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, real_servers: [{address: 198.51.100.1, weigth: 1}]}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, real_servers: [{address: 198.51.100.1, method: bridge}]}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, real_servers: [{address: 198.51.100.1, method: nat, port: 65536}]}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, real_servers: [{address: 198.51.100.1, weight: 2147483648}]}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, real_servers: [{address: 198.51.100.1, weight: -1}]}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, real_servers: [{address: 198.51.100.1, upper_threshold: 2147483648}]}\n",
		head + "  - {protocol: tcp, address: 192.0.2.1, port: 80, real_servers: [{address: 198.51.100.1, lower_threshold: -5}]}\n",
		head + "  - {fwmark: 1, real_servers: [{address: 198.51.100.1, tunnel: {type: gue, port: 6080}}]}\n",
		head + "  - {fwmark: 1, real_servers: [{address: 198.51.100.1, method: nat, tunnel: {type: gre}}]}\n",
		head + "  - {fwmark: 1, real_servers: [{address: 198.51.100.1, method: tunnel, tunnel: {type: vxlan}}]}\n",
		head + "  - {fwmark: 1, real_servers: [{address: 198.51.100.1, method: tunnel, tunnel: {type: gue}}]}\n",
		head + "  - {fwmark: 1, real_servers: [{address: 198.51.100.1, method: tunnel, tunnel: {type: gue, port: 0}}]}\n",
		head + "  - {fwmark: 1, real_servers: [{address: 198.51.100.1, method: tunnel, tunnel: {type: gue, port: 6080, checksum: crc}}]}\n",
		head + "  - {fwmark: 1, real_servers: [{address: 198.51.100.1, method: tunnel, tunnel: {type: gre, port: 6080}}]}\n",
		head + "  - {fwmark: 1, real_servers: [{address: 198.51.100.1, method: tunnel, tunnel: {type: gre, checksum: remcsum}}]}\n",
		head + "  - {fwmark: 1, real_servers: [{address: 198.51.100.1, method: tunnel, tunnel: {type: ipip, checksum: none}}]}\n",
		head + "  - {fwmark: 1, real_servers: [{address: 198.51.100.1, method: tunnel, tunnel: {port: 6080}}]}\n",
		head + "  - {fwmark: 1, real_servers: [{address: 198.51.100.1, method: tunnel, tunnel: {type: gue, port: 6080, ttl: 3}}]}\n",
		head + "  - {fwmark: 1, real_servers: [{address: 198.51.100.1, active_connections: 0}]}\n",
	}
	for _, text := range good {
		if _, err := ParseConfig("good", []byte(text)); err != nil {
			t.Errorf("the parser refuses %q: %v", text, err)
		}
		if err := config.Validate(instance(t, []byte(text))); err != nil {
			t.Errorf("the schema refuses %q: %#v", text, err)
		}
	}
	for _, text := range bad {
		if _, err := ParseConfig("bad", []byte(text)); err == nil {
			t.Errorf("the parser accepts %q", text)
		}
		// An empty document is no instance at all; only the parser sees it.
		if text != "" && config.Validate(instance(t, []byte(text))) == nil {
			t.Errorf("the schema accepts %q", text)
		}
	}
}

// jsonNames are the JSON names of a struct's fields, in order.
func jsonNames(t *testing.T, v any) []string {
	t.Helper()
	var names []string
	typ := reflect.TypeOf(v)
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			t.Fatalf("%s.%s has no JSON name", typ.Name(), typ.Field(i).Name)
		}
		names = append(names, name)
	}
	return names
}

// splitAfter splits names after the one named last: the keys a file gives
// and the read-only ones a listing adds (write.go puts those last).
func splitAfter(t *testing.T, names []string, last string) (keys, readOnly []string) {
	t.Helper()
	i := slices.Index(names, last)
	if i < 0 {
		t.Fatalf("%q not among %q", last, names)
	}
	return names[:i+1], names[i+1:]
}

// properties are the property names of the schema's definition at path
// ("" for the top level, else a $defs name), sorted.
func properties(t *testing.T, schema map[string]any, def string) []string {
	t.Helper()
	node := schema
	if def != "" {
		d, ok := schema["$defs"].(map[string]any)[def].(map[string]any)
		if !ok {
			t.Fatalf("the schema has no $defs/%s", def)
		}
		node = d
	}
	if node["additionalProperties"] != false {
		t.Errorf("$defs/%s allows additional properties; the parser refuses unknown keys", def)
	}
	props, _ := node["properties"].(map[string]any)
	var names []string
	for name := range props {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func sorted(names []string) []string {
	s := slices.Clone(names)
	slices.Sort(s)
	return s
}

// TestSchemaKeys: the schema names exactly the keys the parser reads
// (serviceKeys, serverKeys, the tunnel's) and write.go writes, and its
// listing exactly what write.go writes with the read-only fields.
func TestSchemaKeys(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(readFile(t, schemaPath), &schema); err != nil {
		t.Fatal(err)
	}
	svcKeys, svcReadOnly := splitAfter(t, jsonNames(t, ServiceJSON{}), "real_servers")
	srvKeys, srvReadOnly := splitAfter(t, jsonNames(t, ServerJSON{}), "tunnel")
	for _, c := range []struct {
		what      string
		got, want []string
	}{
		{"write.go's service keys vs the parser's", svcKeys, serviceKeys},
		{"write.go's real server keys vs the parser's", srvKeys, serverKeys},
		{"the schema's top level vs write.go's File", properties(t, schema, ""), sorted(jsonNames(t, File{}))},
		{"the schema's service vs the parser's", properties(t, schema, "service"), sorted(serviceKeys)},
		{"the schema's real server vs the parser's", properties(t, schema, "server"), sorted(serverKeys)},
		{"the schema's tunnel vs write.go's", properties(t, schema, "tunnel"), sorted(jsonNames(t, TunnelJSON{}))},
		{"the schema's health_check vs the parser's", properties(t, schema, "health_check"), sorted(checkKeyNames)},
		{"write.go's health_check keys vs the parser's", jsonNames(t, CheckJSON{}), checkKeyNames},
		{"the schema's listing vs write.go's File", properties(t, schema, "listing"), sorted(jsonNames(t, File{}))},
		{"the schema's listed service vs write.go's", properties(t, schema, "listing_service"), sorted(jsonNames(t, ServiceJSON{}))},
		{"the schema's listed real server vs write.go's", properties(t, schema, "listing_server"), sorted(jsonNames(t, ServerJSON{}))},
		{"the schema's stats vs write.go's", properties(t, schema, "stats"), sorted(jsonNames(t, StatsJSON{}))},
		{"the schema's rates vs write.go's", properties(t, schema, "rates"), sorted(jsonNames(t, RatesJSON{}))},
		{"read-only service fields", svcReadOnly, []string{"stats", "rates"}},
		{"read-only real server fields", srvReadOnly, []string{"active_connections", "inactive_connections", "persistent_connections", "stats", "rates"}},
	} {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.what, diff)
		}
	}
	// The YAML names are the JSON names.
	for _, v := range []any{File{}, ServiceJSON{}, ServerJSON{}, TunnelJSON{}, CheckJSON{}, ConnectToJSON{}, StatsJSON{}, RatesJSON{}} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			if f := typ.Field(i); f.Tag.Get("yaml") != f.Tag.Get("json") {
				t.Errorf("%s.%s: yaml tag %q, json tag %q", typ.Name(), f.Name, f.Tag.Get("yaml"), f.Tag.Get("json"))
			}
		}
	}
}

// TestListingSchema: what list -o json prints (the format plus read-only
// fields) satisfies #listing, and is not a file plan and apply read.
func TestListingSchema(t *testing.T) {
	config, listing := schemas(t)
	tbl := parse(t, "t.rules", sampleRules)
	f := TableFile(tbl)
	big := uint64(1) << 63
	for i := range f.Services {
		s := &f.Services[i]
		s.Stats = &StatsJSON{Connections: 1, PacketsIn: big, PacketsOut: 3, BytesIn: big, BytesOut: 5}
		s.Rates = &RatesJSON{Connections: 1, PacketsIn: 2, PacketsOut: 3, BytesIn: 4, BytesOut: 5}
		for j := range s.RealServers {
			n := uint32(4294967295)
			r := &s.RealServers[j]
			r.ActiveConnections, r.InactiveConnections, r.PersistentConnections = &n, &n, &n
			r.Stats, r.Rates = s.Stats, s.Rates
		}
	}
	b, err := MarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := listing.Validate(inst); err != nil {
		t.Errorf("a listing does not satisfy #listing: %#v\n%s", err, b)
	}
	if config.Validate(inst) == nil {
		t.Errorf("the schema of a file accepts a listing's read-only fields")
	}
	if _, err := ParseConfig("listing", b); err == nil {
		t.Errorf("the parser accepts a listing's read-only fields")
	}
	// An empty table lists as an empty list of services.
	empty, err := MarshalJSON(TableFile(&Table{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := listing.Validate(instance(t, empty)); err != nil {
		t.Errorf("an empty listing: %#v\n%s", err, empty)
	}
	// A listing's service keeps the rules of a file's.
	bad := `{"schema_version": 1, "services": [{"protocol": "tcp", "address": "192.0.2.1", "port": 80, "fwmark": 1, "scheduler": "wlc"}]}`
	if listing.Validate(instance(t, []byte(bad))) == nil {
		t.Errorf("#listing accepts a service with both an address and a fwmark")
	}
}

// TestDocKeyTables: the key tables of docs/config.md list exactly the keys
// the parser reads, each once.
func TestDocKeyTables(t *testing.T) {
	doc := string(readFile(t, docPath))
	for _, c := range []struct {
		heading string
		want    []string
	}{
		{"### File keys", []string{"schema_version", "services"}},
		{"### Service keys", serviceKeys},
		{"### Real server keys", serverKeys},
		{"### Tunnel keys", jsonNames(t, TunnelJSON{})},
		{"### Health check keys", checkKeyNames},
		{"### Read-only fields", []string{"active_connections", "inactive_connections", "persistent_connections", "stats", "rates"}},
	} {
		_, section, ok := strings.Cut(doc, "\n"+c.heading+"\n")
		if !ok {
			t.Errorf("docs/config.md has no %q section", c.heading)
			continue
		}
		if i := strings.Index(section, "\n#"); i >= 0 {
			section = section[:i]
		}
		var got []string
		for _, line := range strings.Split(section, "\n") {
			// Table rows start with the key in backquotes.
			if rest, ok := strings.CutPrefix(line, "| `"); ok {
				key, _, _ := strings.Cut(rest, "`")
				got = append(got, key)
			}
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("docs/config.md %q lists (-parser +doc):\n%s", c.heading, diff)
		}
	}
}

// docParser parses rules with the names the documentation's rules use.
func docParser(t *testing.T) compat.Parser {
	t.Helper()
	dir := t.TempDir()
	hosts, services := filepath.Join(dir, "hosts"), filepath.Join(dir, "services")
	if err := os.WriteFile(hosts, []byte("192.0.2.128 web1\n192.0.2.130 web2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(services, []byte("http 80/tcp www\nhttps 443/tcp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return compat.Parser{Resolver: &compat.SystemResolver{HostsPath: hosts, ServicesPath: services,
		LookupIPv4: func(context.Context, string) ([]netip.Addr, error) { return nil, errors.New("no DNS in tests") }}}
}
