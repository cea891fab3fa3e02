package models

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// KindPython is a dbt Python model. strata has no Python runtime: the model is a node of
// the graph (its dbt.ref() and dbt.source() calls are its dependencies), listed and shown
// in lineage, but building it fails for that node alone, and its dependents are skipped.
const KindPython Kind = "python"

var (
	pyRefRe    = regexp.MustCompile(`dbt\.ref\(\s*['"]([^'"]+)['"]\s*\)`)
	pySourceRe = regexp.MustCompile(`dbt\.source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)`)
)

// PythonModelError is the error of building (or compiling) a Python model.
type PythonModelError struct {
	Model string
	Pos   Pos
}

func (e *PythonModelError) Error() string {
	return fmt.Sprintf("%s:%d: %s is a Python model: strata has no Python runtime, so it cannot build it (rewrite it in SQL); what reads it is skipped", e.Pos.File, e.Pos.Line, e.Model)
}

// pythonModel reads a .py model's dependencies.
func (l *loader) pythonModel(path, file string) *Model {
	data, err := l.in.readFile(path)
	if err != nil {
		l.add(fileError(file, err))
		return nil
	}
	src := string(data)
	m := &Model{Name: strings.TrimSuffix(filepath.Base(path), ".py"), Path: file, Kind: KindPython, raw: src}
	line := func(i int) Pos {
		return Pos{File: file, Line: strings.Count(src[:i], "\n") + 1, Col: i - strings.LastIndex(src[:i], "\n")}
	}
	for _, r := range pyRefRe.FindAllStringSubmatchIndex(src, -1) {
		m.Refs = append(m.Refs, Ref{Name: src[r[2]:r[3]], Pos: line(r[0])})
	}
	for _, r := range pySourceRe.FindAllStringSubmatchIndex(src, -1) {
		m.Sources = append(m.Sources, SourceRef{Source: src[r[2]:r[3]], Table: src[r[4]:r[5]], Pos: line(r[0])})
	}
	return m
}
