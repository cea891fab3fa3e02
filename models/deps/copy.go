package deps

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// copyOptions say how copyTree treats what is not a plain file or folder.
type copyOptions struct {
	// follow copies what a symlink points at (a local package: the user's own folder,
	// whose links may reach a shared folder); otherwise a link is kept as a link when it
	// points inside the tree and refused when it points outside (a git checkout).
	follow bool
	// skip leaves out a folder or file (by its absolute path, and its name at the root).
	skip func(abs string, rel string, dir bool) bool
}

// copyTree copies the tree at src into dst, which must not exist.
func copyTree(src, dst string, o copyOptions) error {
	root, err := filepath.EvalSymlinks(src)
	if err != nil {
		return err
	}
	return copyDir(root, root, dst, o, map[string]bool{root: true})
}

func copyDir(root, src, dst string, o copyOptions, seen map[string]bool) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		out := filepath.Join(dst, rel)
		if o.skip != nil && o.skip(p, rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(out, 0o755)
		case d.Type().IsRegular():
			return copyFile(p, out)
		case d.Type()&fs.ModeSymlink != 0:
			return copyLink(root, p, out, o, seen)
		}
		return nil // sockets, devices: not package files
	})
}

func copyLink(root, p, out string, o copyOptions, seen map[string]bool) error {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil // a dangling link: nothing to copy
	}
	if o.follow {
		fi, err := os.Stat(real)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			if seen[real] {
				return nil // a link back up the tree
			}
			seen[real] = true
			defer delete(seen, real)
			return copyDir(root, real, out, o, seen)
		}
		return copyFile(real, out)
	}
	if rel, err := filepath.Rel(root, real); err != nil || !filepath.IsLocal(rel) {
		r, _ := filepath.Rel(root, p)
		return fmt.Errorf("%s is a symlink to %s, outside the package", filepath.ToSlash(r), real)
	}
	target, err := os.Readlink(p)
	if err != nil {
		return err
	}
	if filepath.IsAbs(target) {
		// inside, but absolute: point at the same file in the copy
		rel, _ := filepath.Rel(filepath.Dir(p), real)
		target = rel
	}
	return os.Symlink(target, out)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if fi.Mode()&0o111 != 0 {
		mode = 0o755
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
