package main

import (
	"bufio"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/lineage"
)

// lsCmd lists the selected nodes.
func (a *app) lsCmd() *cobra.Command {
	var sel, exc, types []string
	var output string
	c := &cobra.Command{
		Use:     "ls [SELECTOR...]",
		Aliases: []string{"list"},
		Short:   "List the selected nodes (models, seeds, sources, tests, exposures)",
		RunE: func(cmd *cobra.Command, args []string) error {
			p, g, err := a.load()
			if err != nil {
				return err
			}
			ids, err := g.Select(append(sel, args...), exc)
			if err != nil {
				return err
			}
			a.warnUnmatched(g, append(sel, args...))
			type item struct {
				Name         string   `json:"name"`
				ResourceType string   `json:"resource_type"`
				Path         string   `json:"path"`
				Materialized string   `json:"materialized,omitempty"`
				Relation     string   `json:"relation,omitempty"`
				Tags         []string `json:"tags"`
				DependsOn    []string `json:"depends_on"`
				Description  string   `json:"description,omitempty"`
			}
			var nodes []*lineage.Node
			for _, id := range g.Sorted(ids) {
				if n := g.Node(id); len(types) == 0 || slices.Contains(types, string(n.Type)) {
					nodes = append(nodes, n)
				}
			}
			if a.json || output == "json" {
				items := []item{}
				for _, n := range nodes {
					it := item{Name: n.Name, ResourceType: string(n.Type), Path: n.Path, Tags: n.Tags, DependsOn: []string{}}
					if it.Tags == nil {
						it.Tags = []string{}
					}
					for _, pid := range g.Parents(n.ID) {
						it.DependsOn = append(it.DependsOn, g.Node(pid).Name)
					}
					if n.Model != nil {
						it.Materialized = string(n.Model.Kind)
						it.Relation = p.Relation(n.Model)
						it.Description = n.Model.Description
					}
					items = append(items, it)
				}
				return a.printJSON(items)
			}
			// the text forms need no relation or parents: a node's type, name or path
			out := bufio.NewWriter(a.stdout) // one write, not one per node
			for _, n := range nodes {
				switch output {
				case "path":
					fmt.Fprintln(out, n.Path)
				case "name":
					fmt.Fprintln(out, n.Name)
				default:
					fmt.Fprintf(out, "%-9s %s\n", n.Type, n.Name)
				}
			}
			return out.Flush()
		},
	}
	selectFlags(c, &sel, &exc)
	c.Flags().StringArrayVar(&types, "resource-type", nil, "only these types: model, seed, snapshot, source, test, exposure, semantic_model, metric, saved_query")
	c.Flags().StringVarP(&output, "output", "o", "", "name, path or json")
	return c
}
