package gen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// seedNames are the seeds of a mixed project; each has the columns id, grp_code,
// amount_cents and label.
var seedNames = []string{"raw_orders", "raw_payments", "raw_refunds"}

// mixed is a project the way real ones grow: staging models over seeds, long chains,
// hubs that many models read, marts joining several models, Jinja loops and rollups.
//
// Joins, rollups and every tenth model are tables and the rest views, so a view never
// sits on more than a short run of views: DuckDB inlines views when it binds a query,
// and a join of views of joins of views would grow without bound.
func mixed(n int, rng *rand.Rand) []model {
	ms := make([]model, 0, n)
	var hubs []string // the models fans read: staging models and joins
	recent := func() string {
		lo := max(1, len(ms)-200)
		return Name(lo + rng.IntN(len(ms)-lo+1))
	}
	for i := 1; i <= n; i++ {
		m := model{name: Name(i), tests: i%10 == 0, values: i%25 == 0, doc: i%50 == 0}
		var body string
		table := i%10 == 0
		switch r := rng.IntN(100); {
		case i == 1 || r < 5:
			m.kind = "staging"
			body = stage(seedNames[rng.IntN(len(seedNames))])
			hubs = append(hubs, m.name)
		case r < 45:
			m.kind = "chain"
			body = step(Name(i-1), i)
		case r < 65:
			m.kind = "fan-out"
			body = step(hubs[max(0, len(hubs)-8)+rng.IntN(min(8, len(hubs)))], i)
		case r < 80 && i > 2:
			m.kind = "join"
			body = join(distinct(rng, 2+rng.IntN(4), recent))
			table = true
			hubs = append(hubs, m.name)
		case r < 95:
			m.kind = "loop"
			body = loop(recent())
		default:
			m.kind = "rollup"
			body = rollup(recent())
			table = true
		}
		var cfg string
		switch {
		case table && i%3 == 0:
			cfg = "{{ config(materialized='table', tags=['nightly']) }}\n\n"
		case table:
			cfg = "{{ config(materialized='table') }}\n\n"
		case i%7 == 0:
			cfg = "{{ config(materialized='view') }}\n\n"
		}
		m.sql = cfg + body
		ms = append(ms, m)
	}
	return ms
}

// distinct draws k different names from draw, or fewer when draw keeps repeating itself.
func distinct(rng *rand.Rand, k int, draw func() string) []string {
	seen := map[string]bool{}
	var out []string
	for try := 0; len(out) < k && try < 4*k; try++ {
		if n := draw(); !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

func stage(seed string) string {
	return fmt.Sprintf(`-- Staging: the seed's columns renamed, cents made amounts.
select
    id,
    grp_code as grp,
    {{ cents_to_amount('amount_cents') }} as amount,
    label

from {{ ref('%s') }}
`, seed)
}

func step(from string, i int) string {
	return fmt.Sprintf(`select
    id,
    grp,
    amount + %d as amount,
    label

from {{ ref('%s') }}
where amount > {{ var('min_amount') }}
`, i%7, from)
}

func join(from []string) string {
	var b strings.Builder
	b.WriteString("-- A mart: the first model with the amounts of the others added.\nselect\n    t1.id,\n    t1.grp,\n    t1.amount")
	for k := 2; k <= len(from); k++ {
		fmt.Fprintf(&b, " + coalesce(t%d.amount, 0)", k)
	}
	b.WriteString(" as amount,\n    t1.label\n\n")
	fmt.Fprintf(&b, "from {{ ref('%s') }} as t1\n", from[0])
	for k := 2; k <= len(from); k++ {
		fmt.Fprintf(&b, "left join {{ ref('%s') }} as t%d on t1.id = t%d.id\n", from[k-1], k, k)
	}
	return b.String()
}

func loop(from string) string {
	return fmt.Sprintf(`{%% set regions = ['%s'] %%}

select
    id,
    grp,
    amount,
    label,
    {%% for region in regions %%}
    case when label = '{{ region }}' then amount else 0 end as amount_{{ region }}{%% if not loop.last %%},{%% endif %%}
    {%% endfor %%}

from {{ ref('%s') }}
`, strings.Join(labels, "', '"), from)
}

func rollup(from string) string {
	return fmt.Sprintf(`-- One row per group.
select
    grp as id,
    grp,
    sum(amount) as amount,
    max(label) as label

from {{ ref('%s') }}
group by grp
`, from)
}

// seedCSV is 20 rows: id 1…20, a group 1…5, an amount in cents and a label.
func seedCSV(k int, rng *rand.Rand) string {
	var b strings.Builder
	b.WriteString("id,grp_code,amount_cents,label\n")
	for id := 1; id <= 20; id++ {
		fmt.Fprintf(&b, "%d,%d,%d,%s\n", id, 1+(id+k)%5, 100+rng.IntN(9900), labels[rng.IntN(len(labels))])
	}
	return b.String()
}

func seedsYAML() string {
	var b strings.Builder
	b.WriteString("version: 2\n\nseeds:\n")
	for _, s := range seedNames {
		fmt.Fprintf(&b, "  - name: %s\n    description: Generated seed %s.\n    columns:\n      - name: id\n        description: Primary key.\n        data_tests:\n          - unique\n          - not_null\n      - name: amount_cents\n        description: Amount in cents.\n", s, s)
	}
	return b.String()
}
