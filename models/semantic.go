package models

import (
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The semantic layer's node kinds (dbt's semantic_models, metrics and saved_queries):
// parsed, validated and shown in lineage downstream of what they read; never built, as
// dbt does not build them either.
const (
	SemanticModel = "semantic_model"
	Metric        = "metric"
	SavedQuery    = "saved_query"
)

// Semantic is one semantic-layer node.
type Semantic struct {
	Kind        string // semantic_model, metric or saved_query
	Name        string
	Description string
	Model       string   // a semantic model's model (from its ref())
	Measures    []string // a semantic model's measures
	Uses        []string // the semantic nodes it reads, as "kind:name"
	Pos         Pos

	wantMeasures []Pos // a metric's measures, with where each is named
	measureNames []string
	wantMetrics  []string
	metricPos    []Pos
}

// ID is the node's graph id: "metric:revenue".
func (s *Semantic) ID() string { return s.Kind + ":" + s.Name }

var semanticKinds = map[string]string{"semantic_models": SemanticModel, "metrics": Metric, "saved_queries": SavedQuery}

// readSemantic reads one entry of semantic_models:, metrics: or saved_queries:.
func (l *loader) readSemantic(file, key string, n *yaml.Node) {
	s := &Semantic{Kind: semanticKinds[key], Name: scalar(get(n, "name")), Description: scalar(get(n, "description")), Pos: posOf(file, n)}
	if s.Name == "" {
		l.add(errorf(file, n.Line, n.Column, "%s entry without a name", s.Kind))
		return
	}
	switch s.Kind {
	case SemanticModel:
		mn := get(n, "model")
		m := refArgRe.FindStringSubmatch(scalar(mn))
		if m == nil {
			at := posOf(file, n)
			if mn != nil {
				at = posOf(file, mn)
			}
			l.add(errorf(at.File, at.Line, at.Col, "semantic model %s: model must be ref('a_model')", s.Name))
			return
		}
		s.Model = m[1]
		for _, me := range seq(get(n, "measures")) {
			s.Measures = append(s.Measures, scalar(get(me, "name")))
		}
	case Metric:
		tp := get(n, "type_params")
		addMeasure := func(mn *yaml.Node) {
			name := scalar(mn)
			if name == "" {
				name = scalar(get(mn, "name"))
			}
			if name != "" {
				s.measureNames = append(s.measureNames, name)
				s.wantMeasures = append(s.wantMeasures, posOf(file, mn))
			}
		}
		if mn := get(tp, "measure"); mn != nil {
			addMeasure(mn)
		}
		for _, k := range []string{"numerator", "denominator"} {
			if v := get(tp, k); v != nil {
				s.wantMetrics = append(s.wantMetrics, firstNonEmpty(scalar(v), scalar(get(v, "name"))))
				s.metricPos = append(s.metricPos, posOf(file, v))
			}
		}
		for _, v := range seq(get(tp, "metrics")) {
			s.wantMetrics = append(s.wantMetrics, firstNonEmpty(scalar(v), scalar(get(v, "name"))))
			s.metricPos = append(s.metricPos, posOf(file, v))
		}
		if v := get(tp, "conversion_type_params"); v != nil {
			for _, k := range []string{"base_measure", "conversion_measure"} {
				if mn := get(v, k); mn != nil {
					addMeasure(mn)
				}
			}
		}
	case SavedQuery:
		for _, v := range seq(get(get(n, "query_params"), "metrics")) {
			s.wantMetrics = append(s.wantMetrics, scalar(v))
			s.metricPos = append(s.metricPos, posOf(file, v))
		}
	}
	if l.p.Semantic == nil {
		l.p.Semantic = map[string]*Semantic{}
	}
	if prev, ok := l.p.Semantic[s.ID()]; ok {
		l.add(errorf(file, n.Line, n.Column, "%s %q is also defined in %s:%d", s.Kind, s.Name, prev.Pos.File, prev.Pos.Line))
		return
	}
	l.p.Semantic[s.ID()] = s
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// resolveSemantic checks every semantic node against what it names: a semantic model's
// model, a metric's measures and metrics, a saved query's metrics.
func (l *loader) resolveSemantic() {
	measures := map[string]string{} // measure → semantic model
	var models []string
	for _, name := range l.p.ModelNames() {
		models = append(models, name)
	}
	for _, id := range slices.Sorted(maps.Keys(l.p.Semantic)) {
		s := l.p.Semantic[id]
		if s.Kind != SemanticModel {
			continue
		}
		if _, ok := l.p.Models[s.Model]; !ok {
			l.add(errorf(s.Pos.File, s.Pos.Line, s.Pos.Col, "semantic model %s reads unknown model %q%s", s.Name, s.Model, didYouMean(s.Model, models)))
			continue
		}
		for _, me := range s.Measures {
			measures[me] = s.Name
		}
	}
	for _, id := range slices.Sorted(maps.Keys(l.p.Semantic)) {
		s := l.p.Semantic[id]
		for i, me := range s.measureNames {
			sm, ok := measures[me]
			if !ok {
				p := s.wantMeasures[i]
				l.add(errorf(p.File, p.Line, p.Col, "metric %s uses unknown measure %q%s: measures are declared in a semantic model", s.Name, me, didYouMean(me, slices.Sorted(maps.Keys(measures)))))
				continue
			}
			s.Uses = appendUnique(s.Uses, SemanticModel+":"+sm)
		}
		for i, mt := range s.wantMetrics {
			if _, ok := l.p.Semantic[Metric+":"+mt]; !ok {
				p := s.metricPos[i]
				l.add(errorf(p.File, p.Line, p.Col, "%s %s uses unknown metric %q", strings.ReplaceAll(s.Kind, "_", " "), s.Name, mt))
				continue
			}
			s.Uses = appendUnique(s.Uses, Metric+":"+mt)
		}
	}
}

// SemanticNames lists the semantic nodes, by id.
func (p *Project) SemanticNames() []string { return slices.Sorted(maps.Keys(p.Semantic)) }
