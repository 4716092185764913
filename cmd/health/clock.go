package health

import (
	"container/heap"
	"sync"
	"time"
)

// Clock is a Scheduler's time source.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is a Clock's timer, as time.Timer.
type Timer interface {
	C() <-chan time.Time
	Reset(d time.Duration)
	Stop()
}

type realClock struct{}

func (realClock) Now() time.Time                 { return time.Now() }
func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time   { return t.t.C }
func (t realTimer) Reset(d time.Duration) { t.t.Reset(d) }
func (t realTimer) Stop()                 { t.t.Stop() }

// entryHeap orders entries by their next run. An entry replaced or removed
// while queued stays in it until it comes up (see queued.stale), so that
// ordering the heap reads and writes its own array only.
type entryHeap []queued

// queued is an entry in the heap: the run of generation gen due at next.
type queued struct {
	next time.Time
	e    *entry
	gen  uint64
}

// stale reports whether q's entry was removed or replaced since it was
// queued.
func (q *queued) stale() bool { return q.e.removed || q.e.gen != q.gen }

func (h entryHeap) Len() int           { return len(h) }
func (h entryHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h entryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *entryHeap) Push(x any)        { *h = append(*h, x.(queued)) }
func (h *entryHeap) Pop() any {
	old := *h
	q := old[len(old)-1]
	old[len(old)-1] = queued{}
	*h = old[:len(old)-1]
	return q
}

var _ heap.Interface = (*entryHeap)(nil)

// eventQueue delivers events in order on a goroutine of its own, so that a
// slow receiver does not hold up the checks.
type eventQueue struct {
	fn      func(Event)
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []Event
	busy    bool // fn is running
	closing bool
	done    chan struct{}
}

func newEventQueue(fn func(Event)) *eventQueue {
	q := &eventQueue{fn: fn, done: make(chan struct{})}
	q.cond = sync.NewCond(&q.mu)
	go q.deliver()
	return q
}

func (q *eventQueue) push(ev Event) {
	q.mu.Lock()
	q.queue = append(q.queue, ev)
	q.mu.Unlock()
	q.cond.Broadcast()
}

func (q *eventQueue) deliver() {
	defer close(q.done)
	q.mu.Lock()
	for {
		for len(q.queue) == 0 && !q.closing {
			q.cond.Wait()
		}
		if len(q.queue) == 0 {
			q.mu.Unlock()
			return
		}
		batch := q.queue
		q.queue = nil
		q.busy = true
		q.mu.Unlock()
		for _, ev := range batch {
			q.fn(ev)
		}
		q.mu.Lock()
		q.busy = false
		q.cond.Broadcast()
	}
}

// flush waits until every queued event has been delivered.
func (q *eventQueue) flush() {
	q.mu.Lock()
	for len(q.queue) > 0 || q.busy {
		q.cond.Wait()
	}
	q.mu.Unlock()
}

// close delivers what is queued and stops.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closing = true
	q.mu.Unlock()
	q.cond.Broadcast()
	<-q.done
}
