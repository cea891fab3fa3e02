package deps

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

const (
	maxExtracted = 2 << 30 // bytes a package's files may hold once extracted
	maxEntries   = 200_000
)

// errNotGzip is a download that is not a .tar.gz at all (an HTML error page, say).
var errNotGzip = errors.New("not a gzip-compressed tar file")

// extractTarball writes a package's .tar.gz into dst (which it creates), without its top
// folder when every entry is under one (dbt-utils-1.1.1/…, as GitHub's tarballs are).
// It refuses, before writing anything outside dst can happen, an entry that would land
// outside dst (an absolute path, a .. element, a path through a symlink) and a link that
// points outside the package.
func extractTarball(data []byte, dst string) error {
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return errNotGzip
	}
	entries, err := readTar(data)
	if err != nil {
		return err
	}
	prefix := commonTop(entries)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	var links []string
	files := map[string]string{} // entry name → where it was written, for hard links
	for _, e := range entries {
		name := strings.TrimPrefix(strings.TrimPrefix(e.name, prefix), "/")
		if name == "" || name == "." {
			continue
		}
		out := filepath.Join(dst, filepath.FromSlash(name))
		if err := noSymlinkBetween(dst, filepath.Dir(out)); err != nil {
			return fmt.Errorf("tarball entry %q: %w", e.hdr.Name, err)
		}
		switch e.hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
		case tar.TypeReg, tar.TypeRegA:
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			mode := os.FileMode(0o644)
			if e.hdr.Mode&0o111 != 0 {
				mode = 0o755
			}
			if err := writeNew(out, e.data, mode); err != nil {
				return err
			}
			files[e.name] = out
		case tar.TypeSymlink:
			target := e.hdr.Linkname
			if path.IsAbs(target) || strings.Contains(target, `\`) {
				return fmt.Errorf("tarball entry %q links to %q, outside the package", e.hdr.Name, target)
			}
			if !insideTop(path.Join(path.Dir(name), target)) {
				return fmt.Errorf("tarball entry %q links to %q, outside the package", e.hdr.Name, target)
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(filepath.FromSlash(target), out); err != nil {
				return fmt.Errorf("tarball entry %q: %w", e.hdr.Name, err)
			}
			links = append(links, out)
		case tar.TypeLink:
			src, ok := files[path.Clean(e.hdr.Linkname)]
			if !ok {
				return fmt.Errorf("tarball entry %q is a hard link to %q, which is not a file of the package", e.hdr.Name, e.hdr.Linkname)
			}
			data, err := os.ReadFile(src)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			if err := writeNew(out, data, 0o644); err != nil {
				return err
			}
			files[e.name] = out
		default:
			// devices, FIFOs and the like have no place in a package: leave them out
		}
	}
	// a link whose target goes through another link may still resolve outside: check
	// where each one really ends
	root, err := filepath.EvalSymlinks(dst)
	if err != nil {
		return err
	}
	for _, l := range links {
		real, err := filepath.EvalSymlinks(l)
		if err != nil {
			continue // dangling, and inside: harmless
		}
		if rel, err := filepath.Rel(root, real); err != nil || !filepath.IsLocal(rel) {
			return fmt.Errorf("tarball entry %s links outside the package", filepath.ToSlash(strings.TrimPrefix(l, dst)))
		}
	}
	return nil
}

// tarEntry is one entry of an archive, read in full, its name cleaned.
type tarEntry struct {
	hdr  *tar.Header
	name string
	data []byte
}

// readTar reads every entry first, so that a bad entry anywhere refuses the whole
// archive before anything is written.
func readTar(data []byte) ([]tarEntry, error) {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, errNotGzip
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	var out []tarEntry
	var total int64
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not a readable tar file: %v", err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader || hdr.Typeflag == tar.TypeXHeader {
			continue // GitHub's pax_global_header (the commit id)
		}
		if len(out) >= maxEntries {
			return nil, fmt.Errorf("more than %d entries", maxEntries)
		}
		raw := hdr.Name
		if strings.Contains(raw, `\`) || path.IsAbs(raw) || hasDotDot(raw) {
			return nil, fmt.Errorf("tarball entry %q escapes the package folder", raw)
		}
		e := tarEntry{hdr: hdr, name: strings.TrimSuffix(path.Clean(raw), "/")}
		if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA {
			total += hdr.Size
			if total > maxExtracted {
				return nil, fmt.Errorf("its files hold more than %d MiB", maxExtracted>>20)
			}
			if e.data, err = io.ReadAll(io.LimitReader(tr, hdr.Size)); err != nil {
				return nil, fmt.Errorf("not a readable tar file: %v", err)
			}
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, errors.New("the tar file is empty")
	}
	return out, nil
}

func hasDotDot(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}

// commonTop is the one top folder every entry is under ("" when there is none), as
// dbt's untar renames os.path.commonprefix of the names.
func commonTop(entries []tarEntry) string {
	top := ""
	deeper := false
	for _, e := range entries {
		first, rest, _ := strings.Cut(e.name, "/")
		switch {
		case top == "":
			top = first
		case first != top:
			return ""
		}
		if rest != "" {
			deeper = true
		} else if e.hdr.Typeflag != tar.TypeDir {
			return "" // a file at the top: there is no top folder
		}
	}
	if !deeper {
		return ""
	}
	return top
}

// insideTop reports whether a slash path, relative to the package's root, stays inside it.
func insideTop(p string) bool {
	p = path.Clean(p)
	return p != ".." && !strings.HasPrefix(p, "../") && !path.IsAbs(p)
}

// noSymlinkBetween refuses a folder reached through a symlink below root, so that no
// entry is written anywhere but where its name says.
func noSymlinkBetween(root, dir string) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil || !filepath.IsLocal(rel) {
		return errors.New("it escapes the package folder")
	}
	cur := root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if part == "." {
			continue
		}
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return errors.New("it is written through a symlink")
		}
	}
	return nil
}

// writeNew writes a file that must not exist yet (two entries of one name, or a file
// over a link, are refused rather than followed).
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
