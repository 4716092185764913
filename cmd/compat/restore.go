package compat

import (
	"bufio"
	"errors"
	"io"
)

// restoreTokenMax is the longest word ipvsadm -R reads; longer ones are
// split into several words.
const restoreTokenMax = 4096

// RestoreScanner splits ipvsadm -R input into command lines exactly as
// ipvsadm 1.31 reads them:
//   - words are separated by space, TAB, CR and LF; LF ends a line;
//   - a word equal to "ipvsadm" is dropped wherever it appears;
//   - lines without words are skipped, and there are no comments;
//   - the last line counts without a final LF, unless it ends in blanks:
//     then it is dropped.
//
// Pass each line to Parse. A line that is -R again is not run; ipvsadm
// prints TryHelp for it and stops.
type RestoreScanner struct {
	r    *bufio.Reader
	args []string
	err  error
	done bool
}

// NewRestoreScanner reads commands from r.
func NewRestoreScanner(r io.Reader) *RestoreScanner {
	return &RestoreScanner{r: bufio.NewReader(r)}
}

// Scan advances to the next command line; false at the end of the input.
func (s *RestoreScanner) Scan() bool {
	for !s.done {
		words, ok := s.readLine()
		if !ok {
			s.done = true
			break
		}
		if len(words) > 0 {
			s.args = words
			return true
		}
	}
	s.args = nil
	return false
}

// Args returns the words of the current line (without a program name).
func (s *RestoreScanner) Args() []string { return s.args }

// Err returns the first read error other than io.EOF.
func (s *RestoreScanner) Err() error { return s.err }

func isRestoreBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func (s *RestoreScanner) readByte() (byte, bool) {
	c, err := s.r.ReadByte()
	if err != nil {
		if !errors.Is(err, io.EOF) && s.err == nil {
			s.err = err
		}
		return 0, false
	}
	return c, true
}

// readLine is ipvsadm's config_stream_read. ok is false when ipvsadm's
// reader returns nothing, which ends the restore.
func (s *RestoreScanner) readLine() (words []string, ok bool) {
	words = []string{}
	for {
		c, more := s.readByte()
		if !more {
			// End of input right after a word (or at the start).
			return words, len(words) > 0
		}
		if isRestoreBlank(c) {
			// Skip blanks up to the next word or the end of the line;
			// reaching the end of input here discards the line.
			for c != '\n' {
				if c, more = s.readByte(); !more {
					return nil, false
				}
				if !isRestoreBlank(c) {
					_ = s.r.UnreadByte()
					break
				}
			}
			if c == '\n' {
				return words, true
			}
			continue
		}
		word := []byte{c}
		for len(word) < restoreTokenMax {
			if c, more = s.readByte(); !more {
				break
			}
			if isRestoreBlank(c) {
				_ = s.r.UnreadByte()
				break
			}
			word = append(word, c)
		}
		// One blank after the word is consumed with it; an LF ends the
		// line there.
		endOfLine := false
		if c, more = s.readByte(); more {
			if isRestoreBlank(c) {
				endOfLine = c == '\n'
			} else {
				_ = s.r.UnreadByte()
			}
		}
		if w := cString(string(word)); w != "ipvsadm" {
			words = append(words, w)
		}
		if endOfLine {
			return words, true
		}
	}
}
