// Package openlineage sends OpenLineage run events (spec 2-0-2) for every task a run
// executes, to a JSON-lines file or an HTTP endpoint (Marquez and others). A Sender is an
// engine.Observer: the engine does not know this package exists.
//
// Each task that starts is one OpenLineage run, with its own run ID: a START event when it
// starts, then COMPLETE (success, pass, warn), FAIL (error, fail, waiting_upstream) or
// ABORT (cancelled after it started). A task skipped because something upstream failed
// never started, so it gets no event at all: there is no run to report, and the FAIL of
// the upstream task already says why. Retries inside one task are attempts of the same
// run (the strata_task facet counts them).
//
// The job is the model (or seed, or test), named by its name in the project's namespace;
// a partitioned model's tasks are runs of the same job, with the partition in the
// nominalTime and strata_task run facets. Datasets are DuckDB relations named
// "schema.table" in the namespace "duckdb://<warehouse path>"; seed files and source
// globs are "file" datasets named by their path. Outputs carry the schema and
// columnLineage facets from the shadow catalog's column lineage.
//
// The shortest use:
//
//	ol, err := openlineage.New(project) // nil when strata.yml configures none
//	res, err := engine.Run(ctx, w, plan, engine.RunOptions{Observers: []engine.Observer{ol}})
//	ol.Close()
package openlineage
