package models

import (
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// Kind says how a model produces its relation.
type Kind string

// The kinds of node a project holds.
const (
	KindView        Kind = "view"
	KindTable       Kind = "table"
	KindIncremental Kind = "incremental"
	KindEphemeral   Kind = "ephemeral"
	KindSeed        Kind = "seed"
	KindPartitioned Kind = "partitioned"
	KindExternal    Kind = "external" // dbt-duckdb: files written with COPY, read through a view
)

// Project is a loaded, validated project: every model, seed, source and test, with their
// configs merged and their dependencies resolved.
type Project struct {
	Name      string
	Dir       string // absolute path of the project folder
	Flavor    string // "strata" (strata.yml) or "dbt" (dbt_project.yml)
	Warehouse Warehouse
	Vars      map[string]any

	Models    map[string]*Model // models and seeds, by name: they share ref()'s namespace
	Sources   map[string]*Source
	Tests     map[string]*Test
	Docs      map[string]string // {% docs %} blocks by name
	Exposures map[string]*Exposure
	Semantic  map[string]*Semantic // semantic models, metrics and saved queries, by "kind:name"
	UnitTests map[string]*UnitTest // dbt unit tests, by name

	// OpenLineage says where run events go, when set in strata.yml (openlineage:).
	OpenLineage OpenLineage

	// Schedules are what strata serve runs and when: strata.yml's schedules:, and
	// models' own schedule configs (named after the model).
	Schedules map[string]*Schedule

	// OnRunStart and OnRunEnd are dbt's project hooks: SQL run before and after every
	// run, build, seed, snapshot and test.
	OnRunStart, OnRunEnd []Hook

	// Packages are the dbt packages installed in dbt_packages/, by name.
	Packages []Package
	// Dispatch is the project's dispatch: config, a search order by macro namespace.
	Dispatch map[string][]string

	loaded bool // the project is read whole: relations know their real attributes
	// Warnings are problems that do not stop a run (an ignored dbt feature, say).
	Warnings []string

	macros      *macroSet
	re          *renderEnv
	reOnce      sync.Once
	schemaCache sync.Map                 // custom schema and model → generate_schema_name's answer
	cached      bool                     // taken from the parse cache
	modelNames  atomic.Pointer[[]string] // ModelNames' last answer
	renderFP    string                   // what model renders depend on besides their file (cache.go)

	pendingCache func() // the parse cache a load left to SaveCache (Options.DeferCache)
}

// SaveCache writes the parse cache a load with Options.DeferCache left unwritten; it
// does nothing otherwise, or the second time. It only reads the project: it may run
// beside other work that only reads it, such as lineage.Build.
func (p *Project) SaveCache() {
	if p.pendingCache != nil {
		p.pendingCache()
	}
}

// Cached reports whether the load took the project from the parse cache (nothing it
// read had changed since the load that wrote it).
func (p *Project) Cached() bool { return p.cached }

// Reused returns how many models a load took the render of from the parse cache (their
// file, the macros, vars, target and the environment variables they read unchanged)
// when other files had changed.
func (p *Project) Reused() int {
	n := 0
	for _, m := range p.Models {
		if m.reused {
			n++
		}
	}
	return n
}

// Warehouse is where the project builds: the DuckDB file and default schema.
type Warehouse struct {
	Type    string // "duckdb"
	Path    string // database file; absolute, or ":memory:"
	Schema  string // default schema for models
	Threads int    // 0 means the CLI default
	Target  string // the target's name (dbt profiles), "dev" by default
	// ExternalRoot is where external models write their files when they name no
	// location (dbt-duckdb's external_root), relative to the project; "." by default.
	ExternalRoot string
	// Settings, Extensions and Attach are dbt-duckdb's profile keys: SET on every
	// connection, LOAD (an extension built into this DuckDB), ATTACH.
	Settings   map[string]string
	Extensions []string
	Attach     []Attach
}

// Attach is a database the warehouse attaches: dbt-duckdb's attach: entries.
type Attach struct {
	Path     string
	Alias    string
	Type     string
	ReadOnly bool
}

// Model is one node that produces one relation: a view, table, incremental model or seed.
type Model struct {
	Name        string
	Kind        Kind
	Path        string // relative to the project folder, e.g. models/marts/orders.sql
	Package     string // the dbt package it comes from (dbt_packages/…); "" for the project's own
	Description string
	Columns     []*Column
	Config      Config
	Patch       *Pos       // where its YAML properties are, if any
	Freshness   *Freshness // how late it may be, when its config says

	Refs    []Ref       // ref() calls in the file, in order
	Sources []SourceRef // source() calls in the file, in order

	// DependsOn lists the models and seeds this one reads, resolved and deduplicated;
	// SourceDeps lists the source tables as "source.table".
	DependsOn  []string
	SourceDeps []string

	partition  *PartitionSpec
	cdc        *CDCSpec // the CDC model's spec, for each of its three stages
	snapshot   *SnapshotSpec
	absSchema  string      // a snapshot's legacy target_schema: the schema as named
	blockPos   Pos         // where a snapshot's block starts
	fileConfig configLayer // from the file's config() call
	warned     []string    // what its load render warned of
	reused     bool        // its load render was taken from the parse cache
	static     bool        // its load render needed no gonja (renderStatic): no template parsed
	propConfig configLayer // from its YAML properties

	varsRead map[string]bool // vars and environment variables the load render read
	envsRead map[string]bool
	raw      string         // the file as written
	rendered string         // rendered with is_incremental() false and placeholders for relations
	tmpl     *exec.Template // parsed once; re-rendered when is_incremental() matters
}

// Raw returns the model file's text as written (the CSV header line for seeds).
func (m *Model) Raw() string { return m.raw }

// Column is a documented column of a model, seed or source table.
type Column struct {
	Name        string
	Description string
	DataType    string
	Tags        []string
	Meta        map[string]any
	Quote       *bool // quote: in YAML; unset means quoted, as every YAML identifier is
}

// Ref is one ref() call found in a model file.
type Ref struct {
	Name string
	Pos  Pos
}

// SourceRef is one source() call found in a model file.
type SourceRef struct {
	Source, Table string
	Pos           Pos
}

// Pos is a place in a project file.
type Pos struct {
	File      string
	Line, Col int
}

// Source is a declared external schema with its tables.
type Source struct {
	Name        string
	Schema      string
	Database    string
	Description string
	Tables      map[string]*SourceTable
	Pos         Pos
}

// SourceTable is one table of a source: a relation, or a file glob read with DuckDB's readers.
type SourceTable struct {
	Source      string
	Name        string
	Identifier  string
	Location    string // a file glob (parquet, csv, json) when the table is files
	Description string
	Columns     []*Column
	Tags        []string
	Pos         Pos
}

// ID returns the table's "source.table" name.
func (t *SourceTable) ID() string { return t.Source + "." + t.Name }

// Test is a data test: a query returning the rows that violate it.
type Test struct {
	Name     string
	Generic  string // "unique", "not_null", … ; "" for a singular test
	Model    string // the model, seed or "source.table" the test is attached to; "" for singular
	Column   string // the column tested, as YAML names it
	Severity string // "error" or "warn"
	Where    string
	// WarnIf and ErrorIf are conditions on FailCalc (dbt's "!= 0" by default); Limit caps
	// the failing rows read; StoreFailures keeps them in a table (or view) of the
	// <schema>_dbt_test__audit schema.
	WarnIf, ErrorIf, FailCalc string
	Limit                     int
	StoreFailures             bool
	StoreFailuresAs           string
	Tags                      []string
	Path                      string
	Pos                       Pos

	// DependsOn lists the models and seeds the test reads; SourceDeps its source tables.
	DependsOn  []string
	SourceDeps []string

	args     map[string]any
	colExpr  bool // Column is an SQL expression (column_name: of a model-level test, or quote: false), not a name
	colQuote bool // quote: true on the column
	refs     []Ref
	sources  []SourceRef
	config   configLayer
	rendered string // singular tests and custom generic tests: SQL with relation placeholders
}

// ColumnSQL is the tested column as the test's SQL reads it: a quoted identifier, so a
// name from YAML can never be read as more SQL; or, for a model-level test's
// column_name (dbt's "test an expression") and a column with quote: false, the
// expression as written.
func (t *Test) ColumnSQL() string {
	if t.colExpr || t.Column == "" {
		return t.Column
	}
	return Quote(t.Column)
}

// macroColumn is the column_name a custom generic test macro receives, as dbt gives it.
func (t *Test) macroColumn() string {
	if t.colQuote {
		return Quote(t.Column)
	}
	return t.Column
}

// ColumnIsName reports whether the test's column is a column name (not an expression).
func (t *Test) ColumnIsName() bool { return t.Column != "" && !t.colExpr }

// ModelNames returns every model and seed name, sorted.
//
// The sorted list is kept and given again (a copy) while the models are the same ones:
// a load asks for it a dozen times, and sorting 10,000 names is 2-3 ms each time. The
// models are the same when there are as many and every name kept is one of them.
func (p *Project) ModelNames() []string {
	if last := p.modelNames.Load(); last != nil && len(*last) == len(p.Models) {
		same := true
		for _, n := range *last {
			if _, ok := p.Models[n]; !ok {
				same = false
				break
			}
		}
		if same {
			return slices.Clone(*last)
		}
	}
	names := make([]string, 0, len(p.Models))
	for n := range p.Models {
		names = append(names, n)
	}
	sort.Strings(names)
	p.modelNames.Store(&names)
	return slices.Clone(names)
}

// TestNames returns every test name, sorted.
func (p *Project) TestNames() []string {
	names := make([]string, 0, len(p.Tests))
	for n := range p.Tests {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// SourceTable returns the table "source.table", or nil.
func (p *Project) SourceTable(id string) *SourceTable {
	for _, s := range p.Sources {
		for _, t := range s.Tables {
			if t.ID() == id {
				return t
			}
		}
	}
	return nil
}

// Exposure is a downstream use of the project (a dashboard, an app) declared in YAML.
type Exposure struct {
	Name        string
	Type        string
	Description string
	Owner       string
	DependsOn   []string // models and seeds
	SourceDeps  []string
	Pos         Pos
}

// OpenLineage is where strata sends OpenLineage run events: a JSON-lines file, an HTTP
// endpoint (POSTed to URL + /api/v1/lineage), or both.
type OpenLineage struct {
	File      string // relative to the project folder
	URL       string
	Namespace string // the job namespace; the project name when empty
}

// Hook is a project hook's SQL and where it is written.
type Hook struct {
	SQL string
	Pos Pos
}
