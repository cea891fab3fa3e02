// Package lineage owns the project graph: models, seeds, sources, tests and exposures as
// nodes, dependencies as edges, dbt's selector grammar over it, and topological order.
//
// The shortest use:
//
//	g, err := lineage.Build(project)   // err is a *CycleError when refs loop
//	ids, err := g.Select([]string{"+orders"}, nil)
package lineage
