package mcp

import "encoding/json"

// budget is the most JSON one answer holds: about 6,000–7,000 tokens, whatever the
// project's size. Lists are cut to fit, and say so (truncated, totals, next_cursor).
const budget = 20000

// shrink builds an answer with up to limit items per list, then with fewer while its
// JSON is over the budget; cut reports that it had to.
func shrink[T any](limit int, build func(limit int) (T, error)) (out T, cut bool, err error) {
	for {
		if out, err = build(limit); err != nil || limit <= 1 {
			return out, cut, err
		}
		b, _ := json.Marshal(out)
		if len(b) <= budget {
			return out, cut, nil
		}
		next := limit * budget / len(b) * 9 / 10
		if next >= limit {
			next = limit / 2
		}
		limit, cut = max(next, 1), true
	}
}

// fit keeps the longest prefix of items whose JSON fits in n bytes.
func fit[T any](items []T, n int) ([]T, bool) {
	size := 0
	for i, it := range items {
		b, _ := json.Marshal(it)
		if size += len(b) + 1; size > n {
			return items[:i], true
		}
	}
	return items, false
}
