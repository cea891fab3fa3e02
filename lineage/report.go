package lineage

import "strings"

// CheckReport is what `strata check` reports, as --json prints it and the API serves it.
type CheckReport struct {
	OK         bool         `json:"ok"`
	Models     int          `json:"models"`
	Columns    int          `json:"columns"`
	Errors     []CheckError `json:"errors"`
	Warnings   []string     `json:"warnings"`
	Undeclared []Undeclared `json:"undeclared"`
	// NotChecked are the models the catalog could not check, and why (a source not loaded
	// yet, a Python model, an upstream error).
	NotChecked []NotChecked `json:"not_checked"`
}

// NotChecked is a model check could not check.
type NotChecked struct {
	Model  string `json:"model"`
	Path   string `json:"path"`
	Reason string `json:"reason"`
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
	r := CheckReport{OK: len(cat.Errors) == 0, Errors: []CheckError{}, Warnings: []string{}, Undeclared: []Undeclared{}, NotChecked: []NotChecked{}}
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
			for _, note := range nc.Notes {
				if strings.HasPrefix(note, "not checked: ") {
					r.NotChecked = append(r.NotChecked, NotChecked{Model: n.Name, Path: n.Path, Reason: strings.TrimPrefix(note, "not checked: ")})
				}
			}
		}
	}
	for _, e := range cat.Errors {
		r.Errors = append(r.Errors, CheckError{File: e.File, Line: e.Line, Col: e.Col, Message: e.Msg})
	}
	r.Warnings = append(r.Warnings, cat.Warnings...)
	return r
}
