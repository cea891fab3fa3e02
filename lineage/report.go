package lineage

// CheckReport is what `strata check` reports, as --json prints it and the API serves it.
type CheckReport struct {
	OK         bool         `json:"ok"`
	Models     int          `json:"models"`
	Columns    int          `json:"columns"`
	Errors     []CheckError `json:"errors"`
	Warnings   []string     `json:"warnings"`
	Undeclared []Undeclared `json:"undeclared"`
}

// CheckError is one problem check found, placed in a file.
type CheckError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
}

// Undeclared is a table a model reads without ref() or source().
type Undeclared struct {
	Model string `json:"model"`
	Path  string `json:"path"`
	Reads string `json:"reads"`
}

// Report summarizes a shadow catalog's findings over the graph's models.
func Report(g *Graph, cat *Catalog) CheckReport {
	r := CheckReport{OK: len(cat.Errors) == 0, Errors: []CheckError{}, Warnings: []string{}, Undeclared: []Undeclared{}}
	for _, n := range g.Nodes() {
		if n.Type != TypeModel && n.Type != TypeSnapshot {
			continue
		}
		r.Models++
		if nc := cat.Nodes[n.ID]; nc != nil {
			r.Columns += len(nc.Columns)
			for _, u := range nc.Undeclared {
				r.Undeclared = append(r.Undeclared, Undeclared{Model: n.Name, Path: n.Path, Reads: u})
			}
		}
	}
	for _, e := range cat.Errors {
		r.Errors = append(r.Errors, CheckError{File: e.File, Line: e.Line, Col: e.Col, Message: e.Msg})
	}
	r.Warnings = append(r.Warnings, cat.Warnings...)
	return r
}
