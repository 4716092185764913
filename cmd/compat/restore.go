package compat

import (
	"bytes"
	"errors"
	"io"
	"strings"
)

// restoreTokenMax is the longest word ipvsadm -R reads; longer ones are
// split into several words.
const restoreTokenMax = 4096

// RestoreScanner splits ipvsadm -R input into command lines exactly as
// ipvsadm 1.31 reads them:
//   - words are separated by space, TAB, CR and LF; LF ends a line;
//   - words longer than 4096 bytes are split into 4096-byte pieces, and
//     each piece ends at its first NUL, as a C string does;
//   - a word equal to "ipvsadm" is dropped wherever it appears;
//   - lines without words are skipped, and there are no comments;
//   - the last line counts without a final LF, unless it ends in two or
//     more blanks: then it is dropped.
//
// Pass each line to Parse. A line that is -R again is not run; ipvsadm
// prints TryHelp for it and stops.
type RestoreScanner struct {
	r io.Reader
	// buf[:partial] holds the bytes read after the last LF so far.
	buf     []byte
	partial int
	// text holds whole lines, each ending in LF (or, at the end of the
	// input, the unterminated last line); lines before pos are done.
	text  string
	pos   int
	atEnd bool // the reader reported the end of the input or an error
	done  bool
	err   error
	// words holds the current line's words; reused line after line.
	words      []string
	emptyReads int // consecutive reads that returned nothing
}

// restoreReadSize is how much is read at once; the words of many lines
// share one string of about that size.
const restoreReadSize = 64 << 10

// NewRestoreScanner reads commands from r.
func NewRestoreScanner(r io.Reader) *RestoreScanner {
	return &RestoreScanner{r: r}
}

// Scan advances to the next command line; false at the end of the input.
func (s *RestoreScanner) Scan() bool {
	for !s.done {
		line, last, ok := s.nextLine()
		if !ok || last && trailingRestoreBlanks(line) >= 2 {
			s.done = true
			break
		}
		if s.split(line); len(s.words) > 0 {
			return true
		}
	}
	s.words = s.words[:0]
	return false
}

// Args returns the words of the current line (without a program name).
// The slice is reused by the next Scan (a restore of 100,000 lines then
// allocates nothing per line); the strings in it stay valid. Appending to
// it does not disturb the scanner.
func (s *RestoreScanner) Args() []string {
	if len(s.words) == 0 {
		return nil
	}
	return s.words[:len(s.words):len(s.words)]
}

// Err returns the first read error other than io.EOF.
func (s *RestoreScanner) Err() error { return s.err }

// restoreBlanks are the bytes that separate words.
var restoreBlanks = [256]bool{' ': true, '\t': true, '\r': true, '\n': true}

// trailingRestoreBlanks counts the blanks that end line.
func trailingRestoreBlanks(line string) int {
	n := 0
	for n < len(line) && restoreBlanks[line[len(line)-1-n]] {
		n++
	}
	return n
}

// split puts the words of line (which has no LF) in s.words.
func (s *RestoreScanner) split(line string) {
	words := s.words[:0]
	hasNUL := strings.IndexByte(line, 0) >= 0
	for i := 0; ; {
		for i < len(line) && restoreBlanks[line[i]] {
			i++
		}
		if i == len(line) {
			break
		}
		start := i
		for i < len(line) && !restoreBlanks[line[i]] && i-start < restoreTokenMax {
			i++
		}
		w := line[start:i]
		if hasNUL {
			w = cString(w)
		}
		if w != "ipvsadm" {
			words = append(words, w)
		}
	}
	s.words = words
}

// nextLine returns the next line without its LF; last is true for an
// unterminated last line, and ok is false once nothing is left.
func (s *RestoreScanner) nextLine() (line string, last, ok bool) {
	for s.pos == len(s.text) {
		if s.atEnd && s.partial == 0 {
			return "", false, false
		}
		s.fill()
	}
	rest := s.text[s.pos:]
	if k := strings.IndexByte(rest, '\n'); k >= 0 {
		s.pos += k + 1
		return rest[:k], false, true
	}
	s.pos = len(s.text)
	return rest, true, true
}

// fill reads until it has at least one whole line, or to the end of the
// input, and moves what it has into s.text: one string for all of it, so
// a word costs no allocation of its own.
func (s *RestoreScanner) fill() {
	for !s.atEnd {
		if s.partial == len(s.buf) {
			grown := make([]byte, max(restoreReadSize, 2*len(s.buf)))
			copy(grown, s.buf[:s.partial])
			s.buf = grown
		}
		n, err := s.r.Read(s.buf[s.partial:])
		n = max(0, min(n, len(s.buf)-s.partial))
		s.emptyReads++
		if n > 0 {
			s.emptyReads = 0
		}
		if err == nil && s.emptyReads >= 100 {
			err = io.ErrNoProgress // as bufio.Reader gives up
		}
		if err != nil {
			s.atEnd = true
			if !errors.Is(err, io.EOF) {
				s.err = err
			}
		}
		fresh := s.buf[s.partial : s.partial+n]
		s.partial += n
		if k := bytes.LastIndexByte(fresh, '\n'); k >= 0 {
			whole := s.partial - n + k + 1
			s.text, s.pos = string(s.buf[:whole]), 0
			s.partial = copy(s.buf, s.buf[whole:s.partial])
			return
		}
	}
	// The unterminated last line.
	s.text, s.pos = string(s.buf[:s.partial]), 0
	s.partial = 0
}
