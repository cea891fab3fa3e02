package scheduler

import (
	"math/rand/v2"
	"time"
)

// Backoff is how long to wait before retry number attempt (1 for the first): base
// doubled each time, capped, with up to a fifth of jitter either way so that retries of
// many intervals do not all land at once.
func Backoff(base, limit time.Duration, attempt int, rnd func() float64) time.Duration {
	if base <= 0 {
		base = 30 * time.Second
	}
	if limit <= 0 {
		limit = 30 * time.Minute
	}
	d := base
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	if rnd == nil {
		rnd = rand.Float64
	}
	jitter := time.Duration((rnd()*0.4 - 0.2) * float64(d))
	return min(max(d+jitter, 0), limit)
}
