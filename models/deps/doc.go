// Package deps installs a project's dbt packages, as `dbt deps` does: it reads
// packages.yml (or the packages: of dependencies.yml), resolves hub packages on the dbt
// package hub's JSON API with dbt's semver rules, git packages at a branch, tag or commit
// with the git command, and local folders; it resolves every package's own packages
// transitively, writes package-lock.yml, and installs each package into dbt_packages/
// (or the project's packages-install-path) atomically. It never touches a database and
// never loads the project's models: it runs before the loader, as dbt deps does.
//
// The shortest use:
//
//	res, err := deps.Install(ctx, "path/to/project", deps.Options{Progress: log.Println})
//	if err != nil { ... } // a *deps.Error names packages.yml:line:col; a *deps.FetchError the hub or git
//	for _, p := range res.Packages { fmt.Println(p.Name, p.Path) }
package deps
