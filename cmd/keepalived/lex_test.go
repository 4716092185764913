package keepalived

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readItems reads conf as the file t.conf and describes its items as
// "LINE TEXT".
func readItems(t *testing.T, conf, configID string) ([]string, []string) {
	t.Helper()
	c := &converter{}
	r := &reader{configID: configID, warn: c.warn}
	if err := r.file("t.conf", []byte(conf)); err != nil {
		t.Fatal(err)
	}
	var items, warnings []string
	for _, it := range r.items {
		items = append(items, fmt.Sprintf("%d %s", it.at.line, it.text))
	}
	for _, w := range c.warnings {
		warnings = append(warnings, w.at.String()+": "+w.msg)
	}
	return items, warnings
}

func TestReader(t *testing.T) {
	for _, tc := range []struct {
		name, conf, configID string
		items, warnings      []string
	}{{
		// # and ! start comments, but not within double quotes or after \.
		name:  "comments",
		conf:  "a b # comment\n  c \"x # y\" ! z\r\nd \\#e\\!f\n! whole line\n\n\t# indented\n",
		items: []string{"1 a b", `2 c "x # y"`, "3 d #e!f"},
	}, {
		// Braces are statements of their own, except within double quotes.
		name:  "braces",
		conf:  "x { y z } w\na \"{\" b {\n}}\n",
		items: []string{"1 x", "1 {", "1 y z", "1 }", "1 w", `2 a "{" b`, "2 {", "3 }", "3 }"},
	}, {
		name:     "conditionals",
		conf:     "@main a 1\n@backup a 2\n@^main b 1\n@^backup b 2\n@main\n",
		configID: "main",
		items:    []string{"1 a 1", "4 b 2"},
	}, {
		// Without a configuration id nobody knows which lines apply.
		name: "conditionals without an id",
		conf: "@main a 1\n@^backup b 2\n@main\nc\n",
		warnings: []string{
			"t.conf:1: @main line not converted: it depends on keepalived's configuration id (give --config-id)",
			"t.conf:2: @^backup line not converted: it depends on keepalived's configuration id (give --config-id)",
		},
		items: []string{"4 c"},
	}, {
		// Parameters are replaced when they are used, recursively; $NAME
		// needs a blank after it; undefined ones stay.
		name: "parameters",
		conf: "$ADDR=192.0.2.${SUB}\n$SUB=7\nx $ADDR 80\ny ${ADDR}:80 $UNDEF \"${_HASH}\" ${_BANG}\n" +
			"$EMPTY=\nz $EMPTY. $SUB\n$SUB=8\n${ADDR}\n@main $X=1\n@^main $X=2\nx $X\n",
		configID: "other",
		items:    []string{"3 x 192.0.2.7 80", `4 y 192.0.2.7:80 $UNDEF "#"`, "6 z $EMPTY. 7", "8 192.0.2.8", "11 x 2"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			items, warnings := readItems(t, tc.conf, tc.configID)
			if diff := cmp.Diff(tc.items, items); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.warnings, warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSplitWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"a  b\tc", []string{"a", "b", "c"}},
		{`a "b c" d`, []string{"a", "b c", "d"}},
		{`a"b c"d`, []string{"a", "b c", "d"}},
		{`a 'b c'`, []string{"a", "'b", "c'"}},
		{`a ""`, []string{"a", ""}},
	} {
		got, err := splitWords(pos{}, tc.in)
		if err != nil || !cmp.Equal(got, tc.want) {
			t.Errorf("splitWords(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := splitWords(pos{"f", 3, 0}, `a "b`); err == nil || err.Error() != "f:3: a double quote is not closed" {
		t.Errorf("unclosed quote: %v", err)
	}
}

func TestQuotedWords(t *testing.T) {
	for _, tc := range []struct {
		in      string
		escapes bool
		want    []string
	}{
		{`a 'b c' "d 'e" f`, false, []string{"a", "b c", "d 'e", "f"}},
		{`a'b c'd`, false, []string{"ab cd"}},
		{`a\ b \'c`, false, []string{`a\ b`, `\'c`}},
		{`a\ b \'c \"`, true, []string{"a b", "'c", `"`}},
		{`\x41\x4a\x4 \101\7 \cA \E\n\t\q`, true, []string{"AJ\x04", "A\a", "\x01", "\x1b\n\tq"}},
	} {
		got, err := quotedWords(pos{}, tc.in, tc.escapes)
		if err != nil || !cmp.Equal(got, tc.want) {
			t.Errorf("quotedWords(%q, %v) = %q, %v, want %q", tc.in, tc.escapes, got, err, tc.want)
		}
	}
	for _, in := range []string{`a 'b`, `a "b`, `a\`} {
		if _, err := quotedWords(pos{}, in, true); err == nil {
			t.Errorf("quotedWords(%q): no error", in)
		}
	}
}

func TestHexBytes(t *testing.T) {
	for _, tc := range []struct {
		in         string
		data, mask []byte
	}{
		{"Ab12f 3 456 546443123", []byte{0xab, 0x12, 0x0f, 0x03, 0x45, 0x06, 0x54, 0x64, 0x43, 0x12, 0x03}, make([]byte, 11)},
		{"7x X1 xx", []byte{0x70, 0x01, 0x00}, []byte{0x0f, 0xf0, 0xff}},
	} {
		data, mask, err := hexBytes(&node{words: []string{"require_reply"}}, tc.in, true)
		if err != nil || !cmp.Equal(data, tc.data) || !cmp.Equal(mask, tc.mask) {
			t.Errorf("hexBytes(%q) = % x, % x, %v; want % x, % x", tc.in, data, mask, err, tc.data, tc.mask)
		}
	}
}

// TestInclude reads a file that includes a glob of files, one of which
// includes another by a relative path, and one glob that matches nothing.
func TestInclude(t *testing.T) {
	name := filepath.Join("testdata", "include", "main.conf")
	f, warnings, err := Import(name, mustRead(t, name), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Service{tcpService(nil, server("198.51.100.1", 80, "dr", 1, nil))}
	if diff := cmp.Diff(want, f.Services); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
	wantWarnings := []string{
		"testdata/include/servers.inc:2: notify_up not converted: lvsadm runs no notify scripts",
		"testdata/include/conf.d/b.conf:1: vrrp_instance VI_2 skipped: VRRP stays keepalived's job",
		"testdata/include/main.conf:4: include testdata/include/missing/*.conf matched no file",
	}
	if diff := cmp.Diff(wantWarnings, warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}

	// A file that includes itself.
	loop := filepath.Join(t.TempDir(), "loop.conf")
	writeFile(t, loop, "include loop.conf\n")
	if _, _, err := Import(loop, mustRead(t, loop), Options{}); err == nil || err.Error() != loop+":1: include "+loop+": includes nested more than 32 deep" {
		t.Errorf("include loop: %v", err)
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeFile(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
