package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/models/deps"
)

// depsCmd installs the project's dbt packages, as dbt deps does.
func (a *app) depsCmd() *cobra.Command {
	var opts deps.Options
	c := &cobra.Command{
		Use:   "deps [--upgrade] [--lock]",
		Short: "Install the packages of packages.yml into dbt_packages/, following package-lock.yml (dbt deps)",
		Long: "deps reads packages.yml (or dependencies.yml's packages:) and installs every package — hub, git and local, " +
			"and the packages they need — into dbt_packages/ (or packages-install-path), writing package-lock.yml. " +
			"When the lock was written from the same packages.yml, it installs exactly what the lock says. " +
			"The hub is " + deps.DefaultHubURL + ", or " + deps.HubEnv + ".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Progress = func(line string) { fmt.Fprintln(a.stderr, line) }
			opts.Warn = a.warn
			res, err := deps.Install(cmd.Context(), a.dir, opts)
			if err != nil {
				return depsError(err)
			}
			if a.json {
				return a.printJSON(res)
			}
			switch {
			case len(res.Packages) == 0:
				fmt.Fprintln(a.stdout, "no packages to install")
			case !res.Installed:
				fmt.Fprintf(a.stdout, "resolved %d packages into %s; nothing installed (--lock)\n", len(res.Packages), res.LockFile)
			default:
				fmt.Fprintf(a.stdout, "installed %d packages into %s/\n", len(res.Packages), res.InstallPath)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&opts.Upgrade, "upgrade", false, "resolve packages.yml again, even when package-lock.yml matches it, and rewrite the lock")
	c.Flags().BoolVar(&opts.LockOnly, "lock", false, "resolve and write package-lock.yml only; install nothing")
	return c
}

// depsError gives a problem with what the project asks for (packages.yml, the lock, a
// package without dbt_project.yml) the class of a project error, so it exits 2 and
// --json places it; a hub or git failure stays a failure (exit 1).
func depsError(err error) error {
	var de *deps.Error
	if errors.As(err, &de) {
		return models.Errors{{File: de.File, Line: de.Line, Col: de.Col, Msg: de.Msg}}
	}
	return err
}
