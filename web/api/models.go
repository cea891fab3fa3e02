package api

import (
	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// ModelQuery is GET /models's query: a dbt selector, a tag, a kind (a materialization
// such as table, or a resource type such as seed), and a page.
type ModelQuery struct {
	Select string
	Tag    string
	Kind   string
	Limit  int    // 100 when 0, 1000 at most
	Cursor string // the NextCursor of the previous page
}

// ModelList is GET /models: one page of the project's models, seeds, sources and
// exposures (never tests), in dependency order.
type ModelList struct {
	Models     []ModelSummary `json:"models"`
	Total      int            `json:"total"` // every node matched, on all pages
	NextCursor string         `json:"next_cursor,omitempty"`
}

// ModelSummary is one node of a list.
type ModelSummary struct {
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	Materialized string   `json:"materialized,omitempty"`
	Path         string   `json:"path"`
	Description  string   `json:"description,omitempty"`
	Tags         []string `json:"tags,omitempty"`
}

// Model is GET /models/{name}: one node in full, as MCP's get_model describes it but
// without its cuts.
type Model struct {
	Name         string `json:"name"`
	Type         string `json:"type"`
	Materialized string `json:"materialized,omitempty"`
	Path         string `json:"path"`
	Relation     string `json:"relation,omitempty"`
	Description  string `json:"description,omitempty"`
	// Columns are the shadow catalog's, in its order, with their documentation, then
	// the documented columns it does not know. ColumnsError says why the catalog could
	// not be built; the columns are then the documented ones.
	Columns      []ModelColumn  `json:"columns"`
	ColumnsError string         `json:"columns_error,omitempty"`
	Tests        []string       `json:"tests"`
	SQL          string         `json:"sql,omitempty"`
	CompiledSQL  string         `json:"compiled_sql,omitempty"`
	CompileError string         `json:"compile_error,omitempty"`
	Config       map[string]any `json:"config,omitempty"`
	Upstream     []string       `json:"upstream"`
	Downstream   []string       `json:"downstream"` // what reads it, tests aside
	// RecentRuns are the node's latest tasks, newest first.
	RecentRuns []engine.TaskRecord      `json:"recent_runs"`
	Partitions *engine.PartitionSummary `json:"partitions,omitempty"` // the counts, without the list
	Freshness  *models.Freshness        `json:"freshness,omitempty"`
	Schedule   string                   `json:"schedule,omitempty"` // its own schedule's cron
}

// ModelColumn is a column with its type, description, tests, and the columns it reads
// directly (its lineage one hop up).
type ModelColumn struct {
	Name        string                `json:"name"`
	Type        string                `json:"type,omitempty"`
	Description string                `json:"description,omitempty"`
	Tests       []string              `json:"tests"`
	Inputs      []lineage.ColumnInput `json:"inputs"`
}

// Lineage is GET /lineage/{node}: a model's lineage, or a column's.
type Lineage struct {
	Model  *lineage.Result       `json:"model,omitempty"`  // when node is a model, seed or source
	Column *lineage.ColumnResult `json:"column,omitempty"` // when node is a column
}

// Impact is GET /impact/{target}: what changing or dropping a column, or a model,
// affects downstream. For a model, Column names it without a column, and Columns is
// empty.
type Impact = lineage.ImpactReport
