package health

import "sync"

// sharedConnector is the process's connector; nil if it cannot be made
// (then checks dial as elsewhere).
var sharedConnector = sync.OnceValue(func() *connector {
	c, err := newConnector()
	if err != nil {
		return nil
	}
	return c
})
