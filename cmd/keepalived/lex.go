package keepalived

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// pos is a line of a configuration file; seq orders places across
// included files (the number of statements and braces read before it).
type pos struct {
	file string
	line int
	seq  int
}

func (p pos) String() string { return fmt.Sprintf("%s:%d", p.file, p.line) }

// Error is input the importer cannot read, at the line where it is.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

func errorAt(at pos, format string, args ...any) error {
	return &Error{File: at.file, Line: at.line, Msg: fmt.Sprintf(format, args...)}
}

// node is one statement of keepalived's configuration: a keyword and its
// values, and the block that follows it, if any.
type node struct {
	words    []string // split as keepalived splits keyword lines
	text     string   // the statement after comments and parameters, for keywords that re-read it
	at       pos
	hasBlock bool
	block    []*node
	end      pos // the } that closes the block
}

func (n *node) keyword() string { return n.words[0] }

// args are the words after the keyword.
func (n *node) args() []string { return n.words[1:] }

// The reader turns files into items: statements and the braces between
// them, each with its line. Like keepalived, it removes comments, applies
// @ conditions, $ parameters and includes line by line, then splits a line
// at each brace outside double quotes.
type itemKind int

const (
	stmtItem itemKind = iota
	openItem
	closeItem
)

type item struct {
	kind itemKind
	text string
	at   pos
}

type reader struct {
	configID string
	defs     map[string]string
	items    []item
	warn     func(at pos, format string, args ...any)
	depth    int // of includes
}

// maxIncludeDepth bounds includes within includes (a file including itself).
const maxIncludeDepth = 32

