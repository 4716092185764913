package cli

import (
	"bufio"
	"io"

	"github.com/lvsadm/lvsadm/cmd/compat"
)

// maxToken is the longest word ipvsadm's reader takes at once; longer words
// are split.
const maxToken = 4096

// restoreReader splits restore input into command lines the way ipvsadm
// 1.31 does (config_stream_read, an fscanf loop): words are separated by
// space, tab, CR and LF; LF ends a line; the word "ipvsadm" is dropped
// wherever it appears; there are no comments. One blank after the last word
// of an unterminated final line is harmless, but a longer run of blanks
// there makes ipvsadm drop that line.
type restoreReader struct {
	r *bufio.Reader
}

func newRestoreReader(r io.Reader) *restoreReader {
	return &restoreReader{r: bufio.NewReaderSize(r, 64<<10)}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }
func isSpace(c byte) bool { return isBlank(c) || c == '\n' }

// next returns the words of the next line (none for a blank line), or
// ok=false at the end of the input.
func (rr *restoreReader) next() (words []string, ok bool) {
	for {
		c, err := rr.r.ReadByte()
		if err != nil {
			return words, len(words) > 0
		}
		if isSpace(c) {
			// No word here: skip blanks up to a newline. Reaching the
			// end of the input instead discards the line.
			for ; ; c, err = rr.r.ReadByte() {
				if err != nil {
					return nil, false
				}
				if c == '\n' {
					return words, true
				}
				if !isBlank(c) {
					rr.r.UnreadByte()
					break
				}
			}
			continue
		}
		// A word, then at most one separator consumed with it.
		word := []byte{c}
		var sep byte
		for len(word) < maxToken {
			if c, err = rr.r.ReadByte(); err != nil {
				break
			}
			if isSpace(c) {
				sep = c
				break
			}
			word = append(word, c)
		}
		if string(word) != "ipvsadm" {
			words = append(words, string(word))
		}
		if sep == '\n' {
			return words, true
		}
	}
}

// restore runs every line of stdin as an ipvsadm command line. Like ipvsadm
// it stops at a line that ends the process (a validation failure, the "Try"
// line, a failed listing) and otherwise goes on after errors; the final
// status is the last line's.
func (e *env) restore(prog string) outcome {
	rr := newRestoreReader(e.stdin)
	status := 0
	for {
		words, ok := rr.next()
		if !ok {
			return done(status)
		}
		if len(words) == 0 {
			continue
		}
		inv, err := compat.Parse(prog, words, e.names)
		var out outcome
		if err != nil {
			out = e.parseFailure(prog, err)
		} else {
			out = e.execute(prog, inv, true)
		}
		if out.exit {
			return out
		}
		status = out.status
	}
}
