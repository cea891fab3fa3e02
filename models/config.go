package models

import (
	"fmt"
	"maps"
	"strings"
)

// Config is a model's configuration after merging, in dbt's order, the dbt_project.yml
// folder hierarchy, YAML properties and the file's config() call.
type Config struct {
	Materialized        string
	Schema              string
	Alias               string
	Database            string
	Tags                []string
	Enabled             bool
	UniqueKey           []string
	IncrementalStrategy string // append, merge, delete+insert
	OnSchemaChange      string
	FullRefresh         *bool
	PreHook, PostHook   []string
	ColumnTypes         map[string]string // seeds
	Delimiter           string            // seeds
	Meta                map[string]any

	// Raw holds every key as merged, strata's own keys (partition_by, start, …) included.
	Raw map[string]any
	// Where says where each key was last set, for error messages.
	Where map[string]Pos
}

// configLayer is one source of config keys, with where each was set.
type configLayer struct {
	values map[string]any
	pos    map[string]Pos
}

// configKeys are the keys dbt treats as configs (not folder names) in dbt_project.yml when
// they are written without a leading "+", plus strata's own.
var configKeys = map[string]bool{
	"materialized": true, "schema": true, "alias": true, "database": true, "tags": true,
	"enabled": true, "unique_key": true, "incremental_strategy": true, "on_schema_change": true,
	"full_refresh": true, "pre-hook": true, "post-hook": true, "pre_hook": true, "post_hook": true,
	"column_types": true, "delimiter": true, "quote_columns": true, "meta": true, "docs": true,
	"persist_docs": true, "grants": true, "contract": true, "group": true, "access": true,
	"severity": true, "where": true, "store_failures": true, "limit": true, "warn_if": true,
	"error_if": true, "event_time": true, "batch_size": true, "lookback": true, "begin": true,
	"partition_by": true, "start": true, "priority": true, "schedule": true, "checks": true,
	"depends_on_past": true, "window": true, "sql_header": true, "quoting": true,
	"on_configuration_change": true, "incremental_predicates": true, "merge_update_columns": true,
	"merge_exclude_columns": true, "indexes": true, "batch_size_hint": true, "copy_grants": true,
	"fail_calc": true, "store_failures_as": true, "location": true, "format": true, "options": true,
	"glue_register": true, "plugin": true, "docs_url": true,
	"trigger": true, "cdc": true, "strategy": true, "updated_at": true, "check_cols": true, "hard_deletes": true, "invalidate_hard_deletes": true,
	"snapshot_meta_column_names": true, "dbt_valid_to_current": true, "target_schema": true, "target_database": true, "freshness": true, "timezone": true, "retries": true,
}

// materializations are the model kinds strata runs.
var materializations = []string{"view", "table", "incremental", "ephemeral", "partitioned", "external"}

// normalizeKey maps dbt's spellings of a key to one.
func normalizeKey(k string) string {
	k = strings.TrimPrefix(k, "+")
	switch k {
	case "pre_hook":
		return "pre-hook"
	case "post_hook":
		return "post-hook"
	}
	return k
}

// mergeConfig folds layers in order: later layers override earlier ones, except tags,
// which accumulate, and meta, which merges by key.
func mergeConfig(layers ...configLayer) Config {
	raw := map[string]any{}
	where := map[string]Pos{}
	var tags []string
	meta := map[string]any{}
	for _, l := range layers {
		for k, v := range l.values {
			k = normalizeKey(k)
			switch k {
			case "tags":
				tags = appendUnique(tags, toStrings(v)...)
			case "meta":
				if m, ok := v.(map[string]any); ok {
					maps.Copy(meta, m)
				}
			default:
				raw[k] = v
			}
			if p, ok := l.pos[k]; ok {
				where[k] = p
			}
		}
	}
	c := Config{Raw: raw, Where: where, Tags: tags, Meta: meta, Enabled: true}
	if len(tags) > 0 {
		raw["tags"] = tags
	}
	c.Materialized = str(raw["materialized"])
	c.Schema = str(raw["schema"])
	c.Alias = str(raw["alias"])
	c.Database = str(raw["database"])
	if v, ok := raw["enabled"].(bool); ok {
		c.Enabled = v
	}
	c.UniqueKey = toStrings(raw["unique_key"])
	c.IncrementalStrategy = str(raw["incremental_strategy"])
	c.OnSchemaChange = str(raw["on_schema_change"])
	if v, ok := raw["full_refresh"].(bool); ok {
		c.FullRefresh = &v
	}
	c.PreHook = toStrings(raw["pre-hook"])
	c.PostHook = toStrings(raw["post-hook"])
	c.Delimiter = str(raw["delimiter"])
	if m, ok := raw["column_types"].(map[string]any); ok {
		c.ColumnTypes = map[string]string{}
		for k, v := range m {
			c.ColumnTypes[k] = str(v)
		}
	}
	return c
}