func (r *reader) file(name string, data []byte) error {
	for i, line := range strings.Split(string(data), "\n") {
		if err := r.line(pos{name, i + 1, 0}, strings.TrimRight(line, "\r")); err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) line(at pos, raw string) error {
	at.seq = len(r.items)
	text, err := decomment(at, raw)
	if err != nil || text == "" {
		return err
	}
	if strings.HasSuffix(text, `\`) {
		return errorAt(at, `a line ending in \ (a multi-line $ definition) is not supported by the importer: expand it first`)
	}
	if text[0] == '@' {
		var keep bool
		if text, keep = r.conditional(at, text); !keep {
			return nil
		}
	}
	if text[0] == '$' {
		if defined, err := r.define(at, text); defined || err != nil {
			return err
		}
	}
	if strings.HasPrefix(text, "~SEQ") || strings.HasPrefix(text, "~LST") {
		return errorAt(at, "%s is not supported by the importer: expand it first", text[:4])
	}
	if strings.Contains(text, "$") {
		replaced, changed, err := r.substitute(at, text)
		if err != nil {
			return err
		}
		if changed {
			if text, err = decomment(at, replaced); err != nil || text == "" {
				return err
			}
		}
	}
	if pattern, ok := includePattern(text); ok {
		return r.include(at, pattern)
	}
	return r.split(at, text)
}

// decomment removes leading and trailing blanks and a comment: from an
// unquoted # or ! to the end of the line (\# and \! stand for the
// characters).
func decomment(at pos, s string) (string, error) {
	s = strings.TrimLeft(s, " \t")
	var b strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			quoted = !quoted
		case c == '\\' && i+1 < len(s):
			if !quoted && (s[i+1] == '#' || s[i+1] == '!') {
				c = s[i+1]
			} else {
				b.WriteByte(c)
				c = s[i+1]
			}
			i++
		case !quoted && (c == '#' || c == '!'):
			return strings.TrimRight(b.String(), " \t"), nil
		}
		b.WriteByte(c)
	}
	if quoted {
		return "", errorAt(at, "a double quote is not closed on its line")
	}
	return strings.TrimRight(b.String(), " \t"), nil
}

// conditional applies an @ID (or @^ID, "not ID") line: it is kept only if
// the ID matches (does not match) keepalived's configuration id. Without
// one the importer cannot tell, and names the line.
func (r *reader) conditional(at pos, text string) (string, bool) {
	cut := strings.IndexAny(text, " \t")
	if cut < 0 {
		return "", false // nothing after the id: keepalived ignores the line
	}
	id, rest := text[1:cut], strings.TrimLeft(text[cut:], " \t")
	neg := strings.HasPrefix(id, "^")
	id = strings.TrimPrefix(id, "^")
	if r.configID == "" {
		r.warn(at, "@%s line not converted: it depends on keepalived's configuration id (give --config-id)", text[1:cut])
		return "", false
	}
	return rest, (id == r.configID) != neg
}

// define reads a $NAME=VALUE line. It reports false for a line that only
// starts with a parameter's use.
func (r *reader) define(at pos, text string) (bool, error) {
	n := nameLen(text[1:])
	if n == 0 {
		return false, nil
	}
	name, rest := text[1:1+n], text[1+n:]
	switch {
	case strings.HasPrefix(rest, "("):
		return true, errorAt(at, "$%s: parameters with arguments are not supported by the importer: expand them first", name)
	case !strings.HasPrefix(rest, "="):
		return false, nil
	}
	if r.defs == nil {
		r.defs = map[string]string{}
	}
	r.defs[name] = rest[1:]
	return true, nil
}

// nameLen is the length of the parameter name s starts with: letters,
// digits and _, not starting with a digit.
func nameLen(s string) int {
	n := 0
	for n < len(s) {
		c := s[n]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || n > 0 && '0' <= c && c <= '9' {
			n++
			continue
		}
		break
	}
	return n
}

// maxReplacements bounds parameter replacement in one line (a parameter
// whose value uses itself).
const maxReplacements = 1000

// substitute replaces ${NAME}, and $NAME followed by a blank or the end of
// the line, by NAME's value, again within the values; parameters that are
// not defined stay as they are.
func (r *reader) substitute(at pos, text string) (string, bool, error) {
	changed, count := false, 0
	for i := 0; i < len(text); i++ {
		if text[i] != '$' {
			continue
		}
		var name string
		var end int
		if strings.HasPrefix(text[i+1:], "{") {
			close := strings.IndexByte(text[i+2:], '}')
			if close < 0 {
				continue
			}
			name, end = text[i+2:i+2+close], i+3+close
		} else {
			n := nameLen(text[i+1:])
			end = i + 1 + n
			if n == 0 || end < len(text) && text[end] != ' ' && text[end] != '\t' {
				continue
			}
			name = text[i+1 : end]
		}
		value, ok, err := r.value(at, name)
		if err != nil {
			return "", false, err
		}
		if !ok {
			continue
		}
		if count++; count > maxReplacements {
			return "", false, errorAt(at, "$%s: parameter replacement does not end", name)
		}
		text = text[:i] + value + text[end:]
		changed = true
		i-- // read the value again: it may use parameters itself
	}
	return text, changed, nil
}

// value is a parameter's value: a definition of the file, or one of
// keepalived's predefined parameters.
func (r *reader) value(at pos, name string) (string, bool, error) {
	if v, ok := r.defs[name]; ok {
		return v, true, nil
	}
	switch {
	case name == "_PWD":
		dir, err := filepath.Abs(filepath.Dir(at.file))
		return dir, err == nil, err
	case name == "_HASH":
		return "#", true, nil
	case name == "_BANG":
		return "!", true, nil
	case name == "_INSTANCE":
		if r.configID == "" {
			return "", false, errorAt(at, "${_INSTANCE} is keepalived's configuration id: give --config-id")
		}
		return r.configID, true, nil
	case strings.HasPrefix(name, "_RANDOM"), strings.HasPrefix(name, "_ENV"):
		return "", false, errorAt(at, "${%s} is not supported by the importer", name)
	}
	return "", false, nil
}

// includePattern recognises keepalived's include (and includer, includem,
// includew, includeb, includea, which differ only in how keepalived reports
// missing files).
func includePattern(text string) (string, bool) {
	rest, ok := strings.CutPrefix(text, "include")
	if !ok || rest == "" {
		return "", false
	}
	if rest[0] != ' ' && rest[0] != '\t' {
		if len(rest) < 2 || !strings.ContainsRune("rmwba", rune(rest[0])) || rest[1] != ' ' && rest[1] != '\t' {
			return "", false
		}
		rest = rest[1:]
	}
	return strings.Trim(strings.TrimSpace(rest), `"`), true
}

// include reads the files a glob names, in order; a relative pattern is
// taken from the directory of the file that includes it, as keepalived does.
func (r *reader) include(at pos, pattern string) error {
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(filepath.Dir(at.file), pattern)
	}
	names, err := filepath.Glob(pattern)
	if err != nil {
		return errorAt(at, "include %s: %v", pattern, err)
	}
	if len(names) == 0 {
		r.warn(at, "include %s matched no file", pattern)
		return nil
	}
	if r.depth >= maxIncludeDepth {
		return errorAt(at, "include %s: includes nested more than %d deep", pattern, maxIncludeDepth)
	}
	r.depth++
	defer func() { r.depth-- }()
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return errorAt(at, "include: %v", err)
		}
		if err := r.file(name, data); err != nil {
			return err
		}
	}
	return nil
}

// split cuts a line at each brace outside double quotes.
func (r *reader) split(at pos, text string) error {
	quoted, start := false, 0
	add := func(kind itemKind, text string) {
		at.seq = len(r.items)
		r.items = append(r.items, item{kind, text, at})
	}
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == '{' || c == '}'):
			if s := strings.TrimSpace(text[start:i]); s != "" {
				add(stmtItem, s)
			}
			kind := openItem
			if c == '}' {
				kind = closeItem
			}
			add(kind, string(c))
			start = i + 1
		}
	}
	if s := strings.TrimSpace(text[start:]); s != "" {
		add(stmtItem, s)
	}
	return nil
}

