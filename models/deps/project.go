package deps

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"go.yaml.in/yaml/v3"
)

// defaultInstallPath is dbt's packages-install-path.
const defaultInstallPath = "dbt_packages"

// project is what deps reads of the root project: its name (no package may take it) and
// where packages go.
type project struct {
	Dir         string
	Name        string
	InstallPath string // absolute
	installRel  string // as written, for messages
}

// readProject reads strata.yml (when it names the project) or dbt_project.yml.
func readProject(dir string) (*project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var root *yaml.Node
	var file string
	for _, name := range []string{"strata.yml", "dbt_project.yml"} {
		data, err := os.ReadFile(filepath.Join(abs, name))
		if err != nil {
			continue
		}
		r, perr := parseYAML(name, data)
		if perr != nil {
			return nil, perr
		}
		if name == "strata.yml" && scalarAt(r, "name") == "" {
			continue // strata's keys beside a dbt project's dbt_project.yml
		}
		root, file = r, name
		break
	}
	if root == nil {
		return nil, &Error{Msg: fmt.Sprintf("%s has no dbt_project.yml or strata.yml: run strata deps in the project's folder (or give -C DIR)", dir)}
	}
	p := &project{Dir: abs, Name: scalarAt(root, "name"), installRel: defaultInstallPath}
	if v := scalarAt(root, "packages-install-path"); v != "" {
		p.installRel = v
	}
	p.InstallPath = p.installRel
	if !filepath.IsAbs(p.InstallPath) {
		p.InstallPath = filepath.Join(abs, p.InstallPath)
	}
	p.InstallPath = filepath.Clean(p.InstallPath)
	if rel, err := filepath.Rel(p.InstallPath, abs); err == nil && filepath.IsLocal(rel) {
		return nil, &Error{File: file, Msg: fmt.Sprintf("packages-install-path %q is the project's own folder (or holds it): give a folder of its own, like dbt_packages", p.installRel)}
	}
	return p, nil
}

func scalarAt(m *yaml.Node, key string) string {
	if m == nil || m.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.ScalarNode {
			return m.Content[i+1].Value
		}
	}
	return ""
}

// nameRe is dbt's rule for a project name (Identifier): it also keeps a package's folder
// name inside the packages folder.
var nameRe = regexp.MustCompile(`^[\p{L}_][\p{L}\p{N}_]*$`)

// packageName reads the name: of the dbt_project.yml at the root of a fetched package;
// from says where the package came from, for the error.
func packageName(dir, from string, at place) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "dbt_project.yml"))
	if os.IsNotExist(err) {
		return "", errorAt(at, "%s has no dbt_project.yml at its root: a dbt package is a dbt project; check the path (or subdirectory:)", from)
	}
	if err != nil {
		return "", err
	}
	root, perr := parseYAML("dbt_project.yml", data)
	if perr != nil {
		return "", errorAt(at, "%s: %v", from, perr)
	}
	name := scalarAt(root, "name")
	if name == "" {
		return "", errorAt(at, "%s: its dbt_project.yml has no name:", from)
	}
	if !nameRe.MatchString(name) {
		return "", errorAt(at, "%s: its dbt_project.yml names it %q, which is not a dbt project name (letters, digits and underscores)", from, name)
	}
	return name, nil
}