// validate checks a model's merged config and reports problems at the place the key was set.
func (c *Config) validate(m *Model) Errors {
	var errs Errors
	at := func(key string) Pos {
		if p, ok := c.Where[key]; ok {
			return p
		}
		return Pos{File: m.Path}
	}
	bad := func(key, format string, args ...any) {
		p := at(key)
		errs = append(errs, errorf(p.File, p.Line, p.Col, format, args...))
	}
	if m.Kind != KindSeed && m.Kind != KindPython {
		switch c.Materialized {
		case "view", "table", "incremental", "ephemeral", "partitioned":
		case "external":
			if f := strings.ToLower(str(c.Raw["format"])); f != "" && f != "parquet" && f != "csv" && f != "json" {
				bad("format", "model %q: external format %q: use parquet, csv or json", m.Name, f)
			}
		case "cdc":
			if m.cdc == nil {
				bad("materialized", "model %q: materialized=cdc is declared in YAML alone (config.cdc with format, path, key, start), with no SQL file; see docs/cdc.md", m.Name)
			}
		case "snapshot":
			if m.Kind != KindSnapshot {
				bad("materialized", "model %q: a snapshot is a {%% snapshot %%} block in snapshots/ (or a snapshots: entry in YAML), not a materialization of a model", m.Name)
			}
		case "materialized_view", "dynamic_table":
			bad("materialized", "model %q: materialized=%q is a dbt feature strata does not support; use %s",
				m.Name, c.Materialized, strings.Join(materializations, ", "))
		default:
			bad("materialized", "model %q: unknown materialization %q; use one of %s%s",
				m.Name, c.Materialized, strings.Join(materializations, ", "), didYouMean(c.Materialized, materializations))
		}
	}
	if c.Materialized == "incremental" {
		switch c.IncrementalStrategy {
		case "append", "merge", "delete+insert", "microbatch":
		case "insert_overwrite":
			bad("incremental_strategy", "model %q: incremental_strategy=%q is not supported; use append, merge, delete+insert or microbatch", m.Name, c.IncrementalStrategy)
		default:
			bad("incremental_strategy", "model %q: unknown incremental_strategy %q; use append, merge, delete+insert or microbatch", m.Name, c.IncrementalStrategy)
		}
		if (c.IncrementalStrategy == "merge" || c.IncrementalStrategy == "delete+insert") && len(c.UniqueKey) == 0 {
			bad("incremental_strategy", "model %q: incremental_strategy=%q needs a unique_key", m.Name, c.IncrementalStrategy)
		}
	}
	switch c.OnSchemaChange {
	case "", "ignore", "append_new_columns", "fail":
	default:
		bad("on_schema_change", "model %q: on_schema_change=%q is not supported; use ignore, append_new_columns or fail", m.Name, c.OnSchemaChange)
	}
	for _, k := range []string{"grants", "contract"} {
		if v, ok := c.Raw[k]; ok && truthy(v) {
			bad(k, "model %q: config %q is a dbt feature strata does not support; remove it", m.Name, k)
		}
	}
	return errs
}

// truthy reports whether a config value asks for something (a non-empty map, true, …).
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case map[string]any:
		for _, x := range v {
			if truthy(x) {
				return true
			}
		}
		return false
	case []any:
		return len(v) > 0
	case string:
		return v != ""
	}
	return true
}

func str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	}
	return fmt.Sprint(v)
}

func toStrings(v any) []string {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			out = append(out, str(x))
		}
		return out
	}
	return []string{str(v)}
}

func appendUnique(list []string, items ...string) []string {
	for _, it := range items {
		found := false
		for _, x := range list {
			if x == it {
				found = true
				break
			}
		}
		if !found {
			list = append(list, it)
		}
	}
	return list
}

// External is where an external model writes and in what format: location (a file, or a
// folder when partition_by is set), format and the COPY options.
type External struct {
	Location    string // relative to the project, or absolute
	Format      string // parquet, csv or json
	PartitionBy []string
	Options     map[string]any // other COPY options (codec, …)
}

// ExternalOf reads an external model's location, format and options; the default location
// is <external_root>/<name>.<format>.
func (p *Project) ExternalOf(m *Model) External {
	c := m.Config.Raw
	e := External{Location: str(c["location"]), Format: strings.ToLower(str(c["format"])), Options: map[string]any{}}
	if opts, ok := c["options"].(map[string]any); ok {
		for k, v := range opts {
			if k == "partition_by" {
				e.PartitionBy = toStrings(v)
				continue
			}
			if k == "format" {
				e.Format = strings.ToLower(str(v))
				continue
			}
			e.Options[k] = v
		}
	}
	if e.Format == "" {
		e.Format = "parquet"
		for _, f := range []string{"csv", "json"} {
			if strings.HasSuffix(strings.ToLower(e.Location), "."+f) {
				e.Format = f
			}
		}
	}
	if e.Location == "" {
		root := p.Warehouse.ExternalRoot
		if root == "" {
			root = "."
		}
		e.Location = root + "/" + m.Identifier()
		if len(e.PartitionBy) == 0 {
			e.Location += "." + e.Format
		}
	}
	return e
}

// PersistDocs says which descriptions a model writes to the warehouse as comments.
func (m *Model) PersistDocs() (relation, columns bool) {
	pd, _ := m.Config.Raw["persist_docs"].(map[string]any)
	relation, _ = pd["relation"].(bool)
	columns, _ = pd["columns"].(bool)
	return relation, columns
}
