// Package engine plans and runs a selection of the project graph on the warehouse:
// seeds, views, tables, incremental models and tests, in dependency order and in
// parallel, recording every run and task durably in the warehouse's _strata schema.
//
// The shortest use:
//
//	wh, err := engine.Open(ctx, project)
//	plan, err := engine.NewPlan(graph, engine.PlanOptions{Command: engine.CommandBuild})
//	res, err := engine.Run(ctx, wh, plan, engine.RunOptions{Threads: 4})
package engine
