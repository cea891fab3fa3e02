// Package models loads and validates a strata project: strata.yml or a dbt project's
// dbt_project.yml and profiles.yml, model SQL files rendered with Jinja, YAML property
// files, seeds, sources and tests. It is pure: it never touches a database.
//
// The shortest use:
//
//	p, err := models.Load("examples/shop", models.Options{})
//	if err != nil { ... } // a models.Errors listing every problem of the project
//	sql, err := p.Compile(p.Models["orders"], models.CompileOptions{})
package models
