package models

import (
	"bytes"
	"encoding/gob"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"
)

// snapshot is a loaded project as the parse cache keeps it. The models and tests are
// written by cache_wire.go, the models in chunks decoded at once on every core; gob
// carries the rest of the project, and the unexported fields of its semantic nodes and
// macros beside it. What a load derives (parsed templates, the render environment,
// parsed crons) is derived again when the project is taken back. TestCacheRoundTrip
// checks every field of a project loaded through the cache against a fresh load.
type snapshot struct {
	Project  []byte // the project's own gob record, without its Models and Tests: they follow, in wire records
	Semantic map[string]semanticExtra
	Macros   map[string]string // file → its text, when the project has macros
	Names    map[string]string // macro name → file
	Chunks   []int             // the lengths of the model chunks after the gob records
	Tests    int               // the length of the tests' record, after the chunks
	Render   string            // the project's render fingerprint
}

// A chunk of models is a count then wire.model for each; the tests' record a count
// then wire.test for each. They follow the gob records in the file, as they are: gob
// would copy them again.

type semanticExtra struct {
	WantMeasures []Pos
	MeasureNames []string
	WantMetrics  []string
	MetricPos    []Pos
}

var errCacheShape = errors.New("the parse cache does not match its project")

func init() {
	// the dynamic values of vars and of what gob carries (YAML's and Jinja's)
	gob.Register([]any{})
	gob.Register(map[string]any{})
	gob.Register([]string{})
	gob.Register(time.Time{})
}

// encodeProject encodes p without its models and tests, which travel in wire records:
// at the end of the load that made p, as nothing else holds it yet.
func encodeProject(p *Project) ([]byte, error) {
	ms, ts := p.Models, p.Tests
	p.Models, p.Tests = nil, nil
	defer func() { p.Models, p.Tests = ms, ts }()
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(p)
	return buf.Bytes(), err
}

// encodeSnapshot writes the snapshot of p, whose own record proj is (encodeProject),
// after the cache's header: its gob record, then its models' and tests' wire records,
// returned to be written after it. It only reads p: it may run beside other readers.
func encodeSnapshot(enc *gob.Encoder, p *Project, proj []byte) ([][]byte, error) {
	s := &snapshot{Project: proj, Semantic: map[string]semanticExtra{}}
	names := p.ModelNames()
	n := 1
	if len(names) >= 1000 {
		n = 8
	}
	chunks := make([][]byte, n+1)
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			part := names[i*len(names)/n : (i+1)*len(names)/n]
			size := 16
			for _, name := range part {
				m := p.Models[name]
				size += len(m.raw) + len(m.rendered) + 512
			}
			w := &wire{b: make([]byte, 0, size)}
			w.uv(uint64(len(part)))
			for _, name := range part {
				if errs[i] = w.model(p.Models[name]); errs[i] != nil {
					return
				}
			}
			chunks[i] = w.b
		})
	}
	w := &wire{}
	w.uv(uint64(len(p.Tests)))
	for _, name := range p.TestNames() {
		if errs[n] = w.test(p.Tests[name]); errs[n] != nil {
			break
		}
	}
	chunks[n] = w.b
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, c := range chunks[:n] {
		s.Chunks = append(s.Chunks, len(c))
	}
	s.Tests = len(chunks[n])
	s.Render = p.renderFP
	for id, sm := range p.Semantic {
		s.Semantic[id] = semanticExtra{WantMeasures: sm.wantMeasures, MeasureNames: sm.measureNames, WantMetrics: sm.wantMetrics, MetricPos: sm.metricPos}
	}
	if p.macros != nil {
		s.Macros, s.Names = p.macros.sources, p.macros.names
	}
	return chunks, enc.Encode(s)
}

// decodeSnapshot reads a project written by encodeSnapshot and takes it back: the
// unexported fields set again, the templates the project keeps parsed again, the
// render environment made for this process.
func decodeSnapshot(dec *gob.Decoder, rest *bytes.Reader, env func(string) (string, bool)) (*Project, error) {
	var s snapshot
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	var p *Project
	if err := gob.NewDecoder(bytes.NewReader(s.Project)).Decode(&p); err != nil || p == nil {
		return nil, errCacheShape
	}
	p.renderFP = s.Render
	// the wire records are what is left of the file after the gob records
	tail := make([]byte, rest.Len())
	_, _ = rest.Read(tail)
	total := s.Tests
	for _, n := range s.Chunks {
		total += n
	}
	if total != len(tail) || s.Tests < 0 {
		return nil, errCacheShape
	}
	chunks := make([][]*Model, len(s.Chunks))
	errs := make([]error, len(s.Chunks))
	var wg sync.WaitGroup
	off := 0
	for i, n := range s.Chunks {
		if n < 0 {
			return nil, errCacheShape
		}
		c := tail[off : off+n]
		off += n
		wg.Go(func() { chunks[i], errs[i] = readModels(c) })
	}
	testWire := tail[off:]
	u := &unwire{src: string(testWire)}
	nt := u.uv()
	if nt > uint64(len(testWire)) {
		u.fail()
		nt = 0
	}
	p.Tests = make(map[string]*Test, nt)
	for range nt {
		t := u.test()
		p.Tests[t.Name] = t
	}
	wg.Wait()
	if err := errors.Join(append(errs, u.err)...); err != nil {
		return nil, err
	}
	p.Models = map[string]*Model{}
	for _, c := range chunks {
		for _, m := range c {
			p.Models[m.Name] = m
		}
	}
	for id, sm := range p.Semantic {
		x := s.Semantic[id]
		sm.wantMeasures, sm.measureNames, sm.wantMetrics, sm.metricPos = x.WantMeasures, x.MeasureNames, x.WantMetrics, x.MetricPos
	}
	for _, sc := range p.Schedules {
		c, loc, err := parseCron(sc.Cron, sc.Timezone)
		if err != nil {
			return nil, err
		}
		sc.cron, sc.loc = c, loc
	}
	if s.Macros != nil {
		ms := &macroSet{names: s.Names, sources: s.Macros}
		for _, file := range slices.Sorted(maps.Keys(s.Macros)) {
			t, perr := parseTemplate(file, prepareMacroSource(s.Macros[file]))
			if perr != nil {
				ms.broken(file, perr) // a package's: the load kept it so
				continue
			}
			ms.templates = append(ms.templates, t)
			ms.files = append(ms.files, file)
		}
		ms.group()
		p.macros = ms
	}
	p.re = newRenderEnv(p, env) // replaced by the caller's when the cache is used
	p.loaded = true
	return p, nil
}

// readModels reads one chunk of models, parsing again the templates of those that
// keep one.
func readModels(chunk []byte) ([]*Model, error) {
	u := &unwire{src: string(chunk)}
	n := u.uv()
	if n > uint64(len(chunk)) {
		return nil, errWire
	}
	out := make([]*Model, 0, n)
	for range n {
		m, template := u.model()
		if u.err != nil {
			return nil, u.err
		}
		if template {
			t, perr := parseTemplate(m.Path, m.raw)
			if perr != nil {
				return nil, perr
			}
			m.tmpl = t
		}
		out = append(out, m)
	}
	return out, nil
}
