package mcp

import (
	"context"
	"slices"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/stratadata/strata/lineage"
)

const maxCompletions = 100 // the protocol's cap on values in one answer

// complete suggests values for prompt arguments and resource template variables: model
// names, model.column names, run ids. Anything else gets no suggestion.
func (s *Server) complete(ctx context.Context, req *sdk.CompleteRequest) (*sdk.CompleteResult, error) {
	p := req.Params
	var all []string
	switch {
	case p.Ref == nil:
	case p.Ref.Type == "ref/resource" && p.Ref.URI == modelURI+"{name}",
		p.Ref.Type == "ref/prompt" && p.Ref.Name == "explain_column" && p.Argument.Name == "column" && !strings.Contains(p.Argument.Value, "."):
		for _, n := range s.opts.Graph.Nodes() {
			if n.Type != lineage.TypeTest && n.Type != lineage.TypeExposure && strings.HasPrefix(n.Name, p.Argument.Value) {
				all = append(all, n.Name)
			}
		}
	case p.Ref.Type == "ref/prompt" && p.Ref.Name == "explain_column" && p.Argument.Name == "column":
		model, prefix, _ := strings.Cut(p.Argument.Value, ".")
		if cg, _, err := s.columns(ctx); err == nil {
			if nc := cg.Nodes[model]; nc != nil {
				for _, c := range nc.Columns {
					if strings.HasPrefix(c.Name, prefix) {
						all = append(all, model+"."+c.Name)
					}
				}
			}
		}
	case p.Ref.Type == "ref/resource" && p.Ref.URI == runURI+"{id}",
		p.Ref.Type == "ref/prompt" && p.Ref.Name == "investigate_failure" && p.Argument.Name == "run_id":
		if runs, err := s.opts.Backend.Runs(ctx, maxCompletions); err == nil {
			for _, r := range runs {
				if strings.HasPrefix(r.RunID, p.Argument.Value) {
					all = append(all, r.RunID)
				}
			}
		}
	}
	slices.Sort(all)
	out := &sdk.CompleteResult{Completion: sdk.CompletionResultDetails{Values: []string{}, Total: len(all)}}
	if len(all) > maxCompletions {
		all, out.Completion.HasMore = all[:maxCompletions], true
	}
	out.Completion.Values = append(out.Completion.Values, all...)
	return out, nil
}