// tree builds the statements and their blocks from the items.
func tree(items []item) ([]*node, error) {
	b := builder{items: items}
	nodes, _, err := b.nodes(nil)
	return nodes, err
}

type builder struct {
	items []item
	i     int
}

// nodes reads statements up to the } that closes the block opened at
// opener (nil: the end of the input), and returns where that } is.
func (b *builder) nodes(opener *pos) ([]*node, pos, error) {
	var out []*node
	for b.i < len(b.items) {
		it := b.items[b.i]
		b.i++
		switch it.kind {
		case closeItem:
			if opener == nil {
				return nil, pos{}, errorAt(it.at, "} without a { before it")
			}
			return out, it.at, nil
		case openItem:
			if len(out) == 0 || out[len(out)-1].hasBlock {
				return nil, pos{}, errorAt(it.at, "{ without a keyword before it")
			}
			n := out[len(out)-1]
			n.hasBlock = true
			at := it.at
			kids, end, err := b.nodes(&at)
			if err != nil {
				return nil, pos{}, err
			}
			n.block, n.end = kids, end
		default:
			words, err := splitWords(it.at, it.text)
			if err != nil {
				return nil, pos{}, err
			}
			out = append(out, &node{words: words, text: it.text, at: it.at})
		}
	}
	if opener != nil {
		return nil, pos{}, errorAt(*opener, "{ is not closed by a } before the end of the input")
	}
	return out, pos{}, nil
}

const blanks = " \t\f\n\r\v"

// splitWords splits a statement as keepalived splits keyword lines: at
// blanks, a word that starts with a double quote running to the next one.
func splitWords(at pos, s string) ([]string, error) {
	var words []string
	for {
		s = strings.TrimLeft(s, blanks)
		if s == "" {
			return words, nil
		}
		if s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, errorAt(at, "a double quote is not closed")
			}
			words = append(words, s[1:1+end])
			s = s[2+end:]
			continue
		}
		end := strings.IndexAny(s, blanks+`"`)
		if end < 0 {
			end = len(s)
		}
		words = append(words, s[:end])
		s = s[end:]
	}
}

// quotedWords splits s as keepalived splits script command lines: at
// blanks outside quotes; single or double quotes group blanks and are
// removed; with escapes, \n, \t, \xHH, \NNN (octal), \cC and the like
// stand for characters, else a backslash and its character are kept.
func quotedWords(at pos, s string, escapes bool) ([]string, error) {
	var words []string
	i := 0
	for {
		for i < len(s) && strings.IndexByte(blanks, s[i]) >= 0 {
			i++
		}
		if i == len(s) {
			return words, nil
		}
		var w strings.Builder
		var quote byte
	word:
		for ; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\':
				if i+1 == len(s) {
					return nil, errorAt(at, `a \ ends the line`)
				}
				if !escapes {
					w.WriteByte(c)
					w.WriteByte(s[i+1])
					i++
					continue
				}
				r, n := unescape(s[i+1:])
				w.WriteByte(r)
				i += n
			case quote != 0 && c == quote:
				quote = 0
			case quote != 0:
				w.WriteByte(c)
			case c == '"' || c == '\'':
				quote = c
			case strings.IndexByte(blanks, c) >= 0:
				break word
			default:
				w.WriteByte(c)
			}
		}
		if quote != 0 {
			return nil, errorAt(at, "a %c quote is not closed", quote)
		}
		words = append(words, w.String())
	}
}

// unescape reads the escape sequence after a backslash: the character it
// stands for and how many bytes of s it takes.
func unescape(s string) (byte, int) {
	hex := func(c byte) (byte, bool) {
		switch {
		case '0' <= c && c <= '9':
			return c - '0', true
		case 'a' <= c && c <= 'f':
			return c - 'a' + 10, true
		case 'A' <= c && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	switch c := s[0]; {
	case c == 'x' && len(s) > 1:
		v, ok := hex(s[1])
		if !ok {
			break
		}
		if len(s) > 2 {
			if w, ok := hex(s[2]); ok {
				return v<<4 | w, 3
			}
		}
		return v, 2
	case c == 'c' && len(s) > 1:
		return s[1] & 0x1f, 2
	case '0' <= c && c <= '7':
		v, n := c-'0', 1
		for n < 3 && n < len(s) && '0' <= s[n] && s[n] <= '7' {
			v = v<<3 | (s[n] - '0')
			n++
		}
		return v, n
	}
	if r, ok := map[byte]byte{'a': '\a', 'b': '\b', 'E': 0x1b, 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v'}[s[0]]; ok {
		return r, 1
	}
	return s[0], 1
}
