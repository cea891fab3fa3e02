// Package cdcgen plays a small shop database forward in time and writes the change events
// a CDC connector would land — Debezium (Postgres) for orders, a MongoDB change stream for
// customers — with the mess real streams have: duplicates, out-of-order delivery across
// files, deletes and tombstones, re-inserts, primary-key changes, partial updates, TOAST
// placeholders, a new field mid-stream, snapshot rows arriving late and an event landing
// in the next hour's files. It also writes the source's final state (the truth) as NDJSON,
// computed from its own copy of the database, never by strata.
package cdcgen

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Options say how much to generate and where.
type Options struct {
	Dir     string    // the project folder: landing/ and snapshots/ are written under it
	Start   time.Time // the first hour
	Hours   int
	PerHour int // changes per table per hour
	Seed    int64
}

// Order is a row of the source's orders table.
type Order struct {
	ID        int64  `json:"id"`
	Status    string `json:"status"`
	Amount    string `json:"amount"`     // numeric(12,2), sent as text (decimal.handling.mode=string)
	UpdatedAt int64  `json:"updated_at"` // io.debezium.time.MicroTimestamp
	Note      string `json:"note"`       // a TOASTed text column
	Coupon    string `json:"coupon,omitempty"`
}

// Customer is a document of the source's customers collection.
type Customer struct {
	ID        string   `json:"_id"`
	Name      string   `json:"name"`
	Email     string   `json:"email,omitempty"`
	Points    int64    `json:"points"`
	CreatedAt int64    `json:"created_at"` // ms
	City      string   `json:"city"`
	Tags      []string `json:"tags"`
}

type event struct {
	hour  int    // the hour whose files it lands in
	table string // orders or customers
	key   string
	line  string // the NDJSON line
	full  bool   // a full image, which may arrive late
}

type gen struct {
	o       Options
	rng     *rand.Rand
	orders  map[int64]*Order
	deleted []int64
	custs   map[string]*Customer
	nextID  int64
	nextOID int
	lsn     int64
	inc     int
	events  []event
}

// Generate writes the events and the truth; it returns how many event lines it wrote.
func Generate(o Options) (int, error) {
	if o.PerHour == 0 {
		o.PerHour = 40
	}
	g := &gen{o: o, rng: rand.New(rand.NewSource(o.Seed)), orders: map[int64]*Order{}, custs: map[string]*Customer{}, nextID: 1, lsn: 1000}
	// the connector's initial snapshot: rows that existed before streaming began
	for range 10 {
		g.orders[g.nextID] = g.newOrder(g.nextID, 0)
		g.nextID++
	}
	snapLSN := g.lsn
	snapshot := map[int64]Order{}
	for _, id := range g.orderIDs() {
		o := g.orders[id]
		snapshot[id] = *o
		g.emitOrder(0, "r", nil, o, snapLSN, false)
	}
	for h := 0; h < o.Hours; h++ {
		for range o.PerHour {
			g.orderChange(h)
			g.customerChange(h)
		}
		// a snapshot row delivered after newer streaming events: it must change nothing
		if h == 1 {
			o := snapshot[1]
			g.emitOrder(h, "r", nil, &o, snapLSN, false)
		}
	}
	return g.write()
}

