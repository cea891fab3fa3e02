package models

import (
	"encoding/gob"
	"errors"
	"maps"
	"slices"
	"time"
)

// snapshot is a loaded project as the parse cache keeps it: gob carries the exported
// fields, and the unexported ones a load sets are carried beside them, by name. What a
// load derives from them (parsed templates, the render environment, parsed crons) is
// derived again when the project is taken back. TestCacheRoundTrip checks every field
// of a project loaded through the cache against a fresh load.
type snapshot struct {
	P        *Project
	Models   map[string]modelExtra
	Tests    map[string]testExtra
	Semantic map[string]semanticExtra
	Macros   map[string]string // file → its text, when the project has macros
	Names    map[string]string // macro name → file
}

type modelExtra struct {
	Partition            *PartitionSpec
	CDC                  *CDCSpec
	Snapshot             *SnapshotSpec
	AbsSchema            string
	BlockPos             Pos
	FileConfig           layerGob
	PropConfig           layerGob
	VarsRead, EnvsRead   map[string]bool
	Raw, Rendered        string
	Template             bool // it had a parsed template after the load: parse it again
	HasVars, HasEnvs     bool // the maps were empty, not absent
	HasFileCfg, HasProps bool
}

type testExtra struct {
	Args              map[string]any
	ColExpr, ColQuote bool
	Refs              []Ref
	Sources           []SourceRef
	Config            layerGob
	Rendered          string
}

type semanticExtra struct {
	WantMeasures []Pos
	MeasureNames []string
	WantMetrics  []string
	MetricPos    []Pos
}

// layerGob is a configLayer; Set tells an empty layer from none.
type layerGob struct {
	Values map[string]any
	Pos    map[string]Pos
	Set    bool
}

var errCacheShape = errors.New("the parse cache does not match its project")

func init() {
	// the dynamic values of vars, configs and test arguments (YAML's and Jinja's)
	gob.Register([]any{})
	gob.Register(map[string]any{})
	gob.Register([]string{})
	gob.Register(time.Time{})
}

func toLayer(c configLayer) layerGob {
	return layerGob{Values: c.values, Pos: c.pos, Set: c.values != nil || c.pos != nil}
}

func (g layerGob) layer() configLayer {
	if !g.Set {
		return configLayer{}
	}
	c := configLayer{values: g.Values, pos: g.Pos}
	if c.values == nil {
		c.values = map[string]any{}
	}
	if c.pos == nil {
		c.pos = map[string]Pos{}
	}
	return c
}

func newSnapshot(p *Project) *snapshot {
	s := &snapshot{P: p, Models: map[string]modelExtra{}, Tests: map[string]testExtra{}, Semantic: map[string]semanticExtra{}}
	for name, m := range p.Models {
		s.Models[name] = modelExtra{
			Partition: m.partition, CDC: m.cdc, Snapshot: m.snapshot, AbsSchema: m.absSchema, BlockPos: m.blockPos,
			FileConfig: toLayer(m.fileConfig), PropConfig: toLayer(m.propConfig),
			VarsRead: m.varsRead, EnvsRead: m.envsRead, HasVars: m.varsRead != nil, HasEnvs: m.envsRead != nil,
			Raw: m.raw, Rendered: m.rendered, Template: m.tmpl != nil,
		}
	}
	for name, t := range p.Tests {
		s.Tests[name] = testExtra{Args: t.args, ColExpr: t.colExpr, ColQuote: t.colQuote, Refs: t.refs, Sources: t.sources,
			Config: toLayer(t.config), Rendered: t.rendered}
	}
	for id, sm := range p.Semantic {
		s.Semantic[id] = semanticExtra{WantMeasures: sm.wantMeasures, MeasureNames: sm.measureNames, WantMetrics: sm.wantMetrics, MetricPos: sm.metricPos}
	}
	if p.macros != nil {
		s.Macros, s.Names = p.macros.sources, p.macros.names
	}
	return s
}

// project takes a snapshot back: the unexported fields set again, the templates the
// project keeps parsed again, the render environment made for this process.
func (s *snapshot) project(env func(string) (string, bool)) (*Project, error) {
	p := s.P
	for name, m := range p.Models {
		x, ok := s.Models[name]
		if !ok {
			return nil, errCacheShape
		}
		m.partition, m.cdc, m.snapshot, m.absSchema, m.blockPos = x.Partition, x.CDC, x.Snapshot, x.AbsSchema, x.BlockPos
		m.fileConfig, m.propConfig = x.FileConfig.layer(), x.PropConfig.layer()
		m.varsRead, m.envsRead = x.VarsRead, x.EnvsRead
		if x.HasVars && m.varsRead == nil {
			m.varsRead = map[string]bool{}
		}
		if x.HasEnvs && m.envsRead == nil {
			m.envsRead = map[string]bool{}
		}
		m.raw, m.rendered = x.Raw, x.Rendered
		if x.Template {
			t, perr := parseTemplate(m.Path, m.raw)
			if perr != nil {
				return nil, perr
			}
			m.tmpl = t
		}
	}
	for name, t := range p.Tests {
		x := s.Tests[name]
		t.args, t.colExpr, t.colQuote, t.refs, t.sources = x.Args, x.ColExpr, x.ColQuote, x.Refs, x.Sources
		t.config, t.rendered = x.Config.layer(), x.Rendered
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
				return nil, perr
			}
			ms.templates = append(ms.templates, t)
		}
		p.macros = ms
	}
	p.re = newRenderEnv(p, env)
	return p, nil
}
