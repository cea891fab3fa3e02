package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stratadata/strata/engine"
)

func TestProgressBar(t *testing.T) {
	t.Parallel()
	p := &progress{start: time.Now().Add(-10 * time.Second), counts: map[engine.Status]int{
		engine.StatusSuccess: 40, engine.StatusError: 3, engine.StatusWaiting: 2, engine.StatusSkipped: 5,
	}}
	got := p.barLine(50, 100)
	for _, want := range []string{"[###############...............] 50/100", "40 ok", "3 failed", "2 waiting", "5 skipped", "ETA 10s"} {
		if !strings.Contains(got, want) {
			t.Errorf("bar %q lacks %q", got, want)
		}
	}
}