func (g *gen) orderIDs() []int64 {
	ids := make([]int64, 0, len(g.orders))
	for id := range g.orders {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func (g *gen) at(h int) time.Time {
	return g.o.Start.Add(time.Duration(h)*time.Hour + time.Duration(g.rng.Intn(3600))*time.Second)
}

func (g *gen) newOrder(id int64, h int) *Order {
	o := &Order{ID: id, Status: "new", Amount: fmt.Sprintf("%d.%02d", 5+g.rng.Intn(200), g.rng.Intn(100)),
		UpdatedAt: g.at(h).UnixMicro(), Note: strings.Repeat(fmt.Sprintf("note %d ", id), 4)}
	if h >= g.o.Hours/2 && g.rng.Intn(2) == 0 { // the coupon column appears mid-stream
		o.Coupon = fmt.Sprintf("SAVE%d", g.rng.Intn(30))
	}
	return o
}

func (g *gen) orderChange(h int) {
	ids := g.orderIDs()
	r := g.rng.Intn(100)
	switch {
	case r < 35 || len(ids) < 3:
		o := g.newOrder(g.nextID, h)
		g.nextID++
		g.orders[o.ID] = o
		g.emitOrder(h, "c", nil, o, g.step(), false)
	case r < 70:
		o := g.orders[ids[g.rng.Intn(len(ids))]]
		before := *o
		o.Status = []string{"paid", "shipped", "delivered", "refunded"}[g.rng.Intn(4)]
		o.UpdatedAt = g.at(h).UnixMicro()
		if g.rng.Intn(4) == 0 {
			o.Amount = fmt.Sprintf("%d.%02d", 5+g.rng.Intn(200), g.rng.Intn(100))
		}
		if h >= g.o.Hours/2 && g.rng.Intn(3) == 0 {
			o.Coupon = fmt.Sprintf("SAVE%d", g.rng.Intn(30))
		}
		toast := g.rng.Intn(2) == 0 // the note did not change: Debezium sends the placeholder
		if !toast && g.rng.Intn(2) == 0 {
			o.Note = strings.Repeat(fmt.Sprintf("edited %d ", o.ID), 3)
		}
		g.emitOrder(h, "u", &before, o, g.step(), toast)
	case r < 80:
		id := ids[g.rng.Intn(len(ids))]
		before := *g.orders[id]
		delete(g.orders, id)
		g.deleted = append(g.deleted, id)
		g.emitOrder(h, "d", &before, nil, g.step(), false)
	case r < 88 && len(g.deleted) > 0: // a deleted key comes back
		i := g.rng.Intn(len(g.deleted))
		id := g.deleted[i]
		g.deleted = append(g.deleted[:i], g.deleted[i+1:]...)
		if _, ok := g.orders[id]; ok {
			return
		}
		o := g.newOrder(id, h)
		o.Status = "reinstated"
		g.orders[id] = o
		g.emitOrder(h, "c", nil, o, g.step(), false)
	default: // a primary-key change: Debezium sends a delete of the old key and a create of the new
		id := ids[g.rng.Intn(len(ids))]
		before := *g.orders[id]
		delete(g.orders, id)
		moved := before
		moved.ID = g.nextID
		g.nextID++
		moved.UpdatedAt = g.at(h).UnixMicro()
		g.orders[moved.ID] = &moved
		lsn := g.step()
		g.emitOrder(h, "d", &before, nil, lsn, false)
		g.emitOrder(h, "c", nil, &moved, lsn+1, false)
		g.lsn++
	}
}

func (g *gen) step() int64 {
	g.lsn += int64(1 + g.rng.Intn(9))
	return g.lsn
}

func (g *gen) emitOrder(h int, op string, before, after *Order, lsn int64, toast bool) {
	ts := g.o.Start.Add(time.Duration(h) * time.Hour).Add(30 * time.Minute).UnixMilli()
	var a any
	if after != nil {
		doc := map[string]any{"id": after.ID, "status": after.Status, "amount": after.Amount, "updated_at": after.UpdatedAt, "note": after.Note}
		if after.Coupon != "" {
			doc["coupon"] = after.Coupon
		}
		if toast {
			doc["note"] = "__debezium_unavailable_value"
		}
		a = doc
	}
	var b any
	if before != nil {
		b = map[string]any{"id": before.ID} // REPLICA IDENTITY DEFAULT: the key alone
	}
	payload := map[string]any{"op": op, "before": b, "after": a, "ts_ms": ts,
		"source": map[string]any{"connector": "postgresql", "db": "shop", "table": "orders", "lsn": lsn, "txId": lsn / 3, "ts_ms": ts}}
	var line []byte
	if h%2 == 1 { // some connectors keep the schema/payload wrapper
		line, _ = json.Marshal(map[string]any{"schema": map[string]any{"type": "struct", "name": "shop.orders.Envelope"}, "payload": payload})
	} else {
		line, _ = json.Marshal(payload)
	}
	id := before
	if id == nil {
		id = after
	}
	key := fmt.Sprint(id.ID)
	g.add(h, "orders", key, string(line), after != nil && !toast)
	if op == "d" {
		g.add(h, "orders", key, "null", false) // the tombstone that follows a delete
	}
}

func (g *gen) oid() string {
	g.nextOID++
	return fmt.Sprintf("65a1b2c3d4e5f6%010x", g.nextOID)
}

func (g *gen) clusterTime(h int) (int64, int) {
	t := g.o.Start.Add(time.Duration(h)*time.Hour + 20*time.Minute).Unix()
	g.inc++
	return t, g.inc
}

func (g *gen) customerChange(h int) {
	var ids []string
	for id := range g.custs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	r := g.rng.Intn(100)
	t, i := g.clusterTime(h)
	ev := map[string]any{"_id": map[string]any{"_data": fmt.Sprintf("82%08X%04X", t, i)},
		"clusterTime": map[string]any{"$timestamp": map[string]any{"t": t, "i": i}},
		"wallTime":    map[string]any{"$date": t * 1000}, "ns": map[string]any{"db": "shop", "coll": "customers"}}
	switch {
	case r < 35 || len(ids) < 3:
		c := &Customer{ID: g.oid(), Name: fmt.Sprintf("customer %d", g.nextOID), Email: fmt.Sprintf("c%d@example.com", g.nextOID),
			Points: int64(g.rng.Intn(1000)), CreatedAt: t * 1000, City: []string{"Seoul", "Busan", "Lyon"}[g.rng.Intn(3)], Tags: []string{"a", "b", "c"}}
		g.custs[c.ID] = c
		ev["operationType"] = "insert"
		ev["documentKey"] = map[string]any{"_id": map[string]any{"$oid": c.ID}}
		ev["fullDocument"] = mongoDoc(c)
	case r < 75:
		c := g.custs[ids[g.rng.Intn(len(ids))]]
		set := map[string]any{}
		var unset []string
		var trunc []any
		c.Points += int64(1 + g.rng.Intn(50))
		set["points"] = map[string]any{"$numberLong": fmt.Sprint(c.Points)}
		if g.rng.Intn(2) == 0 {
			c.City = []string{"Seoul", "Busan", "Lyon", "Oslo"}[g.rng.Intn(4)]
			set["address.city"] = c.City
		}
		if g.rng.Intn(4) == 0 && c.Email != "" {
			c.Email = ""
			unset = append(unset, "email")
		}
		if g.rng.Intn(4) == 0 && len(c.Tags) > 1 {
			c.Tags = c.Tags[:1]
			trunc = append(trunc, map[string]any{"field": "tags", "newSize": 1})
		}
		ev["operationType"] = "update"
		ev["documentKey"] = map[string]any{"_id": map[string]any{"$oid": c.ID}}
		ev["updateDescription"] = map[string]any{"updatedFields": set, "removedFields": nonNil(unset), "truncatedArrays": nonNilAny(trunc)}
	case r < 85:
		c := g.custs[ids[g.rng.Intn(len(ids))]]
		c.Name = strings.ToUpper(c.Name)
		c.Email = fmt.Sprintf("new%d@example.com", g.rng.Intn(1000))
		c.Tags = []string{"vip"}
		ev["operationType"] = "replace"
		ev["documentKey"] = map[string]any{"_id": map[string]any{"$oid": c.ID}}
		ev["fullDocument"] = mongoDoc(c)
	default:
		id := ids[g.rng.Intn(len(ids))]
		delete(g.custs, id)
		ev["operationType"] = "delete"
		ev["documentKey"] = map[string]any{"_id": map[string]any{"$oid": id}}
	}
	line, _ := json.Marshal(ev)
	g.add(h, "customers", fmt.Sprint(ev["documentKey"]), string(line), false)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilAny(s []any) []any {
	if s == nil {
		return []any{}
	}
	return s
}

func mongoDoc(c *Customer) map[string]any {
	d := map[string]any{"_id": map[string]any{"$oid": c.ID}, "name": c.Name, "points": map[string]any{"$numberLong": fmt.Sprint(c.Points)},
		"created_at": map[string]any{"$date": time.UnixMilli(c.CreatedAt).UTC().Format("2006-01-02T15:04:05.000Z")},
		"address":    map[string]any{"city": c.City, "zip": "00000"}, "tags": c.Tags}
	if c.Email != "" {
		d["email"] = c.Email
	}
	return d
}

// add queues a line for an hour's files; a few are delivered twice.
func (g *gen) add(h int, table, key, line string, full bool) {
	e := event{hour: h, table: table, key: key, line: line, full: full}
	g.events = append(g.events, e)
	if g.rng.Intn(33) == 0 {
		g.events = append(g.events, e) // at-least-once delivery
	}
}

// delay moves a few full images to the next hour's files: late events, still ordered by
// their position. Only an event that is its key's last of the hour, for a key the next
// hour does not touch, moves: a later partial event never depends on one not merged yet.
func (g *gen) delay() {
	last := map[string]int{}
	touched := map[string]bool{}
	for i, e := range g.events {
		k := e.table + "/" + e.key
		last[fmt.Sprint(e.hour, k)] = i
		touched[fmt.Sprint(e.hour, k)] = true
	}
	for i := range g.events {
		e := &g.events[i]
		k := e.table + "/" + e.key
		if !e.full || e.hour+1 >= g.o.Hours || last[fmt.Sprint(e.hour, k)] != i || touched[fmt.Sprint(e.hour+1, k)] {
			continue
		}
		if g.rng.Intn(20) == 0 {
			e.hour++
		}
	}
}

// write lands each hour's events in two files, shuffled (file and line order mean
// nothing; positions do), then the truth.
func (g *gen) write() (int, error) {
	g.delay()
	files := map[string][]string{}
	for _, e := range g.events {
		table, line := e.table, e.line
		ts := g.o.Start.Add(time.Duration(e.hour) * time.Hour)
		name := filepath.Join(g.o.Dir, "landing", table, "dt="+ts.Format("2006-01-02"), "hour="+ts.Format("15"), fmt.Sprintf("part-%d.jsonl", g.rng.Intn(2)))
		files[name] = append(files[name], line)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		lines := files[n]
		g.rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
		if err := os.MkdirAll(filepath.Dir(n), 0o755); err != nil {
			return 0, err
		}
		if err := os.WriteFile(n, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			return 0, err
		}
	}
	var orders, custs []string
	for _, id := range g.orderIDs() {
		o := g.orders[id]
		row := map[string]any{"id": o.ID, "status": o.Status, "amount": o.Amount, "note": o.Note, "coupon": nilIfEmpty(o.Coupon),
			"updated_at": time.UnixMicro(o.UpdatedAt).UTC().Format("2006-01-02 15:04:05.000000")}
		b, _ := json.Marshal(row)
		orders = append(orders, string(b))
	}
	for _, c := range g.custs {
		row := map[string]any{"_id": c.ID, "name": c.Name, "email": nilIfEmpty(c.Email), "points": c.Points, "city": c.City, "tags": c.Tags,
			"created_at": time.UnixMilli(c.CreatedAt).UTC().Format("2006-01-02 15:04:05.000")}
		b, _ := json.Marshal(row)
		custs = append(custs, string(b))
	}
	sort.Strings(custs)
	for name, lines := range map[string][]string{"orders": orders, "customers": custs} {
		path := filepath.Join(g.o.Dir, "snapshots", name+".jsonl")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return 0, err
		}
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			return 0, err
		}
	}
	return len(g.events), nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
