//go:build race

package health

// raceEnabled: the race detector slows everything down many times, so
// performance figures taken under it mean nothing.
const raceEnabled = true
